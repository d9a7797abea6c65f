"""User-facing Chinese texts of the Telegram channel, loaded from ``messages.yml``.

Why a data file: the project keeps Chinese wording out of Python so that content editors can
change it without touching code, and so that one file shows every sentence the channel itself
can say (business answers come from Rasa, never from here).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.catalogue import Catalogue

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"

#: Keys the code relies on; checked at load time so a typo fails at start-up, not in a chat.
REQUIRED_KEYS = (
    "unsupported_media",
    "rate_limited",
    "too_long",
    "rasa_down",
    "rasa_down_not_saved",
    "rasa_timeout",
    "rasa_error",
    "pending_delivered",
    "buttons_prompt",
    "button_expired",
    "button_used",
    "button_chosen",
    "unknown_command",
    "empty_mention_message",
    "commands",
    "missing_token",
)
COMMANDS = ("start", "help", "human", "cancel")


class Texts(Catalogue):
    """The channel's texts; ``get(key, **fields)`` fills ``{placeholders}``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data, REQUIRED_KEYS)
        commands = self.lookup("commands")
        if not isinstance(commands, Mapping) or any(c not in commands for c in COMMANDS):
            raise ValueError(f"messages.yml `commands` must describe {', '.join(COMMANDS)}")

    @property
    def _data(self) -> Mapping[str, Any]:
        return self.tree

    def command_descriptions(self) -> dict[str, str]:
        """Command name → description, in the order shown in Telegram's menu."""
        return {name: str(self.lookup("commands")[name]) for name in COMMANDS}


def load_texts(path: Path = MESSAGES_FILE) -> Texts:
    with open(path, encoding="utf-8") as handle:
        return Texts(yaml.safe_load(handle) or {})


@lru_cache(maxsize=1)
def default_texts() -> Texts:
    """The packaged texts, loaded once per process."""
    return load_texts()
