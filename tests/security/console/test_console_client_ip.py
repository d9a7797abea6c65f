"""Finding 4 / 11 follow-up: who "the client" is for every per-IP limit, and /chat/ws limits.

Before: ``X-Forwarded-For`` was never read, so behind a reverse proxy every user shared the
proxy's one address (one chatty user locked out everyone); and /chat/ws took any number of
connections and frames from one IP or one chat session. Now the header counts only from
``RJ_TRUSTED_PROXIES`` (a client cannot pick a fresh "IP" per request), and /chat/ws is limited
per IP, per session, in open sockets and in frames.
"""

from __future__ import annotations

import pytest
from aiohttp import WSMsgType

from bot.console.config import ConsoleConfig
from bot.console.kit import HUB
from bot.core import client_address, settings
from tests.console.conftest import csrf_of, eventually

LOOPBACK = client_address.parse_trusted("loopback")


# ------------------------------------------------------------------ the one function


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        ("203.0.113.7", "198.51.100.1", "", "203.0.113.7"),  # nobody trusted: the peer
        ("203.0.113.7", "198.51.100.1", "loopback", "203.0.113.7"),  # peer is not a proxy
        ("127.0.0.1", "198.51.100.1", "loopback", "198.51.100.1"),
        ("127.0.0.1", None, "loopback", "127.0.0.1"),
        # a client-supplied first entry cannot hide the address the proxy saw (right-most)
        ("127.0.0.1", "1.1.1.1, 198.51.100.1", "loopback", "198.51.100.1"),
        # a chain of trusted proxies is walked from the right
        ("10.0.0.2", "198.51.100.1, 10.0.0.9", "10.0.0.0/8", "198.51.100.1"),
        ("10.0.0.2", "garbage, 10.0.0.9", "10.0.0.0/8", "10.0.0.9"),
        ("::1", "2001:db8::5", "loopback", "2001:db8::5"),
        ("::ffff:127.0.0.1", "198.51.100.1", "loopback", "198.51.100.1"),
        ("127.0.0.1", "198.51.100.1:4711", "loopback", "198.51.100.1"),
        (None, "198.51.100.1", "loopback", "unknown"),
    ],
)
def test_client_ip_believes_forwarded_for_only_from_trusted_proxies(
    peer, header, trusted, expected
):
    nets = client_address.parse_trusted(trusted)
    assert client_address.client_ip(peer, header, nets) == expected


def test_trusted_proxies_come_from_the_environment_and_default_to_none(monkeypatch):
    monkeypatch.delenv("RJ_TRUSTED_PROXIES", raising=False)
    assert settings.current().trusted_proxies == ""
    assert ConsoleConfig.from_env().trusted_proxies == ()
    monkeypatch.setenv("RJ_TRUSTED_PROXIES", "loopback, 10.1.0.0/16")
    assert [str(n) for n in ConsoleConfig.from_env().trusted_proxies] == [
        "127.0.0.0/8",
        "::1/128",
        "10.1.0.0/16",
    ]
    with pytest.raises(ValueError):
        client_address.parse_trusted("10.0.0.0/33")


# ------------------------------------------------------------------ through the web chat


async def _say(user, ip: str | None = None):
    token = await csrf_of(user, "/chat")
    headers = {"X-CSRF-Token": token}
    if ip:
        headers["X-Forwarded-For"] = ip
    return await user.post("/chat/api/message", json={"text": "你好"}, headers=headers)


async def test_behind_a_trusted_proxy_each_client_has_its_own_ip_limit(make_client, browser):
    client = await make_client(
        trusted_proxies=LOOPBACK, chat_ip_per_minute=2, chat_session_per_minute=100
    )
    users = [client] + [await browser(client) for _ in range(3)]
    # one client behind the proxy uses up its IP's messages …
    assert [(await _say(users[0], "198.51.100.1")).status for _ in range(3)] == [200, 200, 429]
    # … another client behind the same proxy is not affected
    assert (await _say(users[1], "198.51.100.2")).status == 200


async def test_a_forged_forwarded_for_does_not_escape_the_limit(make_client, browser):
    """Without RJ_TRUSTED_PROXIES (the default) the header is ignored: a fresh fake address per
    request still counts against the real peer."""
    client = await make_client(chat_ip_per_minute=2, chat_session_per_minute=100)
    user = await browser(client)
    statuses = [(await _say(user, f"198.51.100.{n}")).status for n in range(3)]
    assert statuses == [200, 200, 429]


async def test_minting_chat_sessions_uses_the_forwarded_client(make_client, browser):
    client = await make_client(trusted_proxies=LOOPBACK, chat_new_sessions_per_hour=1)
    first, second, third = [await browser(client) for _ in range(3)]
    forwarded = {"X-Forwarded-For": "198.51.100.1"}
    assert (await first.get("/chat", headers=forwarded)).status == 200
    assert (await second.get("/chat", headers=forwarded)).status == 429
    assert (await third.get("/chat", headers={"X-Forwarded-For": "198.51.100.2"})).status == 200


# ------------------------------------------------------------------ /chat/ws


async def _open_ws(user, ip: str | None = None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return await user.ws_connect("/chat/ws", headers=headers)


async def test_websocket_connections_are_limited_per_session(make_client):
    client = await make_client(chat_ws_per_minute=3)
    await csrf_of(client, "/chat")  # the chat session
    for _ in range(3):
        ws = await _open_ws(client)
        assert (await ws.receive_json())["type"] == "hello"
        await ws.close()
    resp = await client.get(
        "/chat/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0


async def test_websocket_connections_are_limited_per_ip(make_client, browser):
    client = await make_client(chat_ws_per_minute=1, trusted_proxies=LOOPBACK)  # IP: 4 a minute
    users = [await browser(client) for _ in range(5)]
    for user in users:
        await csrf_of(user, "/chat")
    opened = [await _open_ws(user, "198.51.100.1") for user in users[:4]]
    with pytest.raises(Exception) as excinfo:  # aiohttp.WSServerHandshakeError
        await _open_ws(users[4], "198.51.100.1")
    assert getattr(excinfo.value, "status", None) == 429
    assert (await (await _open_ws(users[4], "198.51.100.2")).receive_json())["type"] == "hello"
    for ws in opened:
        await ws.close()


async def test_open_sockets_per_session_are_capped(make_client):
    client = await make_client(chat_ws_per_minute=100)
    await csrf_of(client, "/chat")
    sockets = [await _open_ws(client) for _ in range(4)]
    with pytest.raises(Exception) as excinfo:
        await _open_ws(client)
    assert getattr(excinfo.value, "status", None) == 429
    await sockets[0].close()
    hub = client.app[HUB]
    await eventually(lambda: sum(not ws.closed for s in hub.web_sockets.values() for ws in s) == 3)
    fifth = await _open_ws(client)
    assert (await fifth.receive_json())["type"] == "hello"
    for ws in sockets[1:] + [fifth]:
        await ws.close()


async def test_a_flood_of_frames_closes_the_socket(make_client):
    client = await make_client()
    await csrf_of(client, "/chat")
    ws = await _open_ws(client)
    assert (await ws.receive_json())["type"] == "hello"
    for _ in range(40):
        await ws.send_str("ping")
    kinds = []
    while True:
        msg = await ws.receive(timeout=5)
        kinds.append(msg.type)
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            break
    assert kinds.count(WSMsgType.TEXT) <= 30 and kinds[-1] != WSMsgType.TEXT
    assert ws.close_code == 1008


async def test_rate_limits_off_lifts_the_websocket_limits(make_client):
    client = await make_client(rate_limits=False, chat_ws_per_minute=1)
    await csrf_of(client, "/chat")
    sockets = [await _open_ws(client) for _ in range(6)]
    for ws in sockets:
        assert (await ws.receive_json())["type"] == "hello"
        await ws.close()
