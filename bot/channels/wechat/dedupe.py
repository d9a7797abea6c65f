"""One incoming WeChat message is handled once, however often WeChat sends it.

WeChat retries a message three times when it gets no answer within 5 seconds (or the answer is
lost on the way). A retry carries the same ``MsgId``; events have none and are identified by
sender, ``CreateTime`` and event type, as WeChat's documentation suggests. A retry of a message
still in progress joins it; a retry of one already answered gets the same answer again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def message_key(message: Any) -> str:
    msg_id = getattr(message, "id", 0)
    if msg_id:
        return f"m:{msg_id}"
    event = getattr(message, "event", "")
    return f"e:{message.source}:{message.time}:{event}"


def wechat_message_id(message: Any) -> str:
    """The message id Rasa gets (per sender, so the openid is left out): ``wx:<MsgId>``, or for
    an event ``wx:<CreateTime>.<event>``. Rasa answers a second delivery of the same id (a
    retry that outlived this gateway's memory, or reached another Rasa server) from the turn it
    stored, without running it again."""
    msg_id = getattr(message, "id", 0)
    if msg_id:
        return f"wx:{msg_id}"
    event = "".join(c for c in str(getattr(message, "event", "")) if c.isascii() and c.isalnum())
    return f"wx:{getattr(message, 'time', 0)}.{event[:30]}"


@dataclass
class Turn:
    """The handling of one message: ``task`` yields the reply messages, in order."""

    task: asyncio.Task
    deferred: bool = False  # the answer goes out as customer-service messages
    answered: bool = False  # the passive reply below was chosen
    passive: str | None = None


class TurnRegistry:
    def __init__(
        self, ttl: float = 120.0, max_size: int = 20000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._turns: OrderedDict[str, tuple[float, Turn]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._turns)

    def get(self, key: str) -> Turn | None:
        self._expire()
        entry = self._turns.get(key)
        return entry[1] if entry else None

    def add(self, key: str, turn: Turn) -> None:
        self._turns[key] = (self._clock(), turn)
        while len(self._turns) > self.max_size:
            self._turns.popitem(last=False)

    def _expire(self) -> None:
        limit = self._clock() - self.ttl
        while self._turns:
            key, (created, turn) = next(iter(self._turns.items()))
            if created >= limit or not turn.task.done():
                return
            del self._turns[key]
