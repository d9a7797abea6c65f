"""Delivers due outbox messages (appointment reminders) whose recipient starts with ``tg-``.

The claim/send/mark loop is shared by every gateway (``bot/channels/outbox_delivery.py``); this
module only says how one text reaches a Telegram chat and which failures are worth a retry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram.error import TelegramError

from bot.channels.telegram.push import parse_recipient
from bot.channels.telegram.rendering import Renderer
from bot.core import clock, outbox_delivery
from bot.core.outbox_delivery import DeliveryFailed


class OutboxDelivery(outbox_delivery.OutboxDelivery):
    """The shared delivery loop, sending through the Telegram renderer."""

    def __init__(
        self,
        renderer: Renderer,
        *,
        prefix: str = "tg-",
        engine: Any = None,
        now: Callable[[], datetime] = clock.now,
        batch: int = 50,
    ) -> None:
        self.renderer = renderer
        super().__init__(self._send, prefix=prefix, engine=engine, now=now, batch=batch)

    async def _send(self, recipient: str, text: str) -> None:
        chat_id = parse_recipient(recipient)
        if chat_id is None:
            raise DeliveryFailed(f"recipient {recipient!r} is not tg-<chat_id>")
        try:
            await self.renderer.send_text(chat_id, text)
        except TelegramError as exc:  # retried with the outbox's backoff, up to its attempts
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
