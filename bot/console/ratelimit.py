"""Request limits for the console and the web chat: sliding windows per key, and a cap on
conversations waiting for Rasa at the same time.

Every limit is built by :func:`build_limits` from ``ConsoleConfig`` and lives in the app under
``LIMITS``; ``RJ_RATE_LIMITS=off`` (``config.rate_limits = False``) turns them all into no-ops
for load tests. Memory stays bounded under a spray of keys (client IPs, usernames, sessions).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 20000  # per window; beyond this, keys without recent hits are dropped


class SlidingWindow:
    """At most ``limit`` events per key within ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.enabled = enabled
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        stamps = self._events[key]
        horizon = self.clock() - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps

    def blocked(self, key: str) -> bool:
        """True when ``key`` has used up its events (checks without counting one)."""
        if not self.enabled:
            return False
        blocked = len(self._recent(key)) >= self.limit
        if not self._events[key]:
            del self._events[key]
        return blocked

    def record(self, key: str) -> None:
        if not self.enabled:
            return
        self._recent(key).append(self.clock())
        if len(self._events) > MAX_KEYS:
            horizon = self.clock() - self.window
            for stale in [k for k, v in self._events.items() if not v or v[-1] <= horizon]:
                del self._events[stale]
            while len(self._events) > MAX_KEYS:  # all recent: forget the oldest keys
                del self._events[next(iter(self._events))]

    def hit(self, key: str) -> bool:
        """Count one event for ``key``; False (and not counted) when the limit is reached."""
        if self.blocked(key):
            return False
        self.record(key)
        return True

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may act again (at least 1)."""
        stamps = self._recent(key)
        if not stamps:
            return 1
        return max(1, int(stamps[0] + self.window - self.clock()) + 1)

    def reset(self, key: str) -> None:
        self._events.pop(key, None)


class InFlight:
    """At most ``limit`` requests inside at once; a request waits ``wait`` seconds for a place.

    Under overload this answers the surplus at once ("busy, send again") instead of letting
    every request queue at Rasa until all of them time out.
    """

    def __init__(self, limit: int, wait: float, enabled: bool = True):
        self.limit = limit
        self.wait = wait
        self.enabled = enabled
        self.inside = 0
        self._semaphore: asyncio.Semaphore | None = None

    async def acquire(self) -> bool:
        if not self.enabled:
            self.inside += 1
            return True
        if self._semaphore is None:  # created inside the running loop
            self._semaphore = asyncio.Semaphore(self.limit)
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait)
        except asyncio.TimeoutError:
            return False
        self.inside += 1
        return True

    def release(self) -> None:
        self.inside -= 1
        if self.enabled and self._semaphore is not None:
            self._semaphore.release()


@dataclass
class Limits:
    login_user_ip: SlidingWindow  # failed logins per username + IP
    login_ip: SlidingWindow  # failed logins per IP, whatever the username
    chat_ip: SlidingWindow  # web-chat messages per client IP
    chat_session: SlidingWindow  # web-chat messages per web-chat session
    chat_new_session: SlidingWindow  # web-chat sessions minted per client IP
    chat_ws_ip: SlidingWindow  # /chat/ws connections per client IP
    chat_ws_session: SlidingWindow  # /chat/ws connections per web-chat session
    pii_reveal: SlidingWindow  # PII reveals per console user
    rasa_inflight: InFlight  # web-chat messages waiting for Rasa


def build_limits(config, clock: Callable[[], float] = time.monotonic) -> Limits:
    on = bool(getattr(config, "rate_limits", True))
    minute = 60.0
    return Limits(
        login_user_ip=SlidingWindow(config.login_max_failures, config.login_window, clock, on),
        login_ip=SlidingWindow(config.login_ip_max_failures, config.login_window, clock, on),
        chat_ip=SlidingWindow(config.chat_ip_per_minute, minute, clock, on),
        chat_session=SlidingWindow(config.chat_session_per_minute, minute, clock, on),
        chat_new_session=SlidingWindow(config.chat_new_sessions_per_hour, 3600.0, clock, on),
        # several residents of a care home may share one IP: the IP gets several sessions' worth
        chat_ws_ip=SlidingWindow(4 * config.chat_ws_per_minute, minute, clock, on),
        chat_ws_session=SlidingWindow(config.chat_ws_per_minute, minute, clock, on),
        pii_reveal=SlidingWindow(config.pii_reveals_per_hour, 3600.0, clock, on),
        rasa_inflight=InFlight(config.chat_max_inflight, config.chat_queue_wait, on),
    )
