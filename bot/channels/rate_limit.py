"""Per-user token bucket for incoming messages.

A user may send ``capacity`` messages in a burst; tokens refill at ``capacity / window`` per
second. When a message is refused, the user is told at most once per ``window`` — a flood gets
one "please wait" reply, not one per message (which would itself be a flood).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    notify: bool = False  # refused and the user has not been told in this window


class _Bucket:
    __slots__ = ("tokens", "updated", "notified_at")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.updated = now
        self.notified_at = float("-inf")


class RateLimiter:
    """Token buckets keyed by user; idle buckets are evicted (a full bucket carries no state)."""

    def __init__(
        self,
        capacity: int = 8,
        window: float = 10.0,
        max_keys: int = 50000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(capacity)
        self.window = window
        self.rate = capacity / window
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def check(self, key: Hashable) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Decision(True)
        if now - bucket.notified_at >= self.window:
            bucket.notified_at = now
            return Decision(False, notify=True)
        return Decision(False)
