"""What every user message goes through before Rasa's NLU sees it: cleaning and limits.

A message that could not be encoded (a lone surrogate such as ``"\\ud800"``), control characters
pasted from other apps, a 100 KB paste that would make the classifier allocate gigabytes, and
one sender flooding the assistant are all stopped here. The replies for refused messages live in
``data/inbound.yml``; the limits come from ``bot.core.settings``.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from functools import lru_cache

import yaml

from bot.core import settings

_KEEP_CONTROLS = {"\n", "\t", "\r"}


def clean_text(text: str | None) -> str:
    """Drop surrogates and invisible control characters; tabs and newlines become spaces."""
    if not text:
        return ""
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            continue
        if category == "Cc":
            if char in _KEEP_CONTROLS:
                out.append(" ")
            continue
        out.append(char)
    return "".join(out)


# A message's id from a channel or client: short, printable, no spaces (issue #13).
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


def message_id(value: object) -> str | None:
    """``value`` when it is usable as a message id (an int or up to 64 of ``A-Za-z0-9_.:-``),
    else None. Rasa recognises a resent message by its (sender, message id)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _MESSAGE_ID.fullmatch(value):
        return value
    return None


def too_long(text: str | None, limit: int | None = None) -> bool:
    limit = settings.current().max_message_chars if limit is None else limit
    return len(text or "") > limit


@lru_cache(maxsize=1)
def _replies() -> dict:
    path = settings.DATA_FILES / "inbound.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def reply(kind: str, **values: object) -> str:
    """The Simplified reply for a refused message: ``too_long``, ``too_fast`` or ``busy``."""
    return str(_replies()[kind]).format(**values)


class RateLimiter:
    """At most ``count`` events per ``seconds`` for each key (a sliding window in memory).

    One limiter lives in one process; several Rasa servers behind a router each count their own
    share, which is the intended behaviour for a per-sender flood guard.
    """

    def __init__(
        self,
        count: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.count = count
        self.seconds = seconds
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            while hits and now - hits[0] >= self.seconds:
                hits.popleft()
            if len(hits) >= self.count:
                return False
            hits.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        idle = [
            key for key, hits in self._hits.items() if not hits or now - hits[-1] >= self.seconds
        ]
        for key in idle:
            del self._hits[key]


def rest_limiter() -> RateLimiter | None:
    """The REST channel's per-sender limiter, or None when RJ_RATE_LIMITS=off."""
    limit = settings.current().rest_rate_limit
    return None if limit is None else RateLimiter(*limit)
