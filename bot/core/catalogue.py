"""The one message catalogue: Chinese texts that code says, kept in YAML next to that code.

    texts = Catalogue.load(Path("messages.yml"), required=("rate_limited", "too_long"))
    texts.get("too_long", limit=500)       # a string, with {placeholders} filled
    texts.lookup("commands")               # any node (a mapping or list) by dotted key
    texts.tree.errors.csrf                 # attribute access, for Jinja templates

Why data files: content editors change wording without touching code, and one file shows every
sentence a component can say. Business answers come from Rasa's domain, never from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

_MISSING = object()  # "no default given"
_ABSENT = object()  # "the key is not there"


class Node(dict):
    """A mapping whose keys also read as attributes (``T.errors.csrf`` in templates)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _wrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Node({str(k): _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Catalogue:
    """Read-only texts; a missing required key fails at load time, not in a chat."""

    def __init__(self, data: Mapping[str, Any], required: Iterable[str] = ()) -> None:
        self.tree: Node = _wrap(data or {})
        missing = [key for key in required if key not in self]
        if missing:
            raise ValueError(f"message catalogue is missing keys: {', '.join(missing)}")

    @classmethod
    def load(cls, path: Path, required: Iterable[str] = ()) -> Catalogue:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {}, required)

    def __contains__(self, key: str) -> bool:
        return self.lookup(key, _ABSENT) is not _ABSENT

    def lookup(self, key: str, default: Any = _MISSING) -> Any:
        """The node at a dotted key (``"errors.csrf"``); ``default`` if given and absent."""
        node: Any = self.tree
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                if default is _MISSING:
                    raise KeyError(key)
                return default
            node = node[part]
        return node

    def get(self, key: str, default: str | None = None, **fields: Any) -> str:
        """The text at ``key`` with ``{placeholders}`` filled from ``fields``."""
        value = self.lookup(key) if default is None else self.lookup(key, default)
        if not isinstance(value, str):
            raise TypeError(f"message `{key}` is not a text")
        return value.format(**fields) if fields else value
