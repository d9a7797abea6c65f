"""Confirmation codes people read out or type back (appointments, wishes).

Six characters from an alphabet without look-alikes — no 0/O, 1/I/L — so a code read over the
phone or copied by hand by an elderly user comes back right. What the user types is normalised
(full-width → ASCII, lower → upper case, spaces and dashes dropped) before comparing.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

__all__ = ["ALPHABET", "LENGTH", "PATTERN", "new_code", "normalise", "is_valid"]

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6
PATTERN = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")


def new_code(is_taken: Callable[[str], bool], attempts: int = 20) -> str:
    """A random code for which ``is_taken(code)`` is false (e.g. no row has it yet)."""
    for _ in range(attempts):
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not is_taken(code):
            return code
    raise RuntimeError("could not allocate a unique confirmation code")  # pragma: no cover


def normalise(code: str | None) -> str:
    """What the user typed → stored form: full-width → ASCII, upper-case, separators dropped."""
    return re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", code or "").upper())


def is_valid(code: str | None) -> bool:
    """Whether ``code`` (as typed) is a well-formed code of this alphabet and length."""
    return PATTERN.fullmatch(normalise(code)) is not None
