"""荣军微心愿 — veterans' small wishes, moderated, then (with consent) published for donors.

Lifecycle (every transition is a row in ``wish_events`` with who and when)::

    submitted ──approve──▶ approved ──publish──▶ published ──claim──▶ claimed ──fulfil──▶ fulfilled
        │                     │   (consent only)
        ├──reject(reason)──▶ rejected
        └──withdraw (owner) ◀─┘  (while submitted or approved)

A wish whose owner did not consent to publication can never be published; staff may still arrange
it privately: ``claim`` is also allowed from ``approved`` when ``consent_publish`` is false.

``public_text`` is derived from the description on submission: phone numbers, ID numbers, long digit
runs (``people.mask_text``) and, in addition, names, e-mail / WeChat / QQ handles and house numbers are
removed, so a published wish carries no personal identifier. The raw description and the mobile
number stay in the row for moderators only.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime
from typing import Dict, List, Optional, Union

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Session, relationship, selectinload

from bot.core import people
from bot.core.db import Base

# --- vocabulary -----------------------------------------------------------------------------------

CATEGORIES = ("生活用品", "助医", "助学", "维修", "陪伴", "其他")

SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
PUBLISHED = "published"
CLAIMED = "claimed"
FULFILLED = "fulfilled"
WITHDRAWN = "withdrawn"
STATUSES = (SUBMITTED, APPROVED, REJECTED, PUBLISHED, CLAIMED, FULFILLED, WITHDRAWN)
OPEN_STATUSES = (SUBMITTED, APPROVED, PUBLISHED, CLAIMED)

CLAIMANT_KINDS = ("donor", "merchant")

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": ((SUBMITTED,), APPROVED),
    "reject": ((SUBMITTED,), REJECTED),
    "publish": ((APPROVED,), PUBLISHED),
    "claim": ((PUBLISHED,), CLAIMED),  # + APPROVED when the owner did not consent to publication
    "fulfil": ((CLAIMED,), FULFILLED),
    "withdraw": ((SUBMITTED, APPROVED), WITHDRAWN),
}

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6
MAX_DESCRIPTION = 1000
MAX_PUBLIC_TEXT = 300


class WishError(Exception):
    """Base class; ``code`` is a stable machine-readable reason (map it to a response)."""

    def __init__(self, code: str, message: str = "", *, wish_code: Optional[str] = None,
                 status: Optional[str] = None):
        super().__init__(message or code)
        self.code = code
        self.wish_code = wish_code
        self.status = status


class InvalidTransition(WishError):
    """An action not allowed for the wish as it stands.

    codes: not_found, wrong_status, no_consent, not_owner, reason_required, claimant_required,
    bad_claimant_kind, actor_required.
    """


class InvalidWish(WishError, ValueError):
    """Bad submission data. codes: bad_category, empty_description, description_too_long,
    bad_budget, bad_mobile, sender_required."""


# --- models ---------------------------------------------------------------------------------------


class Wish(Base):
    __tablename__ = "wishes"
    __table_args__ = (
        UniqueConstraint("code", name="uq_wishes_code"),
        CheckConstraint(
            "status IN ('submitted', 'approved', 'rejected', 'published', 'claimed', 'fulfilled', 'withdrawn')",
            name="ck_wishes_status",
        ),
        CheckConstraint("claimant_kind IS NULL OR claimant_kind IN ('donor', 'merchant')",
                        name="ck_wishes_claimant_kind"),
        Index("ix_wishes_sender_id", "sender_id"),
        Index("ix_wishes_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(12), nullable=False)
    sender_id = Column(String(128), nullable=False)
    category = Column(String(16), nullable=False)
    description = Column(Text, nullable=False)
    budget = Column(Integer, nullable=True)  # yuan
    district = Column(String(16), nullable=True)
    mobile = Column(String(20), nullable=True)  # stored for staff; shown masked
    consent_publish = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False)
    public_text = Column(Text, nullable=False)
    reject_reason = Column(Text, nullable=True)
    claimed_by = Column(String(128), nullable=True)
    claimant_kind = Column(String(16), nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    events = relationship(
        "WishEvent",
        back_populates="wish",
        order_by="WishEvent.id",
        cascade="all, delete-orphan",
    )

    @property
    def mobile_masked(self) -> Optional[str]:
        return people.mask_phone(self.mobile) if self.mobile else None

    def __repr__(self) -> str:  # never shows the description or the mobile
        return f"<Wish {self.code} {self.status}>"


class WishEvent(Base):
    __tablename__ = "wish_events"
    __table_args__ = (Index("ix_wish_events_wish_id", "wish_id"),)

    id = Column(Integer, primary_key=True)
    wish_id = Column(Integer, ForeignKey("wishes.id", ondelete="CASCADE", name="fk_wish_events_wish_id"),
                     nullable=False)
    from_status = Column(String(16), nullable=True)  # None for the submission itself
    to_status = Column(String(16), nullable=False)
    actor = Column(String(128), nullable=False)
    note = Column(Text, nullable=True)
    at = Column(DateTime, nullable=False)

    wish = relationship("Wish", back_populates="events")


# --- anonymisation --------------------------------------------------------------------------------

_HAN = r"\u4e00-\u9fff"
_CN_DIGITS = "零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖"

# Common single surnames (covers the vast majority of the population) and compound surnames.
_SURNAMES_1 = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池乜匡国位"
)
_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
               "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "呼延", "澹台")

# Words that follow a name-ish prefix but are not names (我是退役军人, 我是伤残军人 ...).
_NOT_NAME_STARTS = ("一名", "一位", "一个", "个", "退役", "退伍", "转业", "军", "伤残", "烈士", "老兵",
                    "家属", "本人", "荣军", "党员", "残疾", "现役", "复员", "在", "从", "住", "来自")

_MASKED = "***"


def _surname_of(word: str) -> Optional[str]:
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
    rf"(是|的|在|住|今年|家|需要|想|希望|因为|由于|患|身体|腿|行动|电话|手机|联系|，|。|,|\.|\s|$)"
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_HANDLE = re.compile(
    r"(微信号?|vx|VX|Vx|wx|WX|weixin|wechat|WeChat|QQ号?|qq号?|扣扣|抖音号?|快手号?)\s*(?:号)?\s*[:：是为]?\s*"
    r"([A-Za-z0-9_\-]{5,})"
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_SPACED_DIGITS = re.compile(r"(?<![\d])(?:\+?86[\s\-]*)?\d(?:[\s\-－—.·]*\d){6,}[\dXx]?")
_CN_NUMERAL_RUN = re.compile(rf"[{_CN_DIGITS}](?:[\s\-]*[{_CN_DIGITS}]){{6,}}")
_HOUSE_NUMBER = re.compile(r"(?<![\d])\d{1,5}\s*(号楼|号院|栋|幢|单元|室|户)")
_STREET_NUMBER = re.compile(rf"([{_HAN}A-Za-z]{{1,8}}(?:路|街|巷|道|胡同|里|村|社区|小区))\s*\d{{1,5}}\s*(?:-\d+)?\s*号")
_SHORTER_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{7,}(?![\dA-Za-z])")
_MASKED_TOKEN = re.compile(r"\d*\*{2,}[\dXx]*")


# Full-width digits, Latin letters and a few symbols → ASCII; Chinese punctuation stays as written.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)
              if not (0xFF08 <= code <= 0xFF09 or code in (0xFF0C, 0xFF1A, 0xFF1B, 0xFF01, 0xFF1F))}
_HALFWIDTH[0x3000] = 0x20


def _halfwidth(text: str) -> str:
    return text.translate(_HALFWIDTH)


def _collapse_digit_runs(text: str) -> str:
    """'138 1234-5678' → '13812345678' so the number is recognised as one run."""

    def repl(match: "re.Match[str]") -> str:
        return re.sub(r"[\s\-－—.·]", "", match.group(0))

    return _SPACED_DIGITS.sub(repl, text)


def _name_end(candidate: str) -> str:
    """Cut a greedy 2-4 character grab at the first word that cannot belong to a name."""
    surname = _surname_of(candidate) or ""
    rest = candidate[len(surname):]
    match = _STOP_AFTER_NAME.search(rest, 1 if rest else 0)
    if match and match.start() > 0:
        rest = rest[: match.start()]
    return surname + rest[: 2 if surname else 3]


def _replace_name(prefix: str, grabbed: str) -> Optional[str]:
    """``prefix`` + pseudonym for the name at the start of ``grabbed`` (rest kept), or None."""
    if grabbed.startswith(_NOT_NAME_STARTS) or grabbed.startswith("某"):
        return None
    name = _name_end(grabbed)
    return prefix + _pseudonym(name) + grabbed[len(name):]


_PLACE_PREFIXES = ("青岛", "山东", "西海岸", "市南", "市北", "李沧", "崂山", "城阳", "黄岛", "即墨", "胶州", "平度", "莱西")
_NOT_GIVEN_NAME_FLAGS = ("v", "vn", "d", "p", "u", "uj", "ul", "c", "r", "m", "q", "f", "y", "zg")


def _weak_cue_name(candidate: str) -> Optional[str]:
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
        if len(surname) == 2 and len(name) == 3 and len(words) > 1 and len(words[1][0]) == 1 \
                and re.fullmatch(rf"[{_HAN}]", words[1][0]) and not _STOP_AFTER_NAME.match(words[1][0]):
            name += words[1][0]  # 欧阳明|月: jieba cuts compound-surname names short
        return name
    if len(first) == 1 and first in _SURNAMES_1 and len(words) > 1:
        given, given_flag = words[1]
        if re.fullmatch(rf"[{_HAN}]{{1,2}}", given) and not _STOP_AFTER_NAME.match(given) \
                and not given_flag.startswith(_NOT_GIVEN_NAME_FLAGS):
            return first + given
    return None


def _mask_names(text: str, *, guess: bool = True) -> str:
    def labelled(match: "re.Match[str]") -> str:
        return _replace_name(match.group(1) + match.group(2), match.group(3)) or match.group(0)

    def called(match: "re.Match[str]") -> str:
        return _replace_name(match.group(1), match.group(2)) or match.group(0)

    def cued(match: "re.Match[str]") -> str:
        grabbed = match.group(2)
        name = _weak_cue_name(grabbed)
        if not name:
            return match.group(0)
        return match.group(1) + _pseudonym(name) + grabbed[len(name):]

    text = _LABELLED_NAME.sub(labelled, text)
    text = _CALLED_NAME.sub(called, text)
    text = _CUED_NAME.sub(cued, text)
    return _mask_tagged_names(text) if guess else text


# 王哥庄街道, 李村: tagged as names by jieba but they are places.
_PLACE_ENDINGS = ("庄", "村", "屯", "街道", "街", "路", "镇", "社区", "小区", "大厦", "广场", "公园", "河", "山")


def _mask_tagged_names(text: str) -> str:
    """Person names found by jieba's part-of-speech tagger (flag ``nr``) — catches bare names."""
    import jieba.posseg as pseg

    _quiet_jieba()
    out: List[str] = []
    words = [(w.word, w.flag) for w in pseg.cut(text)]
    i = 0
    while i < len(words):
        word, flag = words[i]
        following = words[i + 1][0] if i + 1 < len(words) else ""
        if flag == "nr" and "荣军" not in word and word != "某某" and not word.endswith("某") \
                and not word.endswith(_PLACE_ENDINGS) and not following.startswith(_PLACE_ENDINGS):
            prev = out[-1] if out else ""
            if len(word) >= 2 and _surname_of(word):
                out.append(_pseudonym(word))
            elif len(word) >= 2 and prev and prev[-1] in _SURNAMES_1:
                out[-1] = prev[:-1]
                out.append(prev[-1] + "某")
            elif len(word) == 1 and word in _SURNAMES_1 and i + 1 < len(words) \
                    and re.fullmatch(rf"[{_HAN}]{{1,2}}", words[i + 1][0]) \
                    and words[i + 1][1] in ("nr", "n", "ns", "nz", "a", "ng", "x", "j", "nrt", "nrfg"):
                out.append(word + "某")
                i += 1  # the given name
            else:
                out.append(word)
        else:
            out.append(word)
        i += 1
    return "".join(out)


_jieba_quiet = False


def _quiet_jieba() -> None:
    global _jieba_quiet
    if not _jieba_quiet:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba_quiet = True


def anonymise(text: str, *, guess_names: bool = True) -> str:
    """The publishable form of a wish description: no phone, ID number, name, handle or house number.

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
    if len(text) > MAX_PUBLIC_TEXT:
        text = text[: MAX_PUBLIC_TEXT - 1] + "…"
    return text


# --- helpers --------------------------------------------------------------------------------------


def _new_code(s: Session) -> str:
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if s.execute(select(Wish.id).where(Wish.code == code)).first() is None:
            return code
    raise RuntimeError("could not allocate a unique wish code")  # pragma: no cover


def normalise_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", code or "")).upper()


def _load(s: Session, wish_id: Union[int, str], *, lock: bool = True) -> Wish:
    """A wish by numeric id (int) or public code (str), row-locked for the transition."""
    if isinstance(wish_id, str):
        stmt = select(Wish).where(Wish.code == normalise_code(wish_id))
    else:
        stmt = select(Wish).where(Wish.id == int(wish_id))
    if lock:
        # populate_existing: a wish already in this session is refreshed from the locked row,
        # so a decision is never taken on a stale status.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    wish = s.execute(stmt).scalars().first()
    if wish is None:
        raise InvalidTransition("not_found", f"no wish {wish_id!r}")
    return wish


def _record(s: Session, wish: Wish, to_status: str, actor: str, note: Optional[str], now: datetime) -> None:
    event = WishEvent(from_status=wish.status, to_status=to_status, actor=actor, note=note, at=now)
    wish.events.append(event)
    wish.status = to_status
    wish.updated_at = now
    s.flush()


def _transition(s: Session, wish: Union[Wish, int, str], action: str, actor: str, now: datetime, *,
                note: Optional[str] = None, also_from=()) -> Wish:
    if not (actor or "").strip():
        raise InvalidTransition("actor_required", "an actor is required")
    if not isinstance(wish, Wish):
        wish = _load(s, wish)
    allowed, target = TRANSITIONS[action]
    if wish.status not in tuple(allowed) + tuple(also_from):
        raise InvalidTransition(
            "wrong_status", f"cannot {action} a wish that is {wish.status}",
            wish_code=wish.code, status=wish.status,
        )
    _record(s, wish, target, actor.strip(), note, now)
    return wish


# --- service functions ----------------------------------------------------------------------------


def submit(s: Session, *, sender_id: str, category: str, description: str,
           budget: Optional[int] = None, district: Optional[str] = None, mobile: Optional[str] = None,
           consent_publish: bool = False, now: datetime) -> Wish:
    if not (sender_id or "").strip():
        raise InvalidWish("sender_required")
    if category not in CATEGORIES:
        raise InvalidWish("bad_category", f"category must be one of {CATEGORIES}")
    description = " ".join((description or "").split())
    if not description:
        raise InvalidWish("empty_description")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidWish("description_too_long")
    if district:  # optional metadata: canonical (西海岸新区 → 黄岛区), or dropped when not in Qingdao
        from bot.core.jobs import normalise_district

        district = normalise_district(district)
    if budget is not None:
        try:
            budget = int(budget)
        except (TypeError, ValueError):
            raise InvalidWish("bad_budget") from None
        if budget < 0:
            raise InvalidWish("bad_budget")
    if mobile:
        try:
            mobile = people.validate_mobile(mobile)
        except people.InvalidMobile as exc:
            raise InvalidWish("bad_mobile", exc.code) from None
    wish = Wish(
        code=_new_code(s),
        sender_id=sender_id.strip(),
        category=category,
        description=description,
        budget=budget,
        district=district or None,
        mobile=mobile or None,
        consent_publish=bool(consent_publish),
        status=SUBMITTED,
        public_text=anonymise(description),
        created_at=now,
        updated_at=now,
    )
    wish.events.append(WishEvent(from_status=None, to_status=SUBMITTED, actor=wish.sender_id, at=now))
    s.add(wish)
    s.flush()
    return wish


def approve(s: Session, wish_id, actor: str, now: datetime, *, public_text: Optional[str] = None,
            guess_names: bool = True, note: Optional[str] = None) -> Wish:
    """Moderator accepts the wish; ``public_text`` lets them reword it. The rewording is anonymised
    again; ``guess_names=False`` skips only the jieba name guessing (numbers, handles and cued names
    are still masked), so a moderator can undo a false positive such as 金某茶 → 金银花茶."""
    wish = _transition(s, wish_id, "approve", actor, now, note=note)
    if public_text is not None and public_text.strip():
        wish.public_text = anonymise(public_text, guess_names=guess_names)
    return wish


def reject(s: Session, wish_id, actor: str, reason: str, now: datetime) -> Wish:
    if not (reason or "").strip():
        raise InvalidTransition("reason_required", "a rejection needs a reason")
    wish = _transition(s, wish_id, "reject", actor, now, note=reason.strip())
    wish.reject_reason = reason.strip()
    return wish


def publish(s: Session, wish_id, actor: str, now: datetime) -> Wish:
    wish = _load(s, wish_id)
    if wish.status == APPROVED and not wish.consent_publish:
        raise InvalidTransition("no_consent", "the owner did not consent to publication",
                                wish_code=wish.code, status=wish.status)
    return _transition(s, wish, "publish", actor, now)


def claim(s: Session, wish_id, claimant: str, claimant_kind: str, actor: str, now: datetime) -> Wish:
    """A donor or a 荣军联盟 merchant takes the wish on."""
    if not (claimant or "").strip():
        raise InvalidTransition("claimant_required")
    if claimant_kind not in CLAIMANT_KINDS:
        raise InvalidTransition("bad_claimant_kind", f"claimant_kind must be one of {CLAIMANT_KINDS}")
    wish = _load(s, wish_id)
    also = (APPROVED,) if not wish.consent_publish else ()
    wish = _transition(s, wish, "claim", actor, now, note=claimant.strip(), also_from=also)
    wish.claimed_by = claimant.strip()
    wish.claimant_kind = claimant_kind
    return wish


def fulfil(s: Session, wish_id, actor: str, note: Optional[str], now: datetime) -> Wish:
    return _transition(s, wish_id, "fulfil", actor, now, note=(note or "").strip() or None)


def withdraw(s: Session, wish_id, sender_id: str, now: datetime) -> Wish:
    """The owner takes the wish back (only before it is published)."""
    wish = _load(s, wish_id)
    if wish.sender_id != (sender_id or "").strip():
        raise InvalidTransition("not_owner", "only the owner may withdraw a wish",
                                wish_code=wish.code, status=wish.status)
    return _transition(s, wish, "withdraw", sender_id, now)


# --- queries --------------------------------------------------------------------------------------


def event_dict(event: WishEvent) -> Dict:
    return {"from_status": event.from_status, "to_status": event.to_status, "actor": event.actor,
            "note": event.note, "at": event.at}


def to_dict(wish: Wish, *, history: bool = False) -> Dict:
    """The owner's / staff view; the mobile is masked."""
    data = {
        "id": wish.id,
        "code": wish.code,
        "sender_id": wish.sender_id,
        "category": wish.category,
        "description": wish.description,
        "public_text": wish.public_text,
        "budget": wish.budget,
        "district": wish.district,
        "mobile_masked": wish.mobile_masked,
        "consent_publish": wish.consent_publish,
        "status": wish.status,
        "reject_reason": wish.reject_reason,
        "claimed_by": wish.claimed_by,
        "claimant_kind": wish.claimant_kind,
        "created_at": wish.created_at,
        "updated_at": wish.updated_at,
    }
    if history:
        data["history"] = [event_dict(e) for e in wish.events]
    return data


def list_for_sender(s: Session, sender_id: str) -> List[Dict]:
    """The sender's wishes, newest first, each with its history."""
    wishes = s.execute(
        select(Wish).where(Wish.sender_id == sender_id)
        .options(selectinload(Wish.events))
        .order_by(Wish.created_at.desc(), Wish.id.desc())
    ).scalars().all()
    return [to_dict(w, history=True) for w in wishes]


def get_by_code(s: Session, code: str) -> Optional[Wish]:
    """A wish by its public code (case, spaces and full-width tolerated)."""
    code = normalise_code(code)
    if not code:
        return None
    return s.execute(select(Wish).where(Wish.code == code)).scalars().first()


def list_by_status(s: Session, status: str, *, limit: Optional[int] = None) -> List[Wish]:
    """Moderation queue: oldest first."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    stmt = select(Wish).where(Wish.status == status).order_by(Wish.created_at, Wish.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(s.execute(stmt).scalars().all())


def published_feed(s: Session, *, district: Optional[str] = None, category: Optional[str] = None,
                   limit: int = 50) -> List[Dict]:
    """What the public may see: anonymised text, district, category, budget — nothing else."""
    stmt = select(Wish.public_text, Wish.district, Wish.category, Wish.budget).where(
        Wish.status == PUBLISHED, Wish.consent_publish.is_(True)
    )
    if district:
        stmt = stmt.where(Wish.district == district)
    if category:
        stmt = stmt.where(Wish.category == category)
    stmt = stmt.order_by(Wish.updated_at.desc(), Wish.id.desc()).limit(limit)
    return [
        {"public_text": row.public_text, "district": row.district, "category": row.category,
         "budget": row.budget}
        for row in s.execute(stmt)
    ]
