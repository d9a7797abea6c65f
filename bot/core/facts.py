"""The facts one message gives about the person booking: name, phone, ID, district, category, a
date/time expression — and which of them the user says were wrong ("刚才电话打错了，应该是…").

Why: veterans type (or voice-type) everything in one go — "我叫李建国，退伍兵，电话138…，住城阳，
想下周三上午去报到" — or answer one question with another fact, or correct an earlier answer at
any question. Every form reads the message through ``find`` so that no fact given is asked for
again. Plain Python: the form validators (``actions/validators.py``) turn facts into slots.

Values are normalised: ``phone`` is an 11-digit mobile or a landline with its area code
(``people.validate_phone``), ``id_number`` a checked 18-character ID, ``district`` the canonical
name of the district registry, ``category`` a canonical veteran category, ``when`` the part of
the message that names a day or time (for ``timeparse``), ``name`` a plausible person's name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from bot.core import districts, entitlements, numerals, people
from bot.core.script import normalise as simplified
from bot.core.surnames import COMPOUND as _COMPOUND_SURNAMES
from bot.core.surnames import SINGLE as _SURNAMES

__all__ = [
    "Facts",
    "find",
    "find_name",
    "answer_name",
    "find_phone",
    "find_when",
    "spoken_digits",
    "asks_to_wait",
]

NAME, PHONE, ID, DISTRICT, CATEGORY, WHEN = (
    "name",
    "phone",
    "id_number",
    "district",
    "category",
    "when",
)


@dataclass(frozen=True)
class Facts:
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    # an ID-like run that failed a check: people.InvalidIdNumber's code
    id_error: str | None = None
    district: str | None = None
    category: str | None = None
    when: str | None = None
    # the fields the user says are wrong ("电话打错了", "名字写错了", "时间改成…")
    corrected: frozenset[str] = field(default_factory=frozenset)

    @property
    def found(self) -> frozenset[str]:
        """The fields this message gives a value for."""
        values = {
            NAME: self.name,
            PHONE: self.phone,
            ID: self.id_number,
            DISTRICT: self.district,
            CATEGORY: self.category,
            WHEN: self.when,
        }
        return frozenset(key for key, value in values.items() if value)


# --------------------------------------------------------------------------- vocabulary

# Words that are never a name, however they are typed at the name question.
_NOT_NAMES = frozenset(
    [
        "等会",
        "等一会",
        "等一下",
        "等等",
        "稍等",
        "马上",
        "不知道",
        "不清楚",
        "不记得",
        "不想说",
        "没有",
        "没有名字",
        "你好",
        "您好",
        "谢谢",
        "好的",
        "可以",
        "是的",
        "对的",
        "不对",
        "不是",
        "算了",
        "不用",
        "不要",
        "不办了",
        "干什么",
        "为什么",
        "什么",
        "怎么",
        "咋弄",
        "咋办",
        "报到",
        "预约",
        "取消",
        "电话",
        "手机",
        "身份证",
        "姓名",
        "名字",
        "本人",
        "我自己",
        "自己",
        "俺自己",
        "俺爹",
        "俺娘",
        "老伴",
        "同志",
        "师傅",
        "老兵",
        "军人",
        "家属",
        "退役",
        "退伍",
        "转业",
        "复员",
        "干部",
        "士兵",
        "遗属",
        "烈属",
        "军属",
        "上午",
        "下午",
        "明天",
        "后天",
    ]
)
# Characters that do not occur in a name typed alone but do in words ("等会", "不知道", "好吧").
_FUNCTION_CHARS = frozenset(
    "会么道知不好了吗呢啊吧是没有我你他她它等什这那哪怎咋嗯哦呃哈呀啥的得很太也都还就再想能去过着"
)
_FILLERS = re.compile(
    r"^(?:(?:嗯+|呃+|啊+|哦+|噢+|额+|那个|这个|就是|好的|好|行|对|是的|emm+)[\s,，、。.!！~～]*)+"
)
_NAME_LEAD = re.compile(
    r"^(?:我|俺|本人|他|她|报到人|老人|我爹|俺爹|我爸|俺爸|我妈|俺娘)?"
    r"(?:的)?(?:全名|名字|姓名)?(?:叫做|叫|是|为|[:：])?\s*"
)
_NAME_TAIL = re.compile(r"(?:吧|呀|啊|哈|呢|嘛|哦|就行|就可以|谢谢)+$")
_HANZI_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_DOTTED_NAME = re.compile(r"[\u4e00-\u9fff]{1,8}(?:[·•・.][\u4e00-\u9fff]{1,8}){1,3}")
_LATIN_NAME = re.compile(r"[A-Za-z][a-z]+(?:[ .'-][A-Za-z][a-z]+){1,3}")
# "我叫X" / "名字X" / "姓名：X" in a longer message (not "我是X": "我是转业军官").
_CALLED = re.compile(
    r"(?:我叫|俺叫|他叫|她叫|爹叫|爸叫|娘叫|妈叫|名字叫|名叫|叫做|姓名是|名字是|全名是|"
    r"名字[:：]?|姓名[:：]?|(?<![喊哭吵大])叫)\s*"
    r"([\u4e00-\u9fff·•・]{2,12})"
)
# After a correction: "名字写错了，是王淑贞" / "应该是刘凤莲" / "改成王淑贞".
_CORRECTED_TO = re.compile(
    r"(?:应该是|应是|改成|改为|换成|正确的是|对的是|是|叫)\s*([\u4e00-\u9fff·•・]{2,12})"
)
# Where a name typed in a run stops ("叫刘国强住平度", "叫王建国是退役士兵").
_NAME_STOP = re.compile(
    r"是|的|住|在|电话|手机|身份|今年|想|要|约|退役|退伍|转业|复员|军休|军人|烈士|户口|家在|家住"
    r"|号码|[，,。、\s]"
)

# Correction vocabulary: a field word and a "that was wrong / change it" word.
_CORRECTION = re.compile(
    r"错了|打错|写错|输错|说错|弄错|搞错|填错|不对|改成|改为|改到|换成|换到|应该是|更正|重新填"
)
_FIELD_WORDS = (
    (ID, re.compile(r"身份证")),
    (PHONE, re.compile(r"手机|电话|号码|座机")),
    (NAME, re.compile(r"姓名|名字|名儿")),
    (DISTRICT, re.compile(r"服务中心|地点|地方|区县|区市|户口|住在|住址")),
    (CATEGORY, re.compile(r"身份|类别")),
    (WHEN, re.compile(r"时间|日期|哪天|几点|钟点|上午|下午|点|(?<![机话证])号(?!码)|周|星期|礼拜")),
)

# Colloquial categories the catalogue's aliases do not list ("俺是当兵退下来的").
_CATEGORY_PHRASES = (
    (re.compile(r"当兵.{0,4}(?:退|回来|下来)|退伍|退役兵|退下来的兵|老兵退役"), "退役士兵"),
    (re.compile(r"部队.{0,3}转业|转业.{0,2}(?:的|回来)"), "转业军官"),
    (re.compile(r"复员"), "复员军人"),
    (re.compile(r"军休|离休干部|退休干部"), "军休干部"),
)

# --------------------------------------------------------------------------- digits

_SPOKEN = "零〇一二三四五六七八九幺两洞"
_SPOKEN_RUN = re.compile(rf"[{_SPOKEN}](?:[\s\-、,，]*[{_SPOKEN}]){{6,}}")
_SPOKEN_VALUE = {**numerals.DIGITS, "洞": 0}


def spoken_digits(text: str) -> str:
    """'一三八 五三二六 七七八九' → '13853267789' (runs of 7+ spoken digits, 幺 = 1, 洞 = 0)."""

    def digits(match: re.Match[str]) -> str:
        return "".join(str(_SPOKEN_VALUE[c]) for c in match.group(0) if c in _SPOKEN_VALUE)

    return _SPOKEN_RUN.sub(digits, text)


# A run of digits with the separators people type between groups (spaces, dashes, dots).
_DIGIT_RUN = re.compile(
    r"(?<![\dA-Za-z])(?:\+?86[\s\-]*)?\d(?:[\s\-.]{0,2}\d){6,}[\dXx]?(?![\dA-Za-z])"
)


def _runs(text: str) -> list[tuple[str, int, int]]:
    """Digit runs of the message: (digits only, start, end)."""
    found = []
    for match in _DIGIT_RUN.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"[\s\-.]", "", raw)
        if digits.startswith("+86"):
            digits = digits[3:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        found.append((digits.upper(), match.start(), match.end()))
    return found


def _prepared(text: str | None) -> str:
    """NFKC, Traditional → Simplified, spoken digits → digits."""
    return spoken_digits(simplified(unicodedata.normalize("NFKC", text or "")))


def find_phone(text: str | None) -> str | None:
    """The first contact number in ``text`` (mobile or landline), normalised, else None."""
    for digits, _, _ in _runs(_prepared(text)):
        if len(digits) >= 15:
            continue  # an ID number
        try:
            return people.validate_phone(digits)
        except people.InvalidMobile:
            continue
    return None


def _find_id(text: str, today: date | None) -> tuple[str | None, str | None]:
    for digits, _, _ in _runs(text):
        if len(digits) < 15:
            continue
        try:
            return people.validate_id_number(digits, today=today), None
        except people.InvalidIdNumber as error:
            return None, error.code
    return None, None


# --------------------------------------------------------------------------- names


def _has_surname(name: str) -> bool:
    return any(name.startswith(s) for s in _COMPOUND_SURNAMES) or name[0] in _SURNAMES


def plausible_name(candidate: str | None, *, strict: bool = False) -> bool:
    """A person's name: 2–4 Hanzi (up to 5 with a compound surname), a name with ·, or a Latin
    'First Last'. ``strict`` (a clause among other facts) wants a known surname and 3+ Hanzi."""
    name = (candidate or "").strip()
    if not name or name in _NOT_NAMES:
        return False
    if _DOTTED_NAME.fullmatch(name):
        return True
    if _LATIN_NAME.fullmatch(name):
        return not strict
    compound = any(name.startswith(s) for s in _COMPOUND_SURNAMES)
    if not (re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name) or (compound and len(name) == 5)):
        return False
    if any(word in name for word in _NOT_NAMES if len(word) >= 2):
        return False
    if strict and (not _has_surname(name) or not 3 <= len(name) <= (5 if compound else 3)):
        return False  # a two-character word ("时间", "明白") is too often not a name
    given = name[2:] if compound else name[1:]
    return (
        not any(char in _FUNCTION_CHARS for char in given)
        and name[0] not in "不没我你他她这那什咋怎"
    )


def _trim(candidate: str) -> str:
    """'刘国强住平度' → '刘国强': cut a name run at the first word that cannot be part of it."""
    candidate = re.sub(r"[•・.]", "·", candidate)
    if "·" in candidate:
        return candidate
    start = 3 if any(candidate.startswith(s) for s in _COMPOUND_SURNAMES) else 2
    stop = _NAME_STOP.search(candidate, start)
    candidate = candidate[: stop.start()] if stop else candidate
    return candidate[:5] if start == 3 else candidate[:4]


def find_name(text: str | None) -> str | None:
    """A name the message gives among other facts ('我叫王德顺 手机号…', '…，孟庆和，138…')."""
    clean = _prepared(text)
    for match in _CALLED.finditer(clean):
        candidate = _trim(match.group(1))
        if plausible_name(candidate):
            return candidate
    # a clause that is only a name: "我是军休干部，孟庆和，13869871234"
    for clause in re.split(r"[，,。;；、\s!！?？]+", clean):
        clause = re.sub(r"^(?:我是|俺是|本人|我|俺)", "", clause)
        if plausible_name(clause, strict=True) and not _is_other_fact(clause):
            return clause
    return None


def answer_name(text: str | None) -> str | None:
    """The name in an answer to "请问报到人的姓名？": fillers and '我叫…吧' stripped; None for
    words and gibberish ('等会', 'aaaasss', '不知道')."""
    clean = unicodedata.normalize("NFKC", text or "").strip()
    clean = simplified(clean) if not _DOTTED_NAME.fullmatch(clean) else clean
    clean = _FILLERS.sub("", clean).strip()
    clean = clean.strip(" ，,。.!！~～")
    bare = _NAME_TAIL.sub("", _NAME_LEAD.sub("", clean, count=1)).strip(" ，,。.!！~～")
    bare = re.sub(r"[•・]", "·", bare)
    if plausible_name(bare) and not _is_other_fact(bare):
        return bare
    found = find_name(clean)
    return found


_WAIT = re.compile(r"^(?:等会|等一会|等一下|稍等|等等|马上|一会|我找找|我查查|我问问|让我想想)")


def asks_to_wait(text: str | None) -> bool:
    """'等会' / '稍等' / '我找找': the user needs a moment, it is not an answer."""
    return bool(_WAIT.search(_FILLERS.sub("", simplified(text or "").strip())))


def _is_other_fact(word: str) -> bool:
    return bool(
        districts.find(word)
        or _category(word)
        or re.search(r"[上下]午|[明后今]天|(?:周|星期|礼拜)[一二三四五六日天]|[区市号]$", word)
    )


# --------------------------------------------------------------------------- category, district


def _category(text: str) -> str | None:
    value = entitlements.canonical_category(text)
    if value in entitlements.VETERAN_CATEGORIES:
        return value
    names = list(entitlements.VETERAN_CATEGORIES) + list(entitlements.CATEGORY_ALIASES)
    for name in sorted(names, key=len, reverse=True):
        if name in text:
            return entitlements.canonical_category(name)
    for pattern, category in _CATEGORY_PHRASES:
        if pattern.search(text):
            return category
    return None


def find_category(text: str | None) -> str | None:
    """A veteran category the message names, canonical ('退伍兵' → '退役士兵'), else None."""
    return _category(_prepared(text)) if text else None


_NEGATED = re.compile(r"(?:不是|不在|并非|而不是)[^，,。;；\s]{1,6}")


def find_district(text: str | None) -> str | None:
    """The district the message names, not one it denies ('在崂山 不是李沧' → 崂山区)."""
    return districts.find(_NEGATED.sub(" ", _prepared(text))) if text else None


# --------------------------------------------------------------------------- date and time

_CN = "零〇一二两三四五六七八九十"
_DAY = (
    rf"(?:大后天|后天|明天|今天|明早|明儿|昨天|前天|\d{{4}}-\d{{1,2}}-\d{{1,2}}"
    rf"|[上下]下?(?:个)?(?:周|星期|礼拜)[一二三四五六日天1-7]"
    rf"|(?:\d{{4}}年)?(?:下个?月)?(?:\d{{1,2}}|[{_CN}]{{1,3}})[号日](?![子期])"
    rf"|(?:这|本)?(?:周|星期|礼拜)[一二三四五六日天1-7]"
    rf"|(?:\d{{4}}年)?(?:\d{{1,2}}|[{_CN}]{{1,3}})月(?:\d{{1,2}}|[{_CN}]{{1,3}})[日号]?"
    rf"|(?:\d{{1,2}}|[{_CN}]{{1,3}})[号日](?![子期])|\d{{1,2}}[./]\d{{1,2}}(?![\d])"
    rf"|下(?:个)?(?:周|星期|礼拜))"
)
_PART = r"(?:上午|下午|中午|早上|早晨|一早|晚上|傍晚)"
_CLOCK = (
    rf"(?:\d{{1,2}}[:：]\d{{2}}|(?:\d{{1,2}}|[{_CN}]{{1,3}})[点时]"
    rf"(?:半|一刻|三刻|(?:\d{{1,2}}|[{_CN}]{{1,3}})分?)?)"
)
_WHEN = re.compile(rf"(?:{_DAY}\s*(?:的)?)?(?:{_PART}\s*)?(?:{_CLOCK})?")
_HAS_DAY = re.compile(_DAY)


def find_when(text: str | None) -> str | None:
    """The first date/time expression of the message ('…想下周三上午去报到' → '下周三上午');
    None when it names no day, part of day or hour."""
    clean = _prepared(text)
    for _digits, start, end in sorted(_runs(clean), key=lambda run: -run[1]):
        clean = clean[:start] + " " + clean[end:]  # no phone digit is read as a date
    for match in _WHEN.finditer(clean):
        span = match.group(0).strip()
        if len(span) >= 2:
            return span
    return None


def names_day(when: str | None) -> bool:
    """Does the expression name a day ('下周四', '5号'), not just a part of day or an hour?"""
    return bool(when and _HAS_DAY.search(when))


# --------------------------------------------------------------------------- all together


def corrected_fields(text: str | None) -> frozenset[str]:
    """The fields the user says were wrong or wants changed ('电话打错了' → {phone}): for each
    correction word, the field named nearest to it ('名字打错了 是… 电话…' → {name})."""
    clean = _prepared(text)
    fields = set()
    for correction in _CORRECTION.finditer(clean):
        nearest = None
        for key, pattern in _FIELD_WORDS:
            for word in pattern.finditer(clean):
                distance = (
                    correction.start() - word.end()
                    if word.end() <= correction.start()
                    else word.start() - correction.end() + 0.5  # a word before wins a tie
                )
                if distance >= 0 and (nearest is None or distance < nearest[0]):
                    nearest = (distance, key)
        if nearest is not None:
            fields.add(nearest[1])
    return frozenset(fields)


def find(text: str | None, today: date | None = None) -> Facts:
    """Every fact the message gives. A name after a correction of the name ('名字写错了，是王淑贞')
    is read from the words after 是/改成 too."""
    clean = _prepared(text)
    if not clean.strip():
        return Facts()
    id_number, id_error = _find_id(clean, today)
    phone = None
    for digits, _, _ in _runs(clean):
        if len(digits) >= 15:
            continue
        try:
            phone = people.validate_phone(digits)
            break
        except people.InvalidMobile:
            continue
    corrected = corrected_fields(clean)
    name = find_name(clean)
    if NAME in corrected:
        for match in _CORRECTED_TO.finditer(clean):
            candidate = _trim(match.group(1))
            if plausible_name(candidate) and not _is_other_fact(candidate):
                name = candidate
    return Facts(
        name=name,
        phone=phone,
        id_number=id_number,
        id_error=id_error,
        district=find_district(clean),
        category=_category(clean),
        when=find_when(clean),
        corrected=corrected,
    )
