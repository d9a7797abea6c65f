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

__all__ = ["ALPHABET", "LENGTH", "PATTERN", "new_code", "normalise", "is_valid", "find_in_text"]

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


# A code inside a sentence: six letters/digits standing alone ("确认码 K7QX3M 我约的哪天",
# "码是k7qx3m"), or written in groups ("K7Q X3M", "k7-qx-3m"). Longer runs of letters or digits
# (a phone number, an English word) are never cut into a code.
_ALONE = re.compile(rf"(?<![A-Za-z0-9])[A-Za-z0-9]{{{LENGTH}}}(?![A-Za-z0-9])")
_GROUPED = re.compile(
    rf"(?<![A-Za-z0-9])(?<![A-Za-z0-9][ \-])[A-Za-z0-9](?:[ \-]?[A-Za-z0-9]){{{LENGTH - 1}}}"
    r"(?![A-Za-z0-9])(?![ \-][A-Za-z0-9])"
)
# A mobile / ID number must not donate six of its digits (e.g. "电话 139 1234 5678").
# "K7QX3M13605329876": a code written straight before a mobile number.
_BEFORE_MOBILE = re.compile(rf"(?<![A-Za-z0-9])([A-Za-z0-9]{{{LENGTH}}})1[3-9]\d{{9}}(?!\d)")
_LONG_NUMBER = re.compile(r"(?<![A-Za-z0-9])\+?\d(?:[ \-]?\d){8,}[\dXx]?")


def find_in_text(text: str | None) -> str | None:
    """The confirmation code written anywhere in ``text`` (any case, full-width or not, with or
    without spaces inside), normalised; None when there is none. A candidate must use the code
    alphabet and contain at least one letter or be all digits standing alone."""
    plain = unicodedata.normalize("NFKC", text or "")
    plain = _BEFORE_MOBILE.sub(r"\1 ", plain)
    plain = _LONG_NUMBER.sub(" ", plain)
    for pattern in (_ALONE, _GROUPED):
        for match in pattern.finditer(plain):
            code = normalise(match.group(0))
            if PATTERN.fullmatch(code):
                return code
    return None
