"""The WeChat channel's own Chinese texts, from ``messages.yml``, in the user's script.

Business answers come from Rasa, which already answers in the user's script; the channel's own
few sentences (errors, the menu prompt) are authored in Simplified and converted here when the
user writes Traditional.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core import script as scripts

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"

#: Keys the code relies on; checked at load time so a typo fails at start-up, not in a chat.
REQUIRED_KEYS = (
    "unsupported_media",
    "voice_unrecognised",
    "rate_limited",
    "too_long",
    "rasa_down",
    "rasa_timeout",
    "rasa_error",
    "menu_prompt",
    "menu_line",
    "link_line",
    "missing_token",
)


class Texts:
    """``get(key, script=None, **fields)`` fills ``{placeholders}`` and converts the script."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        missing = [key for key in REQUIRED_KEYS if not isinstance(data.get(key), str)]
        if missing:
            raise ValueError(f"messages.yml is missing texts: {', '.join(missing)}")
        self._data = dict(data)

    def get(self, key: str, script: str | None = None, **fields: Any) -> str:
        template = scripts.to_script(self._data[key], script)
        # Convert the template, not the filled text: user data in fields stays as written.
        return template.format(**fields) if fields else template


def load_texts(path: Path = MESSAGES_FILE) -> Texts:
    with open(path, encoding="utf-8") as handle:
        return Texts(yaml.safe_load(handle) or {})


@lru_cache(maxsize=1)
def default_texts() -> Texts:
    return load_texts()
