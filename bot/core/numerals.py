"""Chinese numerals, read the way people write them: '十二' → 12, '两百五' → 250, '一千零五' → 1005,
'六十八' → 68, and digit by digit when there is no unit ('一二' → 12, as in 一二点 or 二〇二六).

The one parser of the project: dates and times (``timeparse``), profile answers
(``entitlements``), amounts in forms and the digit runs ``anonymise`` masks all read numerals here.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["DIGITS", "UNITS", "DIGIT_CHARS", "NUMERAL_CHARS", "parse_int", "parse_number"]

# 幺 is how 1 is said in phone numbers, 俩 colloquial 2; 壹…玖 / 拾佰仟 are the banker's forms.
DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "壹": 1,
    "贰": 2,
    "叁": 3,
    "肆": 4,
    "伍": 5,
    "陆": 6,
    "柒": 7,
    "捌": 8,
    "玖": 9,
}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000, "拾": 10, "佰": 100, "仟": 1000}
DIGIT_CHARS = "".join(DIGITS)
NUMERAL_CHARS = DIGIT_CHARS + "".join(UNITS)

_NUMBER = re.compile(rf"\d+(?:\.\d+)?|[{NUMERAL_CHARS}]+")


def _with_units(text: str) -> int:
    total, section, digit, last_unit = 0, 0, None, None
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
            continue
        unit = UNITS[char]
        if unit == 10000:
            total += (section + (digit or 0)) * unit
            section, digit, last_unit = 0, None, unit
            continue
        section += (1 if digit is None else digit) * unit
        digit, last_unit = None, unit
    if digit is not None:
        # 一千五 = 1500: a digit right after a unit of a hundred or more means the next unit down.
        if last_unit and last_unit >= 100 and len(text) >= 2 and text[-2] in UNITS:
            section += digit * (last_unit // 10)
        else:
            section += digit
    return total + section


def parse_int(text: str | None) -> int | None:
    """A whole token of ASCII / full-width digits or Chinese numerals → int; None for anything
    else ('' or '三个')."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if any(char not in DIGITS and char not in UNITS for char in text):
        return None
    if not any(char in UNITS for char in text):
        return int("".join(str(DIGITS[char]) for char in text))
    return _with_units(text)


def parse_number(text: str | None) -> float | None:
    """The first number in a sentence ('大概三百块' → 300.0, '1.5万' → 1.5). A run of bare
    Chinese digits ('一二三') is not an amount anyone says, so it gives None."""
    text = unicodedata.normalize("NFKC", text or "")
    match = _NUMBER.search(text)
    if not match:
        return None
    token = match.group(0)
    if token[0].isdigit():
        return float(token)
    if len(token) > 1 and all(char in DIGITS for char in token):
        return None
    return float(_with_units(token))
