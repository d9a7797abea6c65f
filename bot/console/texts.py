"""Chinese texts for console code, kept in ``messages.yml`` next to this file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.core.catalogue import Catalogue, Node

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue.load(MESSAGES_FILE)


def all_texts() -> Node:
    """Every text as attribute-readable nodes (``T`` in templates)."""
    return catalogue().tree


def t(key: str, default: str | None = None) -> Any:
    """Look up a dotted key, e.g. ``t("errors.csrf")``; ``default`` when it is absent."""
    return catalogue().lookup(key) if default is None else catalogue().lookup(key, default)
