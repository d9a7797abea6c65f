"""Start the real gateway against a fake Bot API and any Rasa URL; talk to it like a user.

``GatewayHarness`` is what the tests (and the lead's end-to-end test with the real Rasa and
action server) use:

    harness = await start_gateway(api, rasa_url="http://127.0.0.1:5005")
    await harness.say(1001, "荣军卡怎么办理")
    texts = await harness.replies(1001, 1)
    await harness.close()
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp

from bot.channels.telegram.app import Gateway
from bot.channels.telegram.config import GatewayConfig
from tests.channels.telegram.fake_bot_api import ApiCall, FakeBotApi, callback_update, text_update

PUSH_TOKEN = "test-push-token"

#: Fast settings for tests: small backoffs and intervals, a free HTTP port, no outbox loop.
TEST_TUNING: dict[str, Any] = {
    "port": 0,
    "push_token": PUSH_TOKEN,
    "rasa_backoff": 0.05,
    "rasa_connect_timeout": 2.0,
    "rasa_timeout": 10.0,
    "pending_retry_interval": 0.2,
    "pending_retry_max_interval": 0.5,
    "poll_timeout": 2,
    "outbox_interval": None,
}


class GatewayHarness:
    def __init__(self, gateway: Gateway, api: FakeBotApi) -> None:
        self.gateway = gateway
        self.api = api

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.http_port}"

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """The user writes ``text`` in chat ``chat_id`` (see ``text_update`` for kwargs)."""
        return await self.api.inject(text_update(chat_id, text, **kwargs))

    async def press(self, message: dict[str, Any], data: str, **kwargs: Any) -> dict[str, Any]:
        return await self.api.inject(callback_update(message, data, **kwargs))

    async def replies(self, chat_id: int, count: int, timeout: float = 5.0) -> list[str]:
        """Wait until ``count`` messages were sent to the chat; returns all texts so far."""
        await self.api.wait_for("sendMessage", count, chat_id=chat_id, timeout=timeout)
        return self.api.texts_to(chat_id)

    def sent(self, chat_id: int, method: str = "sendMessage") -> list[ApiCall]:
        return self.api.calls_of(method, chat_id)

    async def push(self, body: Any, token: str | None = PUSH_TOKEN) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.http_url}/push", json=body, headers=headers) as resp,
        ):
            return resp.status, await resp.json(content_type=None)

    async def close(self) -> None:
        await self.gateway.stop()


async def start_gateway(
    api: FakeBotApi,
    rasa_url: str,
    *,
    gateway_kwargs: dict[str, Any] | None = None,
    **overrides: Any,
) -> GatewayHarness:
    """Start a gateway whose Telegram side is ``api`` and whose Rasa is ``rasa_url``."""
    config = GatewayConfig(token=api.token, rasa_url=rasa_url, api_base_url=api.base_url)
    config = dataclasses.replace(config, **{**TEST_TUNING, **overrides})
    gateway = Gateway(config, **(gateway_kwargs or {}))
    await gateway.start()
    return GatewayHarness(gateway, api)
