"""The heart of the channel: one user message → Rasa → every reply item back to the chat.

Per-chat ordering: Telegram updates are processed concurrently (many users at once), but the
messages of one chat must reach Rasa — and their answers the user — in the order typed. Each chat
has a FIFO ``asyncio.Lock``; handlers take it before any other ``await``, so tasks created in
update order acquire it in that order.

On a Rasa outage the message goes to the :class:`~bot.channels.telegram.pending.PendingQueue`; a
background
loop re-sends queued messages (oldest chat first, in order within a chat) with growing pauses, and
a new message from a chat that still has queued ones joins the end of its queue, so order holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any

from telegram.error import TelegramError

from bot.channels.keyed_lock import KeyedLocks
from bot.channels.rasa_client import (
    RasaClient,
    RasaRejected,
    RasaTimeout,
    RasaUnavailable,
)
from bot.channels.telegram.pending import PendingMessage, PendingQueue
from bot.channels.telegram.rendering import Renderer
from bot.channels.telegram.texts import Texts

logger = logging.getLogger(__name__)

APOLOGY_EVERY = 120.0  # seconds between "your message is kept" notes in one outage


def sender_id(chat_id: int) -> str:
    """Rasa sender id of a Telegram chat (see the package docstring for groups)."""
    return f"tg-{chat_id}"


class Relay:
    """Forwards messages to Rasa, renders replies, and keeps/resends messages during outages."""

    def __init__(
        self,
        rasa: RasaClient,
        renderer: Renderer,
        texts: Texts,
        pending: PendingQueue,
        *,
        retry_interval: float = 5.0,
        retry_max_interval: float = 60.0,
    ) -> None:
        self.rasa = rasa
        self.renderer = renderer
        self.texts = texts
        self.pending = pending
        self.retry_interval = retry_interval
        self.retry_max_interval = retry_max_interval
        self._locks = KeyedLocks()  # by chat_id

    def chat_lock(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """FIFO lock of one chat (see :class:`KeyedLocks`)."""
        return self._locks.hold(chat_id)

    async def notify(self, chat_id: int, key: str, **fields: Any) -> None:
        """Send one of the channel's own texts; a Telegram failure here is only logged."""
        try:
            await self.renderer.send_text(chat_id, self.texts.get(key, **fields))
        except TelegramError as exc:
            logger.warning("could not send %s to %s: %s", key, chat_id, exc)

    async def forward(
        self, chat_id: int, text: str, metadata: dict[str, Any], message_id: str | None = None
    ) -> None:
        """Send ``text`` from ``chat_id`` to Rasa and deliver the answer (never raises).
        ``message_id`` (``tg:<update id>``) goes with every attempt, queued resends too."""
        async with self.chat_lock(chat_id):
            await self._forward_locked(chat_id, text, metadata, message_id)

    async def _forward_locked(
        self, chat_id: int, text: str, metadata: dict[str, Any], message_id: str | None = None
    ) -> None:
        message = PendingMessage(
            chat_id, sender_id(chat_id), text, metadata, message_id=message_id or uuid.uuid4().hex
        )
        if self.pending.has(chat_id):
            # Older messages are still waiting: keep the order, then try to catch up once.
            if not self.pending.add(message):
                await self.notify(chat_id, "rasa_down_not_saved")
                return
            if not await self._flush_chat_locked(chat_id) and self.pending.should_apologise(
                chat_id, time.monotonic(), APOLOGY_EVERY
            ):
                await self.notify(chat_id, "rasa_down")
            return
        try:
            items = await self.rasa.send(
                message.sender, text, metadata, message_id=message.message_id
            )
        except RasaUnavailable as exc:
            logger.warning("Rasa unavailable for %s: %s", message.sender, exc)
            if self.pending.add(message):
                self.pending.should_apologise(chat_id, time.monotonic(), APOLOGY_EVERY)
                await self.notify(chat_id, "rasa_down")
            else:
                await self.notify(chat_id, "rasa_down_not_saved")
            return
        except RasaTimeout as exc:
            logger.warning("Rasa timeout for %s: %s", message.sender, exc)
            await self.notify(chat_id, "rasa_timeout")
            return
        except RasaRejected as exc:
            logger.error("Rasa rejected a message from %s: %s", message.sender, exc)
            await self.notify(chat_id, "rasa_error")
            return
        await self.renderer.send_items(chat_id, items)

    async def _flush_chat_locked(self, chat_id: int) -> bool:
        """Resend the chat's queued messages in order (one attempt each); True when emptied."""
        told = False
        while True:
            message = self.pending.peek(chat_id)
            if message is None:
                self.pending.forget(chat_id)
                return True
            try:
                items = await self.rasa.send(
                    message.sender,
                    message.text,
                    message.metadata,
                    attempts=1,
                    message_id=message.message_id,
                )
            except RasaUnavailable:
                return False
            except RasaTimeout:
                self.pending.pop(chat_id)
                await self.notify(chat_id, "rasa_timeout")
                continue
            except RasaRejected:
                self.pending.pop(chat_id)
                await self.notify(chat_id, "rasa_error")
                continue
            self.pending.pop(chat_id)
            if not told:
                await self.notify(chat_id, "pending_delivered")
                told = True
            await self.renderer.send_items(chat_id, items)

    async def flush_pending(self) -> bool:
        """One pass over every waiting chat; stops at the first chat Rasa still refuses."""
        for chat_id in self.pending.chats():
            async with self.chat_lock(chat_id):
                ok = await self._flush_chat_locked(chat_id)
            if not ok:
                return False
        return True

    async def run_retry_loop(self, stop: asyncio.Event) -> None:
        """Background task: resend queued messages, pausing longer while Rasa stays down."""
        interval = self.retry_interval
        while not stop.is_set():
            waiters = {
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(asyncio.sleep(interval)),
            }
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if stop.is_set():
                return
            if not len(self.pending):
                interval = self.retry_interval
                continue
            try:
                ok = await self.flush_pending()
            except Exception:  # never let the loop die: a bug here must not stop later retries
                logger.exception("pending flush failed")
                ok = False
            interval = self.retry_interval if ok else min(interval * 2, self.retry_max_interval)
