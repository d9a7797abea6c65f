"""Short ``callback_data`` for inline buttons.

Telegram limits ``callback_data`` to 64 **bytes**; Rasa payloads such as
``/inform{"benefit":"荣军卡"}`` are longer once UTF-8 encoded (3 bytes per Chinese character).
Short ASCII payloads are sent inline (``p:<payload>``); anything else is kept here under a random
token (``t:<token>``) in a bounded LRU dictionary with a TTL.

Why in memory and not in the database: a token only has to live as long as someone may still press
the button; after a restart or the TTL, the press is answered with the polite ``button_expired``
text and the user simply types again — the same as an old keyboard in any chat. Bounded size keeps
memory flat whatever the traffic.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
INLINE_PREFIX = "p:"
TOKEN_PREFIX = "t:"


@dataclass(frozen=True)
class ButtonChoice:
    """What a pressed button stands for."""

    payload: str
    title: str = ""


class CallbackStore:
    """Maps short tokens to button payloads; least-recently-used entries go first when full."""

    def __init__(
        self,
        max_size: int = 20000,
        ttl: float = 7 * 24 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ButtonChoice]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def encode(self, payload: str, title: str = "") -> str:
        """``callback_data`` for a button with this payload (always <= 64 bytes)."""
        inline = INLINE_PREFIX + payload
        if payload.isascii() and len(inline) <= MAX_CALLBACK_BYTES:
            return inline
        token = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        self._entries[token] = (self._clock(), ButtonChoice(payload, title))
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)
        return TOKEN_PREFIX + token

    def decode(self, data: str | None) -> ButtonChoice | None:
        """The choice behind ``callback_data``, or ``None`` when unknown or expired."""
        if not data:
            return None
        if data.startswith(INLINE_PREFIX):
            return ButtonChoice(data[len(INLINE_PREFIX) :])
        if not data.startswith(TOKEN_PREFIX):
            return None
        token = data[len(TOKEN_PREFIX) :]
        entry = self._entries.get(token)
        if entry is None:
            return None
        created, choice = entry
        if self._clock() - created > self.ttl:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return choice
