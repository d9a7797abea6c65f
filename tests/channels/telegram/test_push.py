"""POST /push: authenticated delivery to a chat."""

from __future__ import annotations

import aiohttp
import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("token", [None, "wrong", "", "test-push-token-but-longer"])
async def test_wrong_or_missing_token_is_401(gateway, fake_api, token):
    status, body = await gateway.push({"recipient": "tg-7001", "text": "提醒"}, token=token)
    assert status == 401 and body["ok"] is False
    assert fake_api.calls_of("sendMessage", 7001) == []


async def test_other_scheme_is_401(gateway, fake_api):
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{gateway.http_url}/push",
            json={"recipient": "tg-7001", "text": "x"},
            headers={"Authorization": "Basic test-push-token"},
        ) as resp,
    ):
        assert resp.status == 401


async def test_push_delivers_text_and_buttons(gateway, fake_api):
    status, body = await gateway.push(
        {
            "recipient": "tg-7002",
            "text": "您的预约已确认：明天上午9:00，市南区退役军人服务中心（示例）。",
            "buttons": [
                {"title": "查看预约", "payload": "/check_appointment"},
                {
                    "title": "取消预约并重新选择时间",
                    "payload": '/cancel_appointment{"id":"预约12"}',
                },
            ],
        }
    )
    assert status == 200 and body == {"ok": True, "messages": 1}
    (call,) = fake_api.calls_of("sendMessage", 7002)
    assert call.params["text"].startswith("您的预约已确认")
    buttons = [b for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["查看预约", "取消预约并重新选择时间"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)


async def test_push_to_group_chat(gateway, fake_api):
    status, _ = await gateway.push({"recipient": "tg--1001234567", "text": "群通知"})
    assert status == 200
    assert fake_api.texts_to(-1001234567) == ["群通知"]


@pytest.mark.parametrize(
    "body",
    [
        {"recipient": "web-abc", "text": "x"},
        {"recipient": "tg-abc", "text": "x"},
        {"recipient": "tg-7003"},
        {"recipient": "tg-7003", "text": "   "},
        {"recipient": "tg-7003", "text": 5},
        {"recipient": "tg-7003", "text": "x", "buttons": "no"},
        ["not", "an", "object"],
    ],
)
async def test_bad_bodies_are_400(gateway, fake_api, body):
    status, result = await gateway.push(body)
    assert status == 400 and result["ok"] is False
    assert fake_api.calls_of("sendMessage") == []


async def test_blocked_chat_is_reported(gateway, fake_api):
    fake_api.fail_chats[7004] = (403, "Forbidden: bot was blocked by the user")
    status, body = await gateway.push({"recipient": "tg-7004", "text": "提醒"})
    assert status == 410 and body["retryable"] is False


async def test_default_push_token_comes_from_settings(
    gateway_factory, fake_rasa, monkeypatch, tmp_path
):
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_PUSH_TOKEN", "from-settings")
    harness = await gateway_factory(fake_rasa.url, push_token=None)
    status, _ = await harness.push({"recipient": "tg-7005", "text": "x"}, token="from-settings")
    assert status == 200
    status, _ = await harness.push({"recipient": "tg-7005", "text": "x"})
    assert status == 401
