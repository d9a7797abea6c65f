"""A stand-in for Rasa's REST channel, for unit-level gateway tests and the benchmark.

Answers ``POST /webhooks/rest/webhook`` with ``reply(sender, message, metadata)`` (default: an
echo), records every request, and can pretend to be down (``status = 503``) or be stopped and
restarted on the same port (connection refused in between). End-to-end tests use the real Rasa
instead: the gateway fixtures take any RASA_URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

Reply = list | int


@dataclass
class RasaRequest:
    sender: str
    message: str
    metadata: dict[str, Any]
    message_id: str | None = None


def echo(sender: str, message: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"recipient_id": sender, "text": f"收到：{message}"}]


class FakeRasa:
    def __init__(
        self, reply: Callable[[str, str, dict[str, Any]], Reply] = echo, delay: float = 0.0
    ) -> None:
        self.reply = reply
        self.delay = delay
        self.status: int | None = None  # set to e.g. 503 to fail every request
        self.requests: list[RasaRequest] = []
        self.attempts = 0  # every POST, including failed ones
        self.attempt_ids: list[tuple[str, str | None]] = []  # (message, message_id) of each POST
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> int:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/", self._hello)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port or self.port or 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def messages(self, sender: str | None = None) -> list[str]:
        return [r.message for r in self.requests if sender is None or r.sender == sender]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[RasaRequest]:
        async def waiter() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.requests) >= count)

        try:
            await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"expected {count} Rasa requests, got {self.messages()}") from None
        return self.requests

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: fake")

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.attempts += 1
        self.attempt_ids.append((body.get("message", ""), body.get("message_id")))
        if self.status is not None:
            return web.json_response({"error": "down"}, status=self.status)
        if self.delay:
            await asyncio.sleep(self.delay)
        sender, message = body.get("sender", ""), body.get("message", "")
        metadata = body.get("metadata") or {}
        async with self._changed:
            self.requests.append(RasaRequest(sender, message, metadata, body.get("message_id")))
            self._changed.notify_all()
        result = self.reply(sender, message, metadata)
        if isinstance(result, int):
            return web.json_response({"error": "scripted"}, status=result)
        return web.json_response(result)
