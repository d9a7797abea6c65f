"""Anonymisation of free text that will be shown to the public (e.g. a published 微心愿).

Beyond ``people.mask_text`` (phone numbers, ID numbers, long digit runs) it removes e-mail
addresses, WeChat / QQ handles, URLs, house and street numbers, numbers spelt in Chinese digits,
and personal names, which become a pseudonym (王建国 → 王某). Names are found by cue (我叫…,
姓名：…, 老伴…) and, optionally, by jieba's person-name tag.
"""

from __future__ import annotations

import re

from bot.core import districts, numerals, people
from bot.core.surnames import COMMON as _SURNAMES_1
from bot.core.surnames import COMPOUND as _SURNAMES_2

__all__ = ["anonymise"]

_HAN = r"\u4e00-\u9fff"


# Words that follow a name-ish prefix but are not names (我是退役军人, 我是伤残军人 ...).
_NOT_NAME_STARTS = (
    "一名",
    "一位",
    "一个",
    "个",
    "退役",
    "退伍",
    "转业",
    "军",
    "伤残",
    "烈士",
    "老兵",
    "家属",
    "本人",
    "荣军",
    "党员",
    "残疾",
    "现役",
    "复员",
    "在",
    "从",
    "住",
    "来自",
)

_MASKED = "***"


def _surname_of(word: str) -> str | None:
    for compound in _SURNAMES_2:
        if word.startswith(compound) and len(word) > len(compound):
            return compound
    if word and word[0] in _SURNAMES_1 and len(word) > 1:
        return word[0]
    return None


def _pseudonym(name: str) -> str:
    surname = _surname_of(name)
    return f"{surname}某" if surname else "某某"


# Explicit labels: whatever follows is a name, surname list or not.
_LABELLED_NAME = re.compile(
    rf"(姓名|名字|真实姓名|联系人|申请人|本人姓名|受助人|老人姓名|我的名字)(\s*(?:是|叫|为)?\s*[:：]?\s*)([{_HAN}·]{{2,4}})"
)
_CALLED_NAME = re.compile(rf"(我叫|名叫|叫做|我姓名是|我的名字叫)\s*([{_HAN}·]{{2,4}})")
# Weaker cues: only when jieba sees a person's name right after (see _weak_cue_name).
_CUED_NAME = re.compile(
    rf"(我是|本人是|本人|我爸是|我妈是|父亲|母亲|老伴|爱人|妻子|丈夫|儿子|女儿|孙子|孙女|老战友|战友|家父|家母|"
    rf"老公|老婆|联系|找|致电|打给)\s*([{_HAN}]{{2,8}})"
)
_STOP_AFTER_NAME = re.compile(
    r"(是|的|在|住|今年|家|需要|想|希望|因为|由于|患|身体|腿|行动|电话|手机|联系|，|。|,|\.|\s|$)"
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_HANDLE = re.compile(
    r"(微信号?|vx|VX|Vx|wx|WX|weixin|wechat|WeChat|QQ号?|qq号?|扣扣|抖音号?|快手号?)\s*(?:号)?\s*[:：是为]?\s*"
    r"([A-Za-z0-9_\-]{5,})"
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_SPACED_DIGITS = re.compile(r"(?<![\d])(?:\+?86[\s\-]*)?\d(?:[\s\-－—.·]*\d){6,}[\dXx]?")
_CN_DIGIT = rf"[{numerals.DIGIT_CHARS}]"
_CN_NUMERAL_RUN = re.compile(rf"{_CN_DIGIT}(?:[\s\-]*{_CN_DIGIT}){{6,}}")
_HOUSE_NUMBER = re.compile(r"(?<![\d])\d{1,5}\s*(号楼|号院|栋|幢|单元|室|户)")
_STREET_NUMBER = re.compile(
    rf"([{_HAN}A-Za-z]{{1,8}}(?:路|街|巷|道|胡同|里|村|社区|小区))\s*\d{{1,5}}\s*(?:-\d+)?\s*号"
)
_SHORTER_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{7,}(?![\dA-Za-z])")
_MASKED_TOKEN = re.compile(r"\d*\*{2,}[\dXx]*")


# Full-width digits, Latin letters and a few symbols → ASCII; Chinese punctuation stays as written.
_HALFWIDTH = {
    code: code - 0xFEE0
    for code in range(0xFF01, 0xFF5F)
    if not (0xFF08 <= code <= 0xFF09 or code in (0xFF0C, 0xFF1A, 0xFF1B, 0xFF01, 0xFF1F))
}
_HALFWIDTH[0x3000] = 0x20


def _halfwidth(text: str) -> str:
    return text.translate(_HALFWIDTH)


def _collapse_digit_runs(text: str) -> str:
    """'138 1234-5678' → '13812345678' so the number is recognised as one run."""

    def repl(match: re.Match[str]) -> str:
        return re.sub(r"[\s\-－—.·]", "", match.group(0))

    return _SPACED_DIGITS.sub(repl, text)


def _name_end(candidate: str) -> str:
    """Cut a greedy 2-4 character grab at the first word that cannot belong to a name."""
    surname = _surname_of(candidate) or ""
    rest = candidate[len(surname) :]
    match = _STOP_AFTER_NAME.search(rest, 1 if rest else 0)
    if match and match.start() > 0:
        rest = rest[: match.start()]
    return surname + rest[: 2 if surname else 3]


def _replace_name(prefix: str, grabbed: str) -> str | None:
    """``prefix`` + pseudonym for the name at the start of ``grabbed`` (rest kept), or None."""
    if grabbed.startswith(_NOT_NAME_STARTS) or grabbed.startswith("某"):
        return None
    name = _name_end(grabbed)
    return prefix + _pseudonym(name) + grabbed[len(name) :]


# A cue followed by a place (我是青岛人, 我是李沧的) is not followed by a name.
_PLACE_PREFIXES = ("青岛", "山东") + districts.names() + tuple(districts.aliases())
_NOT_GIVEN_NAME_FLAGS = ("v", "vn", "d", "p", "u", "uj", "ul", "c", "r", "m", "q", "f", "y", "zg")


def _weak_cue_name(candidate: str) -> str | None:
    """The name at the start of ``candidate`` after a weak cue (我是…, 父亲…, 联系…), or None.

    The word must start with a surname and jieba must see a person name there, not a word such as
    江苏, 高血压 or 方式 (我是江苏人, 我是高血压患者, 联系方式).
    """
    if candidate.startswith(_NOT_NAME_STARTS + _PLACE_PREFIXES) or not _surname_of(candidate):
        return None
    import jieba.posseg as pseg

    _quiet_jieba()
    words = [(w.word, w.flag) for w in pseg.cut(candidate)]
    first, flag = words[0]
    if first.endswith(_PLACE_ENDINGS):  # 石家庄 is tagged nr
        return None
    if flag.startswith("nr") and 2 <= len(first) <= 4 and _surname_of(first):
        name = _name_end(first)
        surname = _surname_of(name)
        following = words[1][0] if len(words) > 1 else ""
        if (
            len(surname) == 2
            and len(name) == 3
            and len(following) == 1
            and re.fullmatch(rf"[{_HAN}]", following)
            and not _STOP_AFTER_NAME.match(following)
        ):
            name += words[1][0]  # 欧阳明|月: jieba cuts compound-surname names short
        return name
    if len(first) == 1 and first in _SURNAMES_1 and len(words) > 1:
        given, given_flag = words[1]
        if (
            re.fullmatch(rf"[{_HAN}]{{1,2}}", given)
            and not _STOP_AFTER_NAME.match(given)
            and not given_flag.startswith(_NOT_GIVEN_NAME_FLAGS)
        ):
            return first + given
    return None


def _mask_names(text: str, *, guess: bool = True) -> str:
    def labelled(match: re.Match[str]) -> str:
        return _replace_name(match.group(1) + match.group(2), match.group(3)) or match.group(0)

    def called(match: re.Match[str]) -> str:
        return _replace_name(match.group(1), match.group(2)) or match.group(0)

    def cued(match: re.Match[str]) -> str:
        grabbed = match.group(2)
        name = _weak_cue_name(grabbed)
        if not name:
            return match.group(0)
        return match.group(1) + _pseudonym(name) + grabbed[len(name) :]

    text = _LABELLED_NAME.sub(labelled, text)
    text = _CALLED_NAME.sub(called, text)
    text = _CUED_NAME.sub(cued, text)
    return _mask_tagged_names(text) if guess else text


# 王哥庄街道, 李村: tagged as names by jieba but they are places.
_PLACE_ENDINGS = (
    "庄",
    "村",
    "屯",
    "街道",
    "街",
    "路",
    "镇",
    "社区",
    "小区",
    "大厦",
    "广场",
    "公园",
    "河",
    "山",
)


def _mask_tagged_names(text: str) -> str:
    """Person names found by jieba's part-of-speech tagger (flag ``nr``) — catches bare names."""
    import jieba.posseg as pseg

    _quiet_jieba()
    out: list[str] = []
    words = [(w.word, w.flag) for w in pseg.cut(text)]
    i = 0
    while i < len(words):
        word, flag = words[i]
        following = words[i + 1][0] if i + 1 < len(words) else ""
        if (
            flag == "nr"
            and "荣军" not in word
            and word != "某某"
            and not word.endswith("某")
            and not word.endswith(_PLACE_ENDINGS)
            and not following.startswith(_PLACE_ENDINGS)
        ):
            prev = out[-1] if out else ""
            if len(word) >= 2 and _surname_of(word):
                out.append(_pseudonym(word))
            elif len(word) >= 2 and prev and prev[-1] in _SURNAMES_1:
                out[-1] = prev[:-1]
                out.append(prev[-1] + "某")
            elif (
                len(word) == 1
                and word in _SURNAMES_1
                and i + 1 < len(words)
                and re.fullmatch(rf"[{_HAN}]{{1,2}}", words[i + 1][0])
                and words[i + 1][1] in _GIVEN_NAME_FLAGS
            ):
                out.append(word + "某")
                i += 1  # the given name
            else:
                out.append(word)
        else:
            out.append(word)
        i += 1
    return "".join(out)


# Part-of-speech flags jieba gives the given name after a one-character surname.
_GIVEN_NAME_FLAGS = ("nr", "n", "ns", "nz", "a", "ng", "x", "j", "nrt", "nrfg")

_jieba_quiet = False


def _quiet_jieba() -> None:
    global _jieba_quiet
    if not _jieba_quiet:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba_quiet = True


def anonymise(text: str, *, guess_names: bool = True, max_length: int | None = None) -> str:
    """``text`` without phone or ID numbers, names, handles, URLs or house numbers; cut to
    ``max_length`` characters (an ellipsis ends a cut text) when given.

    Names are found by cue (我叫…, 姓名：…, 老伴…) and, with ``guess_names``, by jieba's person-name
    tag, which over-masks now and then (向阳花 → 向某); a moderator's rewording skips the guessing.
    """
    text = _halfwidth(text or "")
    text = " ".join(text.split())
    text = _URL.sub(_MASKED, text)
    text = _EMAIL.sub(_MASKED, text)
    text = _HANDLE.sub(lambda m: f"{m.group(1)}{_MASKED}", text)
    text = _collapse_digit_runs(text)
    text = _CN_NUMERAL_RUN.sub(_MASKED, text)
    text = people.mask_text(text)
    text = _MASKED_TOKEN.sub(_MASKED, text)
    text = _SHORTER_NUMBER.sub(_MASKED, text)  # landlines, QQ numbers: 7–10 digits mask_text leaves
    text = _STREET_NUMBER.sub(lambda m: f"{m.group(1)}{_MASKED}", text)
    text = _HOUSE_NUMBER.sub(lambda m: f"{_MASKED}{m.group(1)}", text)
    text = _mask_names(text, guess=guess_names)
    text = re.sub(r"\+?\*{3}(?:\s*\*{3})*", _MASKED, text)
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text
