"""One FIFO lock per conversation, so a user's messages reach Rasa one at a time and in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    """Locks by key; a key's entry is removed when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, list] = {}  # key -> [Lock, holders and waiters]

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._entries.pop(key, None)
