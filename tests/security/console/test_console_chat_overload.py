"""Finding 4 (web chat): overload and a slow or failing Rasa give a polite "busy" answer, never
an empty 5xx; messages and new chat sessions are limited per client IP and per session;
``RJ_RATE_LIMITS=off`` lifts every limit."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from bot.console.config import ConsoleConfig
from bot.console.ratelimit import InFlight, build_limits
from bot.core import settings
from tests.console.conftest import csrf_of

BUSY = "系统繁忙"


async def open_chat(client) -> str:
    return await csrf_of(client, "/chat")


async def say(client, token: str, text: str = "你好"):
    return await client.post(
        "/chat/api/message", json={"text": text}, headers={"X-CSRF-Token": token}
    )


async def slow_rasa(aiohttp_server, seconds: float, *, serial: bool = False):
    """A Rasa REST channel that takes ``seconds`` per message (one at a time when ``serial``)."""
    lock = asyncio.Lock()

    async def webhook(request):
        body = await request.json()
        if serial:
            async with lock:
                await asyncio.sleep(seconds)
        else:
            await asyncio.sleep(seconds)
        return web.json_response([{"recipient_id": body["sender"], "text": "您好"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


async def test_a_rasa_timeout_is_a_polite_busy_answer(make_client, aiohttp_server):
    client = await make_client(rasa_url=await slow_rasa(aiohttp_server, 2.0), rasa_timeout=0.3)
    token = await open_chat(client)
    resp = await say(client, token)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
    body = await resp.json()
    assert body["error"] == "busy_timeout" and BUSY in body["message"]


async def test_200_concurrent_users_all_get_an_answer_or_busy(make_client, browser, aiohttp_server):
    """A Rasa that handles one message per 50 ms cannot serve 200 people at once within the 2 s
    timeout: the surplus is told "busy"; nobody gets an empty body or a 5xx other than 503 busy."""
    url = await slow_rasa(aiohttp_server, 0.05, serial=True)
    client = await make_client(
        rasa_url=url,
        rasa_timeout=2.0,
        chat_new_sessions_per_hour=1000,
        chat_ip_per_minute=1000,
        chat_max_inflight=16,
        chat_queue_wait=1.0,
    )
    users = [client] + [await browser(client) for _ in range(199)]
    tokens = [await open_chat(user) for user in users]
    started = time.monotonic()
    responses = await asyncio.gather(*(say(u, t) for u, t in zip(users, tokens, strict=True)))
    elapsed = time.monotonic() - started
    answered = busy = 0
    for resp in responses:
        body = await resp.json()
        if resp.status == 200:
            assert body["messages"][0]["text"] == "您好"
            answered += 1
        else:
            assert resp.status == 503 and BUSY in body["message"], (resp.status, body)
            busy += 1
    print(f"200 concurrent web-chat users: {answered} answered, {busy} busy, {elapsed:.1f} s")
    assert answered >= 1 and answered + busy == 200  # (30 / 170 in 3 s on an idle machine)


async def test_messages_beyond_the_inflight_cap_are_turned_away_quickly():
    cap = InFlight(limit=2, wait=0.1)
    assert await cap.acquire() and await cap.acquire()
    started = time.monotonic()
    assert await cap.acquire() is False  # a third waits 0.1 s for a place, then is told "busy"
    assert time.monotonic() - started < 1
    cap.release()
    assert await cap.acquire() is True
    assert cap.inside == 2


async def test_messages_are_limited_per_session_and_per_ip(make_client, browser, fake_rasa):
    client = await make_client(chat_session_per_minute=3, chat_ip_per_minute=5)
    token = await open_chat(client)
    assert [(await say(client, token)).status for _ in range(3)] == [200, 200, 200]
    resp = await say(client, token)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
    assert "稍等" in (await resp.json())["message"]
    # same IP, another session: one message left of the IP's 5 (the refused one counted too)
    other = await browser(client)
    other_token = await open_chat(other)
    assert [(await say(other, other_token)).status for _ in range(2)] == [200, 429]
    assert len(fake_rasa.calls_to("/webhooks/rest/webhook")) == 4


async def test_minting_chat_sessions_is_limited_per_ip(make_client, browser):
    client = await make_client(chat_new_sessions_per_hour=2)
    for _ in range(2):
        assert (await (await browser(client)).get("/chat")).status == 200
    fresh = await browser(client)
    resp = await fresh.get("/chat")
    assert resp.status == 429 and "人太多" in await resp.text()
    assert (await fresh.post("/chat/api/message", json={"text": "你好"})).status in (403, 429)


async def test_rate_limits_off_lifts_every_limit(make_client, browser, monkeypatch):
    monkeypatch.setenv("RJ_RATE_LIMITS", "off")
    assert settings.current().rate_limits is False
    assert ConsoleConfig.from_env().rate_limits is False
    limits = build_limits(ConsoleConfig(rate_limits=False, chat_session_per_minute=1))
    assert all(limits.chat_session.hit("web-1") for _ in range(50))
    monkeypatch.setenv("RJ_RATE_LIMITS", "on")
    assert settings.current().rate_limits is True
    client = await make_client(
        rate_limits=False, chat_session_per_minute=1, chat_new_sessions_per_hour=1
    )
    token = await open_chat(client)
    assert [(await say(client, token)).status for _ in range(3)] == [200, 200, 200]
    assert (await (await browser(client)).get("/chat")).status == 200
