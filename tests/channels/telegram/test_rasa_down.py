"""Rasa (or the action server behind it) failing: retry, apologise, keep, resend, never crash."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.channels.rasa_client import RasaClient, RasaRejected, RasaTimeout, RasaUnavailable
from bot.channels.telegram.texts import default_texts

pytestmark = pytest.mark.asyncio
TEXTS = default_texts()


async def _health(harness) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{harness.http_url}/health") as resp,
    ):
        assert resp.status == 200
        return await resp.json()


async def test_5xx_retried_then_queued_and_delivered_when_back(gateway, fake_api, fake_rasa):
    fake_rasa.status = 503
    await gateway.say(6001, "我要预约报到")
    assert await gateway.replies(6001, 1) == [TEXTS.get("rasa_down")]
    assert fake_rasa.attempts == 3  # the configured attempts, then the apology
    await gateway.say(6001, "市南区")  # joins the queue behind the first: no second apology
    await asyncio.sleep(0.3)
    assert fake_api.texts_to(6001) == [TEXTS.get("rasa_down")]
    health = await _health(gateway)  # the gateway is alive and knows what it keeps
    assert health["pending_messages"] == 2
    fake_rasa.status = None
    texts = await gateway.replies(6001, 4, timeout=5)
    assert texts == [
        TEXTS.get("rasa_down"),
        TEXTS.get("pending_delivered"),
        "收到：我要预约报到",
        "收到：市南区",
    ]
    assert fake_rasa.messages("tg-6001") == ["我要预约报到", "市南区"]
    # every attempt of one message, queued resends too, carries its update's id (Rasa answers
    # a message it already kept from the stored turn instead of running it again)
    ids = {
        text: {i for t, i in fake_rasa.attempt_ids if t == text}
        for text in ("我要预约报到", "市南区")
    }
    assert all(len(one) == 1 for one in ids.values()), ids
    first, second = (next(iter(ids[t])) for t in ("我要预约报到", "市南区"))
    assert first.startswith("tg:") and second.startswith("tg:") and first != second
    assert (await _health(gateway))["pending_messages"] == 0
    await gateway.say(6001, "谢谢")  # back to normal: no notice any more
    assert (await gateway.replies(6001, 5))[-1] == "收到：谢谢"


async def test_connection_refused_then_rasa_restarts(gateway_factory, fake_api, fake_rasa):
    harness = await gateway_factory(fake_rasa.url)
    port = fake_rasa.port
    await fake_rasa.stop()
    await harness.say(6002, "荣军卡")
    await harness.say(6003, "荣军保")
    await harness.replies(6002, 1)
    await harness.replies(6003, 1)
    await fake_rasa.start(port)
    texts = await harness.replies(6002, 3, timeout=5)
    assert texts[1:] == [TEXTS.get("pending_delivered"), "收到：荣军卡"]
    assert (await harness.replies(6003, 3, timeout=5))[-1] == "收到：荣军保"


async def test_timeout_is_not_resent(gateway_factory, fake_api, fake_rasa):
    fake_rasa.delay = 1.0
    harness = await gateway_factory(fake_rasa.url, rasa_timeout=0.3)
    await harness.say(6004, "帮我预约明天上午")
    assert await harness.replies(6004, 1) == [TEXTS.get("rasa_timeout")]
    await asyncio.sleep(0.8)
    assert fake_rasa.attempts == 1  # a slow booking must not be booked twice
    assert len(harness.gateway.pending) == 0


async def test_rejected_message_gets_error_text(gateway_factory, fake_api, fake_rasa):
    fake_rasa.reply = lambda s, m, md: 400
    harness = await gateway_factory(fake_rasa.url)
    await harness.say(6005, "x")
    assert await harness.replies(6005, 1) == [TEXTS.get("rasa_error")]
    assert fake_rasa.attempts == 1


async def test_full_queue_asks_to_resend(gateway_factory, fake_api, fake_rasa):
    fake_rasa.status = 500
    harness = await gateway_factory(fake_rasa.url, pending_per_chat=2, rasa_attempts=1)
    for text in ("一", "二", "三"):
        await harness.say(6006, text)
    texts = await harness.replies(6006, 2)
    assert texts == [TEXTS.get("rasa_down"), TEXTS.get("rasa_down_not_saved")]
    assert len(harness.gateway.pending) == 2


async def test_paused_conversation_empty_answer_sends_nothing(gateway_factory, fake_api, fake_rasa):
    fake_rasa.reply = lambda s, m, md: [] if s == "tg-6007" else [{"recipient_id": s, "text": "ok"}]
    harness = await gateway_factory(fake_rasa.url)
    await harness.say(6007, "人工客服在吗")
    await harness.say(6008, "标记")
    await harness.replies(6008, 1)
    await asyncio.sleep(0.05)
    assert fake_api.texts_to(6007) == []


async def test_rasa_client_failure_kinds(fake_rasa):
    client = RasaClient(fake_rasa.url, attempts=3, backoff=0.01, timeout=1.0)
    try:
        assert await client.send("tg-1", "你好") == [{"recipient_id": "tg-1", "text": "收到：你好"}]
        fake_rasa.status = 502
        with pytest.raises(RasaUnavailable):
            await client.send("tg-1", "你好")
        assert fake_rasa.attempts == 4
        with pytest.raises(RasaUnavailable):
            await client.send("tg-1", "你好", attempts=1)
        assert fake_rasa.attempts == 5
        fake_rasa.status = None
        fake_rasa.reply = lambda s, m, md: {"not": "a list"}
        with pytest.raises(RasaRejected):
            await client.send("tg-1", "你好")
        fake_rasa.reply = lambda s, m, md: []
        fake_rasa.delay = 1.5
        with pytest.raises(RasaTimeout):
            await client.send("tg-1", "你好")
    finally:
        await client.close()
    dead = RasaClient("http://127.0.0.1:9", attempts=2, backoff=0.01)
    try:
        with pytest.raises(RasaUnavailable):
            await dead.send("tg-1", "x")
    finally:
        await dead.close()
