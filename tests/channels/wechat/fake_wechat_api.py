"""A stand-in for WeChat's server API (api.weixin.qq.com): access tokens and 客服 messages.

* ``GET /cgi-bin/token`` issues ``tok-<n>`` tokens valid ``expires_in`` seconds (after
  ``token_delay`` seconds, to let concurrent callers pile up); wrong AppID/secret → 40125.
* ``POST /cgi-bin/message/custom/send`` records ``(openid, content)``; unknown tokens → 40001,
  tokens made stale with :meth:`expire_tokens` → 42001, users in ``outside_window`` → 45015.
Messages are recorded with the token used, so tests can see which token a call carried.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import web


@dataclass
class Sent:
    openid: str
    content: str
    token: str


class FakeWeChatApi:
    def __init__(
        self, appid: str = "wx-test-appid", secret: str = "test-secret", expires_in: int = 7200
    ) -> None:
        self.appid, self.secret, self.expires_in = appid, secret, expires_in
        self.token_delay = 0.0
        self.token_requests = 0
        self.valid_tokens: set[str] = set()
        self.stale_tokens: set[str] = set()
        self.outside_window: set[str] = set()
        self.errcode_once: list[int] = []  # next custom/send calls answer these codes
        self.sent: list[Sent] = []
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 (expired)."""
        self.stale_tokens |= self.valid_tokens
        self.valid_tokens.clear()

    def texts_to(self, openid: str) -> list[str]:
        return [s.content for s in self.sent if s.openid == openid]

    async def wait_for(
        self, count: int, openid: str | None = None, timeout: float = 5.0
    ) -> list[str]:
        def enough() -> bool:
            return len([s for s in self.sent if openid is None or s.openid == openid]) >= count

        async def waiter() -> None:
            async with self._changed:
                await self._changed.wait_for(enough)

        try:
            await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"expected {count} 客服 messages, got {self.sent}") from None
        return self.texts_to(openid) if openid else [s.content for s in self.sent]

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        query = request.query
        if query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.appid or query.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        token = f"tok-{self.token_requests}"
        self.valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _custom_send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        raw = await request.read()
        body = json.loads(raw.decode("utf-8"))
        if token in self.stale_tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if token not in self.valid_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        openid = body.get("touser", "")
        if self.errcode_once:
            code = self.errcode_once.pop(0)
            return web.json_response({"errcode": code, "errmsg": "scripted"})
        if openid in self.outside_window:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit"})
        if body.get("msgtype") != "text" or len(body["text"]["content"].encode()) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        async with self._changed:
            self.sent.append(Sent(openid, body["text"]["content"], token))
            self._changed.notify_all()
        return web.json_response({"errcode": 0, "errmsg": "ok"})
