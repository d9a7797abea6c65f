"""Splitting long replies into messages a chat platform accepts, at natural boundaries.

Each platform counts its limit differently — Telegram in UTF-16 code units (4096), WeChat in
UTF-8 bytes (2048, so about 680 Chinese characters) — so the measure is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]

SENTENCE_ENDS = ("。", "！", "？", "；", "!", "?", ";", "…")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP (emoji) count twice."""
    return len(text.encode("utf-16-le")) // 2


def utf8_len(text: str) -> int:
    """Length as WeChat counts it: bytes of UTF-8 (three per Chinese character)."""
    return len(text.encode("utf-8"))


def fit(text: str, limit: int, measure: Measure = utf16_len) -> int:
    """Largest index ``i`` (a code-point boundary) with ``measure(text[:i]) <= limit``."""
    i = min(len(text), limit)
    while i > 0:
        over = measure(text[:i]) - limit
        if over <= 0:
            return i
        # Every character weighs at least one unit: stepping back by a share of the excess
        # converges quickly without ever cutting below the true boundary by much.
        i -= max(1, over // 4)
    return 0


def split_text(text: str, limit: int, measure: Measure = utf16_len) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` units of ``measure``.

    Cuts prefer a paragraph break, then a line break, then the end of a sentence, then a space,
    and only as a last resort fall in the middle of a line. Whitespace at the cut is dropped.
    """
    if limit < 2:
        raise ValueError("limit too small")
    chunks: list[str] = []
    rest = text
    while measure(rest) > limit:
        window_end = fit(rest, limit, measure)
        window = rest[:window_end]
        cut = window_end
        min_len = max(1, window_end // 4)  # do not produce tiny chunks for a far-away boundary
        for seps in (("\n\n",), ("\n",), SENTENCE_ENDS, (" ", "\u3000")):
            best = max((window.rfind(sep) + len(sep) for sep in seps if sep in window), default=-1)
            if best >= min_len:
                cut = best
                break
        head = rest[:cut].rstrip()
        if head:
            chunks.append(head)
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        chunks.append(rest.rstrip())
    return chunks
