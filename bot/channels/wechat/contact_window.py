"""The gateway's side of WeChat's 48-hour rule, stored in the core database (bot/core/contacts).

Every incoming message or event reopens the user's window; to keep a chatty user from costing a
database write per message, a user's time is written at most every ``record_every`` seconds
(the push window keeps a margin larger than that). Database calls run in a worker thread. If the
database is unreachable the gateway keeps chatting: recording is skipped (one warning a minute,
not one per message) and a push is attempted anyway (WeChat's own 45015 answer is the final
word).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core import clock

logger = logging.getLogger(__name__)


class ContactWindow:
    def __init__(
        self,
        *,
        engine: Any = None,
        window: timedelta = timedelta(hours=48) - timedelta(minutes=10),
        record_every: float = 60.0,
        now: Callable[[], datetime] = clock.now,
        monotonic: Callable[[], float] = time.monotonic,
        max_users: int = 50000,
    ) -> None:
        self.engine = engine
        self.window = window
        self.record_every = record_every
        self.now = now
        self._monotonic = monotonic
        self.max_users = max_users
        self._recorded: OrderedDict[str, float] = OrderedDict()
        self._warned_at = float("-inf")
        # Writes run on worker threads; one at a time keeps them in the order the user acted
        # (a "seen" still running must not land after an unfollow and reopen the window).
        self._writing = asyncio.Lock()

    def _session(self):
        from bot.core.db import session_scope

        return session_scope(self.engine)

    async def seen(self, sender: str) -> None:
        """The user wrote: record it (throttled per user)."""
        moment = self._monotonic()
        last = self._recorded.get(sender)
        if last is not None and moment - last < self.record_every:
            return
        self._recorded[sender] = moment
        self._recorded.move_to_end(sender)
        while len(self._recorded) > self.max_users:
            self._recorded.popitem(last=False)
        await self._write("record_inbound", sender)

    async def left(self, sender: str) -> None:
        """The user unfollowed the account."""
        self._recorded.pop(sender, None)
        await self._write("record_unsubscribed", sender)

    async def _write(self, function: str, sender: str) -> None:
        from bot.core import contacts

        def write() -> None:
            with self._session() as session:
                getattr(contacts, function)(session, sender, self.now())

        try:
            async with self._writing:
                await asyncio.to_thread(write)
        except Exception as exc:
            self._database_trouble(f"could not record contact of {sender}", exc)

    async def closed_reason(self, sender: str) -> str | None:
        """Why a push to ``sender`` cannot go out now (None: it may)."""
        from bot.core import contacts

        def check() -> str | None:
            with self._session() as session:
                return contacts.reachability(session, sender, self.now(), self.window).reason

        try:
            # After the writes already under way: a user's first message is recorded by a task
            # the gateway starts as it answers, and a push right after must see it.
            async with self._writing:
                return await asyncio.to_thread(check)
        except Exception as exc:
            self._database_trouble(f"push window of {sender} unknown, trying anyway", exc)
            return None

    def _database_trouble(self, what: str, exc: Exception) -> None:
        moment = self._monotonic()
        if moment - self._warned_at >= 60.0:
            self._warned_at = moment
            logger.warning(
                "%s: %s (further database errors this minute are not logged)",
                what,
                type(exc).__name__,
            )
        else:
            logger.debug("%s: %s", what, type(exc).__name__)
