"""Numbered menus: WeChat's passive replies have no buttons, so Rasa's buttons become a list.

    请回复数字选择：
    1. 退役士兵
    2. 军属

The user answers with the number (``2``, ``２``, ``2.``) or the title (``军属``, also in
Traditional); the button's payload then goes to Rasa instead of the text. One menu per user —
the newest — accepted for ``ttl`` seconds, once. A reply from Rasa without buttons withdraws it,
so a later "1" typed as an answer to another question ("几个人来？") is not taken for a choice.
Kept in memory (bounded): after a restart a number is simply passed to Rasa as text.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.script import to_simplified

_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.、。．)]?\s*$")


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


def _comparable(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text)).strip().lower()


class MenuStore:
    def __init__(
        self,
        ttl: float = 1800.0,
        max_users: int = 20000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_users = max_users
        self._clock = clock
        self._menus: OrderedDict[str, tuple[float, list[Choice]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._menus)

    def offer(self, user: str, choices: list[Choice]) -> None:
        """Remember ``choices`` (numbered from 1) as the user's menu; empty withdraws it."""
        self._menus.pop(user, None)
        if not choices:
            return
        self._menus[user] = (self._clock(), list(choices))
        while len(self._menus) > self.max_users:
            self._menus.popitem(last=False)

    def withdraw(self, user: str) -> None:
        self._menus.pop(user, None)

    def choose(self, user: str, text: str) -> Choice | None:
        """The choice ``text`` names in the user's live menu (which is then used up), or None."""
        entry = self._menus.get(user)
        if entry is None:
            return None
        offered_at, choices = entry
        if self._clock() - offered_at > self.ttl:
            del self._menus[user]
            return None
        normalised = unicodedata.normalize("NFKC", text)
        match = _NUMBER.match(normalised)
        chosen: Choice | None = None
        if match:
            index = int(match.group(1))
            if 1 <= index <= len(choices):
                chosen = choices[index - 1]
        else:
            wanted = _comparable(text)
            chosen = next((c for c in choices if _comparable(c.title) == wanted), None)
        if chosen is not None:
            del self._menus[user]
        return chosen
