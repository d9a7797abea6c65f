"""Delivers due outbox messages (reminders, queued agent replies) for one channel's recipients.

The outbox (``bot/core/outbox.py``) owns the guarantees: ``claim_due`` hands a row out once,
atomically, even with several gateways polling; ``mark_sent`` closes it; ``mark_failed`` records
the error and schedules a retry with the outbox's own backoff up to its maximum attempts;
``mark_undeliverable`` closes a row that no retry can deliver (a WeChat user outside the
48-hour window) with a reason staff can read. This loop only moves claimed rows to the channel
through its ``send(recipient, text)`` coroutine and reports back, so each message reaches the
user exactly once when sending works.

``send`` raises :class:`DeliveryFailed` for a failure; ``final=True`` means retrying cannot help.
Database calls are synchronous (SQLAlchemy) and run in a worker thread so the event loop keeps
serving chats while the database is slow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import clock

logger = logging.getLogger(__name__)

Send = Callable[[str, str], Awaitable[None]]


class DeliveryFailed(Exception):
    """The channel could not deliver; ``final`` when no retry can (reason shown to staff)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


@dataclass(frozen=True)
class _Claimed:
    id: Any
    recipient: str
    text: str


class OutboxDelivery:
    """Claim → send → mark, in batches; ``run`` repeats it every ``interval`` seconds."""

    def __init__(
        self,
        send: Send,
        *,
        prefix: str,
        engine: Any = None,
        now: Callable[[], datetime] = clock.now,
        batch: int = 50,
    ) -> None:
        from bot.core import outbox  # imported here: a gateway runs without the core database

        self._outbox = outbox
        self.send = send
        self.prefix = prefix
        self.engine = engine
        self.now = now
        self.batch = batch

    def _session(self):
        from bot.core.db import session_scope

        return session_scope(self.engine)

    def _claim(self) -> list[_Claimed]:
        with self._session() as session:
            rows = self._outbox.claim_due(session, self.prefix, self.now(), limit=self.batch)
            return [_Claimed(row.id, str(row.recipient), str(row.text or "")) for row in rows]

    def _mark_sent(self, message_id: Any) -> None:
        with self._session() as session:
            self._outbox.mark_sent(session, message_id, self.now())

    def _mark_failed(self, message_id: Any, error: str, final: bool) -> None:
        with self._session() as session:
            if final:
                self._outbox.mark_undeliverable(session, message_id, error[:500], self.now())
            else:
                self._outbox.mark_failed(session, message_id, error[:500], self.now())

    async def deliver_due(self) -> tuple[int, int]:
        """One pass: returns (sent, failed)."""
        claimed = await asyncio.to_thread(self._claim)
        sent = failed = 0
        for message in claimed:
            error: str | None = None
            final = False
            if not message.text.strip():
                error, final = "empty text", True
            else:
                try:
                    await self.send(message.recipient, message.text)
                except DeliveryFailed as exc:
                    error, final = exc.reason, exc.final
            try:
                if error is None:
                    await asyncio.to_thread(self._mark_sent, message.id)
                    sent += 1
                else:
                    logger.warning("outbox message %s not delivered: %s", message.id, error)
                    await asyncio.to_thread(self._mark_failed, message.id, error, final)
                    failed += 1
            except Exception:
                # The row stays claimed; the outbox decides when (if ever) it is handed out again.
                logger.exception("could not record the outcome of outbox message %s", message.id)
        return sent, failed

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Background task; database or channel trouble is logged and retried next round."""
        failing = False
        while not stop.is_set():
            try:
                while True:
                    sent, failed = await self.deliver_due()
                    if sent + failed < self.batch:
                        break  # a full batch means more may be due right now
                failing = False
            except Exception as exc:
                if not failing:  # full traceback once; then one line per round until it recovers
                    logger.exception("outbox delivery pass failed (will keep retrying)")
                else:
                    logger.warning("outbox delivery still failing: %s", type(exc).__name__)
                failing = True
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
