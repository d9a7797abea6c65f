"""Authorisation for EVERY registered route, found by walking app.router (new pages included)."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp import web

from bot.console.kit import is_public, route_roles
from tests.console.conftest import login

# The only routes anonymous users may use (everything else: login required).
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/chat"),
    ("POST", "/chat/api/message"),
    ("GET", "/chat/ws"),
    ("POST", "/push"),
}
# Only this one skips CSRF: machine-to-machine, authenticated by the Bearer push token.
CSRF_EXEMPT = {("POST", "/push")}
# Routes of this package that must be supervisor-only (pages added later declare their own
# roles with @require_role; the generic tests below enforce whatever they declare).
SUPERVISOR_ONLY = {
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/{user_id}/active"),
    ("GET", "/pii/log"),
}
SAMPLE = {"sender_id": "web-0123456789abcdef01234567", "handoff_id": "1", "user_id": "1"}


def app_routes(app: web.Application) -> list[tuple[str, str, object]]:
    found = []
    for route in app.router.routes():
        if route.method == "HEAD" or isinstance(route.resource, web.StaticResource):
            continue
        found.append((route.method, route.resource.canonical, route.handler))
    assert len(found) > 20
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: SAMPLE.get(m.group(1), "1"), path)


def is_page(method: str, path: str) -> bool:
    return method == "GET" and not path.startswith("/api/") and not path.endswith("/ws")


async def test_route_table_matches_the_policy(client):
    routes = app_routes(client.server.app)
    public = {(m, p) for m, p, h in routes if is_public(h)}
    assert public == PUBLIC
    supervisor = {(m, p) for m, p, h in routes if route_roles(h) == ("supervisor",)}
    assert supervisor >= SUPERVISOR_ONLY
    exempt = {(m, p) for m, p, h in routes if getattr(h, "_rj_csrf_exempt", False)}
    assert exempt == CSRF_EXEMPT


async def test_anonymous_is_refused_everywhere_except_public_routes(client):
    checked = 0
    for method, path, handler in app_routes(client.server.app):
        if is_public(handler):
            continue
        url = concrete(path)
        resp = await client.request(method, url, allow_redirects=False)
        if is_page(method, path):
            assert resp.status == 302, (method, path, resp.status)
            assert resp.headers["Location"].startswith("/login?next="), (method, path)
        else:
            assert resp.status == 401, (method, path, resp.status)
            body = await resp.json()
            assert body["error"] == "unauthorized" and "登录" in body["message"]
        checked += 1
    assert checked >= 15


async def test_agents_are_refused_supervisor_routes(client, accounts):
    token = await login(client, "agent1")
    for method, path, handler in app_routes(client.server.app):
        if route_roles(handler) != ("supervisor",):
            continue
        resp = await client.request(
            method, concrete(path), headers={"X-CSRF-Token": token}, allow_redirects=False
        )
        assert resp.status == 403, (method, path, resp.status)
        assert "没有权限" in await resp.text()


async def test_every_state_changing_route_needs_the_csrf_token(client, accounts):
    await login(client, "sup")
    for method, path, _handler in app_routes(client.server.app):
        if method == "GET" or (method, path) in CSRF_EXEMPT:
            continue
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            resp = await client.request(
                method, concrete(path), headers=headers, data={"_csrf": "x"}, allow_redirects=False
            )
            assert resp.status == 403, (method, path, headers, resp.status)
            assert "页面已过期" in await resp.text()


async def test_login_form_itself_needs_csrf(client, accounts):
    resp = await client.post(
        "/login", data={"username": "sup", "password": "x"}, allow_redirects=False
    )
    assert resp.status == 403


async def test_anonymous_agent_websocket_is_refused(client):
    resp = await client.get(
        "/ws",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 401


async def test_static_assets_and_pages_for_logged_in_users(client, accounts):
    for name in ("console.css", "console.js", "chat.js"):
        assert (await client.get(f"/static/{name}")).status == 200
    await login(client, "agent1")
    for path in (
        "/live",
        "/queue",
        "/phone",
        f"/conversations/{SAMPLE['sender_id']}",
        "/api/conversations",
        "/api/queue",
    ):
        assert (await client.get(path)).status == 200, path
    assert (await client.get("/nowhere")).status == 404


async def test_cross_site_websocket_handshake_is_refused(client, accounts):
    await login(client, "agent1")
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/ws", headers={"Origin": "http://evil.example"})
    ws = await client.ws_connect("/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    hello = await ws.receive_json(timeout=2)
    assert hello["type"] == "hello"
    await ws.close()
