"""荣军微心愿 — veterans' small wishes, moderated, then (with consent) published for donors.

Lifecycle (every transition is a row in ``wish_events`` with who and when)::

    submitted ──approve──▶ approved ──publish──▶ published ──claim──▶ claimed ──fulfil──▶ fulfilled
        │                     │   (consent only)
        ├──reject(reason)──▶ rejected
        └──withdraw (owner) ◀─┘  (while submitted or approved)

A wish whose owner did not consent to publication can never be published; staff may still arrange
it privately: ``claim`` is also allowed from ``approved`` when ``consent_publish`` is false.

``public_text`` is derived from the description on submission by ``bot.core.anonymise``: phone
numbers, ID numbers, long digit runs, names, e-mail / WeChat / QQ handles and house numbers are
removed, so a published wish carries no personal identifier. The raw description and the mobile
number stay in the row for moderators only.
"""

from __future__ import annotations

from datetime import datetime

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
from sqlalchemy.orm import Session, relationship, selectinload, validates

from bot.core import codes, districts, lookup_limits, people
from bot.core.anonymise import anonymise as anonymise_text
from bot.core.db import Base
from bot.core.sealed import Sealed

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

MAX_DESCRIPTION = 1000
MAX_PUBLIC_TEXT = 300


class WishError(Exception):
    """Base class; ``code`` is a stable machine-readable reason (map it to a response)."""

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        wish_code: str | None = None,
        status: str | None = None,
    ):
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
            "status IN ('submitted', 'approved', 'rejected', 'published', 'claimed', 'fulfilled',"
            " 'withdrawn')",
            name="ck_wishes_status",
        ),
        CheckConstraint(
            "claimant_kind IS NULL OR claimant_kind IN ('donor', 'merchant')",
            name="ck_wishes_claimant_kind",
        ),
        Index("ix_wishes_sender_id", "sender_id"),
        Index("ix_wishes_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(12), nullable=False)
    sender_id = Column(String(128), nullable=False)
    category = Column(String(16), nullable=False)
    description = Column(Sealed(), nullable=False)  # raw text, encrypted at rest
    budget = Column(Integer, nullable=True)  # yuan
    district = Column(String(16), nullable=True)
    # for staff, shown masked; encrypted at rest, mobile_hash answers "same number?"
    mobile = Column("mobile_cipher", Sealed(), nullable=True)
    mobile_hash = Column(String(64), nullable=True)
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

    @validates("mobile")
    def _hash_mobile(self, _key: str, value: str | None) -> str | None:
        self.mobile_hash = people.mobile_fingerprint(value) if value else None
        return value

    @property
    def mobile_masked(self) -> str | None:
        return people.mask_phone(self.mobile) if self.mobile else None

    def __repr__(self) -> str:  # never shows the description or the mobile
        return f"<Wish {self.code} {self.status}>"


class WishEvent(Base):
    __tablename__ = "wish_events"
    __table_args__ = (Index("ix_wish_events_wish_id", "wish_id"),)

    id = Column(Integer, primary_key=True)
    wish_id = Column(
        Integer,
        ForeignKey("wishes.id", ondelete="CASCADE", name="fk_wish_events_wish_id"),
        nullable=False,
    )
    from_status = Column(String(16), nullable=True)  # None for the submission itself
    to_status = Column(String(16), nullable=False)
    actor = Column(String(128), nullable=False)
    note = Column(Text, nullable=True)
    at = Column(DateTime, nullable=False)

    wish = relationship("Wish", back_populates="events")


def anonymise(text: str, *, guess_names: bool = True) -> str:
    """The publishable form of a wish description (see ``bot.core.anonymise``), at most
    MAX_PUBLIC_TEXT characters."""
    return anonymise_text(text, guess_names=guess_names, max_length=MAX_PUBLIC_TEXT)


# --- helpers --------------------------------------------------------------------------------------


def _new_code(s: Session) -> str:
    return codes.new_code(
        lambda code: s.execute(select(Wish.id).where(Wish.code == code)).first() is not None
    )


def _load(s: Session, wish_id: int | str, *, lock: bool = True) -> Wish:
    """A wish by numeric id (int) or public code (str), row-locked for the transition."""
    if isinstance(wish_id, str):
        stmt = select(Wish).where(Wish.code == codes.normalise(wish_id))
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


def _record(
    s: Session, wish: Wish, to_status: str, actor: str, note: str | None, now: datetime
) -> None:
    event = WishEvent(from_status=wish.status, to_status=to_status, actor=actor, note=note, at=now)
    wish.events.append(event)
    wish.status = to_status
    wish.updated_at = now
    s.flush()


def _transition(
    s: Session,
    wish: Wish | int | str,
    action: str,
    actor: str,
    now: datetime,
    *,
    note: str | None = None,
    also_from=(),
) -> Wish:
    if not (actor or "").strip():
        raise InvalidTransition("actor_required", "an actor is required")
    if not isinstance(wish, Wish):
        wish = _load(s, wish)
    allowed, target = TRANSITIONS[action]
    if wish.status not in tuple(allowed) + tuple(also_from):
        raise InvalidTransition(
            "wrong_status",
            f"cannot {action} a wish that is {wish.status}",
            wish_code=wish.code,
            status=wish.status,
        )
    _record(s, wish, target, actor.strip(), note, now)
    return wish


# --- service functions ----------------------------------------------------------------------------


def submit(
    s: Session,
    *,
    sender_id: str,
    category: str,
    description: str,
    budget: int | None = None,
    district: str | None = None,
    mobile: str | None = None,
    consent_publish: bool = False,
    now: datetime,
) -> Wish:
    if not (sender_id or "").strip():
        raise InvalidWish("sender_required")
    if category not in CATEGORIES:
        raise InvalidWish("bad_category", f"category must be one of {CATEGORIES}")
    description = " ".join((description or "").split())
    if not description:
        raise InvalidWish("empty_description")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidWish("description_too_long")
    if (
        district
    ):  # optional metadata: canonical (西海岸新区 → 黄岛区), or dropped when not in Qingdao
        district = districts.normalise(district)
    if budget is not None:
        try:
            budget = int(budget)
        except (TypeError, ValueError):
            raise InvalidWish("bad_budget") from None
        if budget < 0:
            raise InvalidWish("bad_budget")
    if mobile:
        try:
            mobile = people.validate_phone(mobile)
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
    wish.events.append(
        WishEvent(from_status=None, to_status=SUBMITTED, actor=wish.sender_id, at=now)
    )
    s.add(wish)
    s.flush()
    return wish


def approve(
    s: Session,
    wish_id,
    actor: str,
    now: datetime,
    *,
    public_text: str | None = None,
    guess_names: bool = True,
    note: str | None = None,
) -> Wish:
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
        raise InvalidTransition(
            "no_consent",
            "the owner did not consent to publication",
            wish_code=wish.code,
            status=wish.status,
        )
    return _transition(s, wish, "publish", actor, now)


def claim(
    s: Session, wish_id, claimant: str, claimant_kind: str, actor: str, now: datetime
) -> Wish:
    """A donor or a 荣军联盟 merchant takes the wish on."""
    if not (claimant or "").strip():
        raise InvalidTransition("claimant_required")
    if claimant_kind not in CLAIMANT_KINDS:
        raise InvalidTransition(
            "bad_claimant_kind", f"claimant_kind must be one of {CLAIMANT_KINDS}"
        )
    wish = _load(s, wish_id)
    also = (APPROVED,) if not wish.consent_publish else ()
    wish = _transition(s, wish, "claim", actor, now, note=claimant.strip(), also_from=also)
    wish.claimed_by = claimant.strip()
    wish.claimant_kind = claimant_kind
    return wish


def fulfil(s: Session, wish_id, actor: str, note: str | None, now: datetime) -> Wish:
    return _transition(s, wish_id, "fulfil", actor, now, note=(note or "").strip() or None)


def withdraw(s: Session, wish_id, sender_id: str, now: datetime) -> Wish:
    """The owner takes the wish back (only before it is published)."""
    wish = _load(s, wish_id)
    if wish.sender_id != (sender_id or "").strip():
        raise InvalidTransition(
            "not_owner",
            "only the owner may withdraw a wish",
            wish_code=wish.code,
            status=wish.status,
        )
    return _transition(s, wish, "withdraw", sender_id, now)


# --- queries --------------------------------------------------------------------------------------


def event_dict(event: WishEvent) -> dict:
    return {
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        "note": event.note,
        "at": event.at,
    }


def to_dict(wish: Wish, *, history: bool = False) -> dict:
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


def list_for_sender(s: Session, sender_id: str) -> list[dict]:
    """The sender's wishes, newest first, each with its history."""
    wishes = (
        s.execute(
            select(Wish)
            .where(Wish.sender_id == sender_id)
            .options(selectinload(Wish.events))
            .order_by(Wish.created_at.desc(), Wish.id.desc())
        )
        .scalars()
        .all()
    )
    return [to_dict(w, history=True) for w in wishes]


def get_by_code(s: Session, code: str) -> Wish | None:
    """A wish by its public code (case, spaces and full-width tolerated)."""
    code = codes.normalise(code)
    if not code:
        return None
    return s.execute(select(Wish).where(Wish.code == code)).scalars().first()


def find_by_code_and_mobile(s: Session, code: str, mobile: str) -> Wish | None:
    """A wish for someone who lost their chat: the code and the mobile given at submission must
    both match (a wish submitted without a mobile can only be seen from its own chat). The
    mobile is stored encrypted; ``people.phone_matches`` compares its keyed hash."""
    wish = get_by_code(s, code)
    return wish if people.phone_matches(wish, mobile) else None


def lookup_by_code_and_mobile(
    s: Session, code: str, mobile: str, now: datetime
) -> tuple[str, dict | None]:
    """``find_by_code_and_mobile`` behind the per-code limit of wrong attempts:
    (lookup_limits.FOUND, the wish as ``to_dict(history=True)``) | (NOT_FOUND, None) |
    (LOCKED, None). The caller commits (a miss is recorded)."""
    status, wish = lookup_limits.guarded(
        s, lookup_limits.WISH, code, now, lambda: find_by_code_and_mobile(s, code, mobile)
    )
    return status, (to_dict(wish, history=True) if wish is not None else None)


def list_by_status(s: Session, status: str, *, limit: int | None = None) -> list[Wish]:
    """Moderation queue: oldest first."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    stmt = select(Wish).where(Wish.status == status).order_by(Wish.created_at, Wish.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(s.execute(stmt).scalars().all())


def published_feed(
    s: Session, *, district: str | None = None, category: str | None = None, limit: int = 50
) -> list[dict]:
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
        {
            "public_text": row.public_text,
            "district": row.district,
            "category": row.category,
            "budget": row.budget,
        }
        for row in s.execute(stmt)
    ]
