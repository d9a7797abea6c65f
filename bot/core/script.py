"""Simplified / Traditional Chinese: detect what a user wrote and answer in the same script.

Replies are authored in Simplified. A message is Traditional when converting it to Simplified
changes it; a message whose characters are the same in both scripts (好的, 123) decides nothing,
so the conversation keeps the last script the user clearly used.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"


@cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    # Taiwan-standard characters (為, not the variant 爲) without phrase rewriting, so policy
    # terms stay recognisable: 荣军卡 → 榮軍卡, 服务中心 → 服務中心.
    return _converter("s2tw").convert(text)


def detect_script(text: str | None) -> str | None:
    """TRADITIONAL, SIMPLIFIED, or None when the text is the same in both scripts."""
    if not text:
        return None
    if to_simplified(text) != text:
        return TRADITIONAL
    if to_traditional(text) != text:
        return SIMPLIFIED
    return None


def conversation_script(user_texts_newest_first: Iterable[str | None]) -> str:
    """The script of the newest user message that decides one; Simplified by default."""
    for text in user_texts_newest_first:
        script = detect_script(text)
        if script:
            return script
    return SIMPLIFIED


def to_script(text: str | None, script: str | None):
    """Convert an authored (Simplified) reply into ``script``."""
    if not text or script != TRADITIONAL:
        return text
    return to_traditional(text)


def normalise(text: str) -> str:
    """What NLU sees: full-width → half-width (NFKC), Traditional → Simplified, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return " ".join(text.split())
