"""Access token: cached, one fetch at a time, refreshed before expiry and after 40001/42001."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.wechat.api import Unreachable, WeChatApi, WeChatApiError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def api(fake_api):
    clock = Clock()
    client = WeChatApi(
        fake_api.base_url, fake_api.appid, fake_api.secret, refresh_margin=300, clock=clock
    )
    client.clock = clock
    yield client
    await client.close()


async def test_token_is_fetched_once_and_reused(api, fake_api):
    for i in range(5):
        await api.send_text("oUSER_api_1", f"第{i}条")
    assert fake_api.token_requests == 1
    assert {s.token for s in fake_api.sent} == {"tok-1"}


async def test_concurrent_callers_share_one_refresh(api, fake_api):
    fake_api.token_delay = 0.2
    await asyncio.gather(*(api.send_text(f"oUSER_api_{i}", "你好") for i in range(20)))
    assert fake_api.token_requests == 1
    assert len(fake_api.sent) == 20


async def test_token_is_refreshed_before_it_expires(api, fake_api):
    await api.send_text("oUSER_api_1", "一")
    api.clock.now += 7200 - 300 - 1  # still more than the margin left
    await api.send_text("oUSER_api_1", "二")
    assert fake_api.token_requests == 1
    api.clock.now += 2  # inside the last five minutes: fetch a new one before WeChat expires it
    await api.send_text("oUSER_api_1", "三")
    assert fake_api.token_requests == 2
    assert [s.token for s in fake_api.sent] == ["tok-1", "tok-1", "tok-2"]


async def test_expired_token_is_refreshed_once_and_the_message_sent(api, fake_api):
    await api.send_text("oUSER_api_1", "一")
    fake_api.expire_tokens()  # e.g. another process fetched a new token
    await api.send_text("oUSER_api_1", "二")
    assert fake_api.texts_to("oUSER_api_1") == ["一", "二"]
    assert fake_api.token_requests == 2


async def test_a_token_wechat_keeps_refusing_is_an_error_not_a_loop(api, fake_api):
    fake_api.errcode_once = [40001, 40001]
    with pytest.raises(WeChatApiError) as raised:
        await api.send_text("oUSER_api_1", "一")
    assert raised.value.errcode == 40001
    assert fake_api.token_requests == 2


async def test_outside_the_48_hour_window_is_unreachable(api, fake_api):
    fake_api.outside_window.add("oUSER_api_gone")
    with pytest.raises(Unreachable) as raised:
        await api.send_text("oUSER_api_gone", "提醒")
    assert raised.value.reason == "outside_window" and raised.value.errcode == 45015


async def test_wrong_secret_is_reported(fake_api):
    client = WeChatApi(fake_api.base_url, fake_api.appid, "wrong")
    try:
        with pytest.raises(WeChatApiError, match="40125"):
            await client.access_token()
    finally:
        await client.close()


async def test_unreachable_api_is_a_retryable_error():
    client = WeChatApi("http://127.0.0.1:9", "wx", "s", timeout=2)
    try:
        with pytest.raises(WeChatApiError) as raised:
            await client.access_token()
        assert raised.value.retryable
    finally:
        await client.close()
