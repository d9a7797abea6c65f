"""Chinese texts for console code, kept in ``messages.yml`` next to this file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"


class _Texts(dict):
    """A dict whose keys also read as attributes (handy in Jinja: ``T.errors.csrf``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:  # pragma: no cover - template typo
            raise AttributeError(name) from exc


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return _Texts({str(k): _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


@lru_cache(maxsize=None)
def all_texts() -> _Texts:
    with MESSAGES_FILE.open(encoding="utf-8") as handle:
        return _wrap(yaml.safe_load(handle) or {})


def t(key: str, default: str | None = None) -> Any:
    """Look up a dotted key, e.g. ``t("errors.csrf")``."""
    node: Any = all_texts()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not None:
                return default
            raise KeyError(key)
        node = node[part]
    return node
