"""Webhook mode: Telegram's secret token is checked on every request."""

from __future__ import annotations

import aiohttp
import pytest
import pytest_asyncio

from tests.channels.telegram.fake_bot_api import text_update

pytestmark = pytest.mark.asyncio
SECRET = "s3cret-Token_for-tests"


async def _post(url: str, update: dict, headers: dict) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={**update, "update_id": 1}, headers=headers) as resp,
    ):
        return resp.status


@pytest_asyncio.fixture
async def webhook_gateway(gateway_factory, fake_rasa):
    return await gateway_factory(
        fake_rasa.url, webhook_url="https://bot.example.invalid/tg/hook", webhook_secret=SECRET
    )


async def test_set_webhook_with_secret_and_no_polling(webhook_gateway, fake_api):
    (call,) = fake_api.calls_of("setWebhook")
    assert call.params["url"] == "https://bot.example.invalid/tg/hook"
    assert call.params["secret_token"] == SECRET
    assert set(call.params["allowed_updates"]) == {"message", "callback_query"}
    assert webhook_gateway.gateway.application.updater is None


async def test_right_secret_is_processed(webhook_gateway, fake_api, fake_rasa):
    status = await _post(
        f"{webhook_gateway.http_url}/tg/hook",
        text_update(4001, "你好"),
        {"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert status == 200
    assert await webhook_gateway.replies(4001, 1) == ["收到：你好"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        {"X-Telegram-Bot-Api-Secret-Token": ""},
        {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
    ],
)
async def test_wrong_or_missing_secret_is_refused(webhook_gateway, fake_api, fake_rasa, headers):
    url = f"{webhook_gateway.http_url}/tg/hook"
    assert await _post(url, text_update(4002, "攻击"), headers) == 403
    # A genuine update afterwards is processed: proof the refused one was not queued.
    ok = await _post(url, text_update(4003, "正常"), {"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert ok == 200
    await webhook_gateway.replies(4003, 1)
    assert fake_rasa.messages() == ["正常"]
    assert fake_api.calls_of("sendMessage", 4002) == []


async def test_generated_secret_when_none_configured(gateway_factory, fake_api, fake_rasa):
    harness = await gateway_factory(fake_rasa.url, webhook_url="https://bot.example.invalid/")
    secret = fake_api.calls_of("setWebhook")[0].params["secret_token"]
    assert secret and len(secret) >= 32
    url = f"{harness.http_url}/telegram/webhook"  # default route when the URL has no path
    assert await _post(url, text_update(4004, "x"), {}) == 403
    assert (
        await _post(url, text_update(4004, "x"), {"X-Telegram-Bot-Api-Secret-Token": secret}) == 200
    )
    await harness.replies(4004, 1)


async def test_polling_mode_webhook_route_refuses_everything(gateway, fake_rasa):
    url = f"{gateway.http_url}/telegram/webhook"
    assert await _post(url, text_update(4005, "x"), {"X-Telegram-Bot-Api-Secret-Token": ""}) == 403
    assert (
        await _post(url, text_update(4005, "x"), {"X-Telegram-Bot-Api-Secret-Token": "None"}) == 403
    )
    assert fake_rasa.requests == []


async def test_malformed_body_with_right_secret_is_400(webhook_gateway):
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{webhook_gateway.http_url}/tg/hook",
            data="not json",
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        ) as resp,
    ):
        assert resp.status == 400
