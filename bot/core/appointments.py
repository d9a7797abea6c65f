"""报到 appointments at the district 退役军人服务中心.

Why it is built this way:

* **Capacity lives in the database.** Each (centre, slot start) has a row in
  ``appointment_slots`` with ``capacity`` and ``booked`` and a CHECK (0 ≤ booked ≤ capacity).
  Taking a place is one conditional statement, ``UPDATE … SET booked = booked + 1 WHERE
  booked < capacity``; if it changes no row the slot is full. That is atomic on SQLite (writers
  are serialised by BEGIN IMMEDIATE) and on PostgreSQL (the row lock makes a second writer
  re-check the WHERE clause), so concurrent bookings can never exceed capacity.
* **One active booking per person**, also enforced in the database: ``active_fingerprint``
  holds the ID fingerprint while a booking is active and NULL afterwards, under a UNIQUE index.
* **ID numbers are encrypted** (Fernet) and fingerprinted (HMAC) — see ``people``; only the
  masked form is kept in clear for staff screens.
* **Confirmation codes** are 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L).
* **Reminders** go through the outbox: kind 'reminder', one row per appointment
  (dedupe key ``appointment:<id>:reminder``), due at 18:00 the day before. Decision: when the
  booking is made after that moment (e.g. booking for tomorrow at 20:00), no reminder is queued —
  the confirmation the user has just read serves as one. Only senders with a push channel
  (``tg-``, ``web-``) get reminders.
* **Staff can change the capacity** of a centre (console 停诊与号源): ``set_capacity`` stores an
  override in ``centre_capacity`` (else ``capacity_per_slot`` from service_centres.yml applies,
  see ``effective_capacity``) and moves the capacity of the centre's FUTURE slot rows in one
  UPDATE, never below their ``booked`` count — bookings already made are kept, never cancelled.
  On PostgreSQL a change takes a per-centre advisory lock that every booking transaction shares
  (``_capacity_lock``), so a slot row created concurrently cannot keep the old capacity.
* Failures the user can act on are ``BookingError`` / ``AppointmentError`` with a machine
  ``code`` and, where useful, up to three nearest free ``alternatives``; wording is in the NLG.

Services take a Session; the caller commits. Datetimes are naive local (Asia/Shanghai) times.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml
from sqlalchemy import (
    CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint, case, delete, func, select, text, update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, relationship

from bot.core import outbox, people, settings, workdays
from bot.core.db import Base
from bot.core.script import to_script
from bot.core.timeparse import AFTERNOON, EVENING, MORNING, NOON, ParsedTime

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- constants

BOOKED, CANCELLED, CHECKED_IN, NO_SHOW = "booked", "cancelled", "checked_in", "no_show"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
MAX_ALTERNATIVES = 3
REMINDER_AT = time(18, 0)
PUSH_PREFIXES = ("tg-", "web-")
MIN_CAPACITY, MAX_CAPACITY = 1, 50  # what staff may set per slot (set_capacity)

# Reason codes (resolve_request / BookingError)
PAST, CLOSED_DAY, OUTSIDE_HOURS, FULL, TOO_FAR = "past", "closed_day", "outside_hours", "full", "too_far"
ALREADY_BOOKED = "already_booked"

# Which clock range each part of day covers when the user named no exact time.
_PART_WINDOWS = {
    MORNING: (time(0, 0), time(12, 0)),
    NOON: (time(11, 0), time(14, 0)),
    AFTERNOON: (time(12, 0), time(18, 0)),
    EVENING: (time(18, 0), time(23, 59, 59)),
}

__all__ = [
    "Centre", "Slot", "Appointment", "AppointmentEvent", "CentreCapacity", "FreeSlot", "Resolution",
    "CapacityChange", "AppointmentError", "BookingError",
    "effective_capacity", "capacity_overrides", "set_capacity", "clear_capacity",
    "load_centres", "get_centre", "find_centre_by_district", "slot_starts", "slot_containing",
    "list_free_slots", "nearest_free", "resolve_request", "book", "get_for_sender",
    "find_by_code_and_mobile", "get_by_code", "cancel", "reschedule", "list_for_centre_day",
    "mark_checked_in", "mark_no_show", "history", "reporting_deadline_days", "days_left",
    "days_left_for", "normalise_code", "reminder_key",
]


# --------------------------------------------------------------------------- errors


class AppointmentError(Exception):
    """A refusal the user or agent can act on. ``code`` is one of:
    'unknown_centre', 'bad_name', 'bad_category', 'not_active', 'past', 'same_slot', 'changed',
    'too_early' (check-in/no-show before the appointment), 'bad_capacity' (set_capacity outside
    MIN_CAPACITY..MAX_CAPACITY), plus the BookingError codes."""

    def __init__(self, code: str, detail: Optional[str] = None) -> None:
        super().__init__(code if not detail else f"{code}: {detail}")
        self.code = code
        self.detail = detail


class BookingError(AppointmentError):
    """A slot could not be taken. ``code``: 'past', 'closed_day', 'outside_hours', 'full',
    'too_far', 'already_booked' (``existing`` is the person's active appointment)."""

    def __init__(
        self,
        code: str,
        alternatives: Sequence[datetime] = (),
        existing: Optional["Appointment"] = None,
        detail: Optional[str] = None,
    ) -> None:
        super().__init__(code, detail)
        self.alternatives = list(alternatives)
        self.existing = existing


# --------------------------------------------------------------------------- centres


@dataclass(frozen=True)
class Centre:
    id: str
    district: str
    name: str
    address: str
    phone: str
    placeholder: bool
    hours: Tuple[Tuple[time, time], ...]
    slot_minutes: int
    capacity_per_slot: int
    aliases: Tuple[str, ...] = ()


@dataclass(frozen=True)
class CentreConfig:
    centres: Dict[str, Centre]
    horizon_days: int
    reminder_template: str


def centres_path() -> Path:
    return settings.DATA_FILES / "service_centres.yml"


_centre_cache: Dict[Path, Tuple[float, CentreConfig]] = {}


def _hm(value) -> time:
    if isinstance(value, int):  # YAML 1.1 reads 09:00 unquoted as sexagesimal minutes
        return time(value // 60, value % 60)
    hour, minute = str(value).split(":")
    return time(int(hour), int(minute))


def _parse_centres(raw: dict) -> CentreConfig:
    defaults = raw.get("defaults") or {}
    centres = {}
    for item in raw.get("centres") or []:
        merged = {**defaults, **item}
        centres[str(item["id"])] = Centre(
            id=str(item["id"]),
            district=str(item["district"]),
            name=str(item["name"]),
            address=str(item.get("address") or ""),
            phone=str(item.get("phone") or ""),
            placeholder=bool(item.get("placeholder", True)),
            hours=tuple((_hm(h["start"]), _hm(h["end"])) for h in merged.get("hours") or []),
            slot_minutes=int(merged.get("slot_minutes") or 30),
            capacity_per_slot=int(merged.get("capacity_per_slot") or 3),
            aliases=tuple(str(a) for a in item.get("aliases") or ()),
        )
    return CentreConfig(
        centres=centres,
        horizon_days=int(defaults.get("booking_horizon_days") or 30),
        reminder_template=str(raw.get("reminder_template") or ""),
    )


def _config(path: Optional[Path] = None) -> CentreConfig:
    """service_centres.yml, re-read when it changes (deployers fill in addresses live)."""
    path = Path(path or centres_path())
    mtime = path.stat().st_mtime
    cached = _centre_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    config = _parse_centres(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    _centre_cache[path] = (mtime, config)
    return config


def load_centres(path: Optional[Path] = None) -> List[Centre]:
    """All centres in file order."""
    return list(_config(path).centres.values())


def get_centre(centre_id: str, path: Optional[Path] = None) -> Optional[Centre]:
    return _config(path).centres.get(centre_id)


def _require_centre(centre_id: str) -> Centre:
    centre = get_centre(centre_id)
    if centre is None:
        raise AppointmentError("unknown_centre", centre_id)
    return centre


def find_centre_by_district(text: Optional[str], path: Optional[Path] = None) -> Optional[Centre]:
    """The centre for a district name, alias (西海岸新区) or a sentence that contains one.

    Longest names are tried first so '即墨区' wins over a shorter accidental match.
    """
    if not text:
        return None
    from bot.core.script import normalise

    text = normalise(text).replace(" ", "")
    names: List[Tuple[str, Centre]] = []
    for centre in load_centres(path):
        names += [(centre.district, centre), (centre.name, centre), (centre.id, centre)]
        names += [(alias, centre) for alias in centre.aliases]
        short = centre.district[:-1]  # 李沧区 → 李沧, 胶州市 → 胶州
        if len(short) >= 2:
            names.append((short, centre))
    for name, centre in sorted(names, key=lambda pair: -len(pair[0])):
        if name.lower() in text.lower():
            return centre
    return None


# --------------------------------------------------------------------------- slot grid


def slot_starts(centre: Centre, day: date) -> List[datetime]:
    """Every slot start on ``day`` (ignores closures; see ``_open_slot_starts``)."""
    step = timedelta(minutes=centre.slot_minutes)
    starts = []
    for opens, closes in centre.hours:
        moment, end = datetime.combine(day, opens), datetime.combine(day, closes)
        while moment + step <= end:
            starts.append(moment)
            moment += step
    return starts


def slot_containing(centre: Centre, moment: datetime) -> Optional[datetime]:
    """The start of the slot a requested moment falls in (9:15 → 9:00), None outside hours."""
    step = timedelta(minutes=centre.slot_minutes)
    for start in slot_starts(centre, moment.date()):
        if start <= moment < start + step:
            return start
    return None


def _horizon_end(now: datetime) -> date:
    return now.date() + timedelta(days=_config().horizon_days)


# --------------------------------------------------------------------------- tables


class Slot(Base):
    """Capacity counter for one (centre, start); created lazily on first booking."""

    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint("centre_id", "start", name="uq_appointment_slots_centre_start"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_appointment_slots_booked"),
    )

    id = Column(Integer, primary_key=True)
    centre_id = Column(String(32), nullable=False)
    start = Column(DateTime, nullable=False)
    capacity = Column(Integer, nullable=False)
    booked = Column(Integer, nullable=False, default=0)


class CentreCapacity(Base):
    """Staff override of a centre's ``capacity_per_slot`` (one row per centre, absent = file value)."""

    __tablename__ = "centre_capacity"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="ck_centre_capacity_capacity"),
    )

    centre_id = Column(String(32), primary_key=True)
    capacity = Column(Integer, nullable=False)
    updated_by = Column(String(64), nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_centre_start", "centre_id", "start"),
        UniqueConstraint("code", name="uq_appointments_code"),
        UniqueConstraint("active_fingerprint", name="uq_appointments_active_fingerprint"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(8), nullable=False)
    sender_id = Column(String(128), nullable=False, index=True)
    category = Column(String(32), nullable=False)
    name = Column(String(64), nullable=False)
    mobile = Column(String(16), nullable=False)
    id_cipher = Column(Text, nullable=False)
    id_fingerprint = Column(String(64), nullable=False, index=True)
    id_masked = Column(String(18), nullable=False)
    # = id_fingerprint while status is 'booked' and the slot is ahead, else NULL (unique).
    active_fingerprint = Column(String(64), nullable=True)
    centre_id = Column(String(32), nullable=False)
    slot_id = Column(Integer, ForeignKey("appointment_slots.id", name="fk_appointments_slot_id"),
                     nullable=False)
    start = Column(DateTime, nullable=False)
    status = Column(String(16), nullable=False, default=BOOKED)
    discharge_date = Column(Date, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    events = relationship("AppointmentEvent", order_by="AppointmentEvent.id",
                          back_populates="appointment", lazy="select")

    @property
    def centre(self) -> Optional[Centre]:
        return get_centre(self.centre_id)

    @property
    def masked_mobile(self) -> str:
        return people.mask_phone(self.mobile)

    @property
    def masked_name(self) -> str:
        return people.mask_name(self.name)

    @property
    def end(self) -> datetime:
        centre = self.centre
        return self.start + timedelta(minutes=centre.slot_minutes if centre else 30)

    def id_number(self) -> str:
        """Decrypt the ID number (staff verification only; never log it)."""
        return people.decrypt_id(self.id_cipher)

    def days_left(self, today: date) -> Optional[int]:
        """Days left before the reporting deadline for this person's category, if known."""
        return days_left_for(self.category, self.discharge_date, today)

    def __repr__(self) -> str:  # masked: reprs end up in logs
        return (f"<Appointment {self.code} {self.centre_id} {self.start:%Y-%m-%d %H:%M} "
                f"{self.status} {self.masked_mobile}>")


class AppointmentEvent(Base):
    """Status history: who did what, when (booked, rescheduled, cancelled, checked_in, no_show)."""

    __tablename__ = "appointment_events"

    id = Column(Integer, primary_key=True)
    appointment_id = Column(
        Integer, ForeignKey("appointments.id", name="fk_appointment_events_appointment_id"),
        nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    actor = Column(String(128), nullable=False)  # sender_id or staff login
    action = Column(String(16), nullable=False)
    detail = Column(String(200), nullable=True)

    appointment = relationship("Appointment", back_populates="events")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FreeSlot:
    start: datetime
    end: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return self.capacity - self.booked


@dataclass(frozen=True)
class CapacityChange:
    """Outcome of ``set_capacity`` / ``clear_capacity``.

    ``updated_slots``: future slot rows whose capacity changed; ``over_capacity_slots``: future
    slots that already hold more bookings than the new capacity (kept; they stay full until
    enough bookings are cancelled); ``capacity``: the centre's effective capacity now.
    """

    updated_slots: int
    over_capacity_slots: int
    capacity: int = 0


@dataclass(frozen=True)
class Resolution:
    """Outcome of ``resolve_request``: a free ``slot``, or a ``reason`` code and alternatives.

    ``detail`` carries the staff's closure reason for 'closed_day' (e.g. 内部培训).
    """

    slot: Optional[datetime] = None
    reason: Optional[str] = None
    alternatives: List[datetime] = field(default_factory=list)
    detail: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.slot is not None


# --------------------------------------------------------------------------- capacity


def _centre_of(centre) -> Centre:
    return centre if isinstance(centre, Centre) else _require_centre(str(centre))


def effective_capacity(s: Session, centre) -> int:
    """Places per slot for new slots of ``centre`` (a Centre or its id): the staff override
    from ``centre_capacity`` if there is one, else ``capacity_per_slot`` from the file."""
    centre = _centre_of(centre)
    override = s.execute(
        select(CentreCapacity.capacity).where(CentreCapacity.centre_id == centre.id)
    ).scalar_one_or_none()
    return override if override is not None else centre.capacity_per_slot


def capacity_overrides(s: Session) -> Dict[str, CentreCapacity]:
    """Every staff override by centre id (one query; for the console's capacity table)."""
    return {row.centre_id: row for row in s.execute(select(CentreCapacity)).scalars()}


def _capacity_lock_key(centre_id: str) -> int:
    digest = hashlib.blake2b(f"rj:centre_capacity:{centre_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _capacity_lock(s: Session, centre_id: str, exclusive: bool = False) -> None:
    """PostgreSQL: a transaction-scoped advisory lock per centre. Booking transactions take it
    shared before they touch a slot row (so they never wait for it while holding a row lock);
    a capacity change takes it exclusive, so it waits for bookings in flight — including slot
    rows they are inserting, which its UPDATE could not see yet — and bookings that start
    afterwards read the new override. SQLite needs nothing: BEGIN IMMEDIATE serialises writers."""
    if s.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    s.execute(text(f"SELECT {function}(:key)"), {"key": _capacity_lock_key(centre_id)})


def _apply_capacity(s: Session, centre: Centre, capacity: int, now: datetime) -> Tuple[int, int]:
    """Move future slot rows to ``capacity`` (never below booked); (updated, over capacity)."""
    target = case((Slot.booked > capacity, Slot.booked), else_=capacity)
    updated = s.execute(
        update(Slot)
        .where(Slot.centre_id == centre.id, Slot.start > now, Slot.capacity != target)
        .values(capacity=target)
        .execution_options(synchronize_session=False)
    ).rowcount
    over = s.execute(
        select(func.count()).select_from(Slot)
        .where(Slot.centre_id == centre.id, Slot.start > now, Slot.booked > capacity)
    ).scalar_one()
    return int(updated or 0), int(over)


def _upsert_override(s: Session, centre_id: str, capacity: int, by: str, now: datetime) -> None:
    values = dict(centre_id=centre_id, capacity=capacity, updated_by=by, updated_at=now)
    dialect = s.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(CentreCapacity).values(**values)
        s.execute(statement.on_conflict_do_update(
            index_elements=["centre_id"],
            set_=dict(capacity=statement.excluded.capacity, updated_by=statement.excluded.updated_by,
                      updated_at=statement.excluded.updated_at)))
        return
    row = s.get(CentreCapacity, centre_id)  # pragma: no cover - other databases
    if row is None:  # pragma: no cover
        s.add(CentreCapacity(**values))
    else:  # pragma: no cover
        row.capacity, row.updated_by, row.updated_at = capacity, by, now
    s.flush()  # pragma: no cover


def set_capacity(s: Session, centre_id: str, capacity: int, by: str, now: datetime) -> CapacityChange:
    """Staff: set the places per slot of ``centre_id`` to ``capacity``.

    Stores the override (who/when on the row) and updates the centre's future slot rows
    (start > now) in one statement to ``greatest(capacity, booked)``: bookings already made
    are never cancelled, so a slot holding more than the new capacity simply stays full — it
    is counted in ``over_capacity_slots`` so staff can contact people if needed. Past slots keep
    their history. Raises AppointmentError 'unknown_centre' or 'bad_capacity' (not an int in
    MIN_CAPACITY..MAX_CAPACITY).
    """
    centre = _require_centre(centre_id)
    if isinstance(capacity, bool) or not isinstance(capacity, int) \
            or not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise AppointmentError("bad_capacity", str(capacity))
    _capacity_lock(s, centre.id, exclusive=True)
    _upsert_override(s, centre.id, capacity, by or "", now)
    updated, over = _apply_capacity(s, centre, capacity, now)
    log.info("capacity of %s set to %d by %s: %d future slots updated, %d over capacity",
             centre.id, capacity, by, updated, over)
    return CapacityChange(updated, over, capacity)


def clear_capacity(s: Session, centre_id: str, by: str, now: datetime) -> CapacityChange:
    """Staff: drop the override so ``capacity_per_slot`` from the file applies again; future
    slot rows go back to the file value (never below booked), as in ``set_capacity``."""
    centre = _require_centre(centre_id)
    _capacity_lock(s, centre.id, exclusive=True)
    s.execute(delete(CentreCapacity).where(CentreCapacity.centre_id == centre.id)
              .execution_options(synchronize_session=False))
    updated, over = _apply_capacity(s, centre, centre.capacity_per_slot, now)
    log.info("capacity override of %s cleared by %s (back to %d): %d future slots updated, "
             "%d over capacity", centre.id, by, centre.capacity_per_slot, updated, over)
    return CapacityChange(updated, over, centre.capacity_per_slot)


# --------------------------------------------------------------------------- slot queries


def _counts(s: Session, centre_id: str, first: datetime, last: datetime) -> Dict[datetime, Tuple[int, int]]:
    """{start: (capacity, booked)} for slot rows that exist between first and last."""
    rows = s.execute(
        select(Slot.start, Slot.capacity, Slot.booked)
        .where(Slot.centre_id == centre_id, Slot.start >= first, Slot.start <= last)
    ).all()
    return {row.start: (row.capacity, row.booked) for row in rows}


def _free_slots(s: Session, centre: Centre, first_day: date, last_day: date, now: datetime) -> List[FreeSlot]:
    """Free slots on open days in [first_day, last_day] that start after ``now``."""
    if last_day < first_day:
        return []
    closed = workdays.closed_days(s, centre.id, first_day, last_day)
    counts = _counts(s, centre.id, datetime.combine(first_day, time.min),
                     datetime.combine(last_day, time.max))
    step = timedelta(minutes=centre.slot_minutes)
    default = effective_capacity(s, centre)  # for slots nobody has booked yet (no row)
    result = []
    day = first_day
    while day <= last_day:
        if day not in closed:
            for start in slot_starts(centre, day):
                capacity, booked = counts.get(start, (default, 0))
                if start > now and booked < capacity:
                    result.append(FreeSlot(start, start + step, capacity, booked))
        day += timedelta(days=1)
    return result


def list_free_slots(s: Session, centre_id: str, day: date, now: datetime) -> List[FreeSlot]:
    """Bookable slots on ``day`` (empty on closed days, in the past or beyond the horizon)."""
    centre = _require_centre(centre_id)
    if day < now.date() or day > _horizon_end(now):
        return []
    return _free_slots(s, centre, day, day, now)


def nearest_free(
    s: Session, centre_id: str, target: datetime, now: datetime, limit: int = MAX_ALTERNATIVES,
    exclude: Sequence[datetime] = (),
) -> List[datetime]:
    """Up to ``limit`` free slot starts closest in time to ``target`` (earlier on ties)."""
    centre = _require_centre(centre_id)
    candidates = [
        slot.start for slot in _free_slots(s, centre, now.date(), _horizon_end(now), now)
        if slot.start not in exclude
    ]
    candidates.sort(key=lambda start: (abs((start - target).total_seconds()), start))
    return candidates[:limit]


def _slot_problem(s: Session, centre: Centre, start: datetime, now: datetime) -> Tuple[Optional[str], Optional[str]]:
    """(reason, detail) why ``start`` cannot be booked regardless of capacity, or (None, None)."""
    if start <= now:
        return PAST, None
    if start.date() > _horizon_end(now):
        return TOO_FAR, None
    status = workdays.day_status(s, centre.id, start.date())
    if not status.open:
        return CLOSED_DAY, status.reason or status.reason_code
    if start not in slot_starts(centre, start.date()):
        return OUTSIDE_HOURS, None
    return None, None


def _is_free(s: Session, centre: Centre, start: datetime) -> bool:
    row = s.execute(
        select(Slot.capacity, Slot.booked).where(Slot.centre_id == centre.id, Slot.start == start)
    ).first()
    return row is None or row.booked < row.capacity


# --------------------------------------------------------------------------- resolve


def _anchor(centre: Centre, parsed: ParsedTime) -> datetime:
    """The moment alternatives should be close to."""
    if parsed.time is not None:
        return datetime.combine(parsed.day, parsed.time)
    if parsed.part_of_day:
        return datetime.combine(parsed.day, _PART_WINDOWS[parsed.part_of_day][0])
    opening = centre.hours[0][0] if centre.hours else time(9, 0)
    return datetime.combine(parsed.day, opening)


def _pick_in_day(s: Session, centre: Centre, parsed: ParsedTime, now: datetime) -> Tuple[Optional[datetime], str]:
    """First free slot of the requested day (and part of day); else the reason none fits."""
    starts = slot_starts(centre, parsed.day)
    if parsed.part_of_day:
        low, high = _PART_WINDOWS[parsed.part_of_day]
        starts = [start for start in starts if low <= start.time() < high]
        if not starts:
            return None, OUTSIDE_HOURS
    future = [start for start in starts if start > now]
    if not future:
        return None, PAST
    counts = _counts(s, centre.id, future[0], future[-1])
    default = effective_capacity(s, centre)
    for start in future:
        capacity, booked = counts.get(start, (default, 0))
        if booked < capacity:
            return start, ""
    return None, FULL


def resolve_request(s: Session, centre_id: str, parsed: ParsedTime, now: datetime) -> Resolution:
    """Turn what the user asked for into a bookable slot, or explain why not with alternatives.

    Checks in the order a person would expect: past → too far → closed day → outside hours →
    full. An exact time inside a slot maps to that slot (9:15 → the 9:00 slot).
    """
    centre = _require_centre(centre_id)
    target = _anchor(centre, parsed)
    detail = None
    if parsed.day < now.date() or (parsed.time is not None and target <= now):
        reason = PAST
    elif parsed.day > _horizon_end(now):
        reason = TOO_FAR
    else:
        status = workdays.day_status(s, centre.id, parsed.day)
        if not status.open:
            reason, detail = CLOSED_DAY, status.reason or status.reason_code
        elif parsed.time is not None:
            start = slot_containing(centre, target)
            if start is None:
                reason = OUTSIDE_HOURS
            elif start <= now:
                reason = PAST
            elif _is_free(s, centre, start):
                return Resolution(slot=start)
            else:
                reason = FULL
        else:
            start, reason = _pick_in_day(s, centre, parsed, now)
            if start is not None:
                return Resolution(slot=start)
    return Resolution(reason=reason, alternatives=nearest_free(s, centre.id, target, now),
                      detail=detail)


# --------------------------------------------------------------------------- writes


def normalise_code(code: Optional[str]) -> str:
    """What the user typed → stored form: full-width → ASCII, upper-case, separators dropped."""
    return re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", code or "").upper())


def _new_code(s: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if s.execute(select(Appointment.id).where(Appointment.code == code)).first() is None:
            return code


def reminder_key(appointment_id: int) -> str:
    return f"appointment:{appointment_id}:reminder"


def _insert_slot_if_missing(s: Session, centre: Centre, start: datetime) -> None:
    """Create the counter row without racing: INSERT … ON CONFLICT DO NOTHING."""
    dialect = s.get_bind().dialect.name
    values = dict(centre_id=centre.id, start=start, capacity=effective_capacity(s, centre), booked=0)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases: select-then-insert inside a savepoint
        if s.execute(select(Slot.id).where(Slot.centre_id == centre.id, Slot.start == start)).first():
            return
        try:
            with s.begin_nested():
                s.add(Slot(**values))
        except IntegrityError:
            pass
        return
    s.execute(insert(Slot).values(**values).on_conflict_do_nothing(
        index_elements=["centre_id", "start"]))


def _take_slot(s: Session, centre: Centre, start: datetime) -> Optional[int]:
    """Atomically take one place; the slot id, or None when it is full."""
    _capacity_lock(s, centre.id)
    _insert_slot_if_missing(s, centre, start)
    result = s.execute(
        update(Slot)
        .where(Slot.centre_id == centre.id, Slot.start == start, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return s.execute(
        select(Slot.id).where(Slot.centre_id == centre.id, Slot.start == start)
    ).scalar_one()


def _release_slot(s: Session, slot_id: int, capacity: Optional[int]) -> None:
    """Give one place back. ``capacity`` is the centre's effective capacity: a slot kept above
    it (it held more bookings when staff lowered the capacity) shrinks back towards it, so a
    cancellation there does not reopen a place the centre no longer offers. None (centre no
    longer in the file): the slot's capacity is left alone."""
    values = dict(booked=Slot.booked - 1)
    if capacity is not None:
        values["capacity"] = case((Slot.capacity <= capacity, Slot.capacity),
                                  (Slot.booked - 1 > capacity, Slot.booked - 1),
                                  else_=capacity)
    s.execute(
        update(Slot).where(Slot.id == slot_id, Slot.booked > 0)
        .values(**values).execution_options(synchronize_session=False)
    )


class _Full(Exception):
    """Internal: unwinds the savepoint when the slot turned out to be full."""


def _log(s: Session, appointment: Appointment, action: str, by: str, now: datetime,
         detail: Optional[str] = None) -> None:
    s.add(AppointmentEvent(appointment_id=appointment.id, at=now, actor=by or "", action=action,
                           detail=detail))


def _release_lapsed(s: Session, fingerprint: str, now: datetime) -> None:
    """A booking whose time has passed no longer blocks the person from booking again."""
    s.execute(
        update(Appointment)
        .where(Appointment.active_fingerprint == fingerprint, Appointment.start <= now)
        .values(active_fingerprint=None)
        .execution_options(synchronize_session=False)
    )


def _active_for(s: Session, fingerprint: str) -> Optional[Appointment]:
    return s.execute(
        select(Appointment).where(Appointment.active_fingerprint == fingerprint)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _render_reminder(appointment: Appointment, script: Optional[str]) -> str:
    centre = appointment.centre
    text = _config().reminder_template.format(
        year=appointment.start.year, month=appointment.start.month, day=appointment.start.day,
        date=appointment.start.strftime("%Y-%m-%d"), time=appointment.start.strftime("%H:%M"),
        centre=centre.name if centre else appointment.centre_id,
        address=centre.address if centre else "", phone=centre.phone if centre else "",
        code=appointment.code,
    )
    return to_script(text, script)


def reminder_due(start: datetime) -> datetime:
    """18:00 on the day before the appointment."""
    return datetime.combine(start.date() - timedelta(days=1), REMINDER_AT)


def _schedule_reminder(s: Session, appointment: Appointment, now: datetime,
                       script: Optional[str]) -> None:
    """Create or move the appointment's single reminder (see module docstring for timing)."""
    key = reminder_key(appointment.id)
    due = reminder_due(appointment.start)
    if not appointment.sender_id.startswith(PUSH_PREFIXES) or due <= now:
        outbox.cancel(s, key)
        return
    outbox.upsert(s, appointment.sender_id, _render_reminder(appointment, script), due_at=due,
                  kind="reminder", dedupe_key=key, now=now)


def book(
    s: Session,
    *,
    sender_id: str,
    category: str,
    name: str,
    mobile: str,
    id_number: str,
    centre_id: str,
    start: datetime,
    now: datetime,
    discharge_date: Optional[date] = None,
    script: Optional[str] = None,
) -> Appointment:
    """Book ``start`` at ``centre_id`` for one person and queue the reminder.

    Raises ``people.InvalidMobile`` / ``people.InvalidIdNumber`` for bad input,
    ``AppointmentError`` ('unknown_centre', 'bad_name', 'bad_category') and ``BookingError``
    ('past', 'too_far', 'closed_day', 'outside_hours', 'full', 'already_booked') — never a
    database error for a full slot or a concurrent duplicate. ``script`` renders the reminder
    in Traditional when the user writes Traditional.
    """
    centre = _require_centre(centre_id)
    name, category = (name or "").strip(), (category or "").strip()
    if not name:
        raise AppointmentError("bad_name")
    if not category:
        raise AppointmentError("bad_category")
    mobile = people.validate_mobile(mobile)
    id_number = people.validate_id_number(id_number, today=now.date())
    reason, detail = _slot_problem(s, centre, start, now)
    if reason:
        raise BookingError(reason, nearest_free(s, centre.id, start, now), detail=detail)

    fingerprint = people.id_fingerprint(id_number)
    _release_lapsed(s, fingerprint, now)
    existing = _active_for(s, fingerprint)
    if existing is not None:
        raise BookingError(ALREADY_BOOKED, existing=existing)

    for _attempt in range(5):  # retried only on a confirmation-code collision
        appointment = Appointment(
            code=_new_code(s), sender_id=sender_id, category=category, name=name, mobile=mobile,
            id_cipher=people.encrypt_id(id_number), id_fingerprint=fingerprint,
            id_masked=people.mask_id(id_number), active_fingerprint=fingerprint,
            centre_id=centre.id, start=start, status=BOOKED, discharge_date=discharge_date,
            created_at=now, updated_at=now,
        )
        try:
            with s.begin_nested():
                slot_id = _take_slot(s, centre, start)
                if slot_id is None:
                    raise _Full()
                appointment.slot_id = slot_id
                s.add(appointment)
                s.flush()
                _log(s, appointment, "booked", sender_id, now, start.strftime("%Y-%m-%d %H:%M"))
                s.flush()
        except _Full:
            raise BookingError(FULL, nearest_free(s, centre.id, start, now)) from None
        except IntegrityError:
            existing = _active_for(s, fingerprint)
            if existing is not None:  # the same person booked concurrently
                raise BookingError(ALREADY_BOOKED, existing=existing) from None
            continue
        _schedule_reminder(s, appointment, now, script)
        return appointment
    raise RuntimeError("could not allocate a unique confirmation code")  # pragma: no cover


def _transition(s: Session, appointment: Appointment, allowed: Sequence[str], values: dict) -> None:
    """Conditional UPDATE so two concurrent callers cannot both change the same appointment."""
    result = s.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status.in_(list(allowed)),
               Appointment.start == appointment.start)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    s.refresh(appointment)
    if result.rowcount != 1:
        raise AppointmentError("not_active" if appointment.status not in allowed else "changed")


def cancel(s: Session, appointment: Appointment, by: str, now: datetime) -> Appointment:
    """Cancel an upcoming booking: frees the place and withdraws the reminder."""
    if appointment.status != BOOKED:
        raise AppointmentError("not_active")
    if appointment.start <= now:
        raise AppointmentError(PAST)
    _capacity_lock(s, appointment.centre_id)  # before any slot row lock (see _capacity_lock)
    _transition(s, appointment, [BOOKED],
                dict(status=CANCELLED, active_fingerprint=None, updated_at=now))
    centre = get_centre(appointment.centre_id)
    _release_slot(s, appointment.slot_id, effective_capacity(s, centre) if centre else None)
    _log(s, appointment, "cancelled", by, now)
    outbox.cancel(s, reminder_key(appointment.id))
    s.flush()
    return appointment


def reschedule(
    s: Session,
    appointment: Appointment,
    new_start: datetime,
    now: datetime,
    by: Optional[str] = None,
    script: Optional[str] = None,
) -> Appointment:
    """Move a booking to ``new_start`` (same centre) atomically.

    The new place is taken and the old one released inside one savepoint, in (start) order so
    two crossing reschedules cannot deadlock on PostgreSQL. If the new slot is full the
    savepoint is rolled back and the original booking is untouched (BookingError 'full').
    """
    if appointment.status != BOOKED:
        raise AppointmentError("not_active")
    if appointment.start <= now:
        raise AppointmentError(PAST)
    if new_start == appointment.start:
        raise AppointmentError("same_slot")
    centre = _require_centre(appointment.centre_id)
    reason, detail = _slot_problem(s, centre, new_start, now)
    if reason:
        raise BookingError(reason, nearest_free(s, centre.id, new_start, now), detail=detail)
    old_start, old_slot = appointment.start, appointment.slot_id
    try:
        with s.begin_nested():
            _capacity_lock(s, centre.id)  # before the first slot row lock (see _capacity_lock)
            capacity = effective_capacity(s, centre)
            if new_start < old_start:
                new_slot = _take_slot(s, centre, new_start)
                if new_slot is None:
                    raise _Full()
                _release_slot(s, old_slot, capacity)
            else:
                _release_slot(s, old_slot, capacity)
                new_slot = _take_slot(s, centre, new_start)
                if new_slot is None:
                    raise _Full()
            _transition(s, appointment, [BOOKED],
                        dict(start=new_start, slot_id=new_slot, updated_at=now))
            _log(s, appointment, "rescheduled", by or appointment.sender_id, now,
                 f"{old_start:%Y-%m-%d %H:%M} -> {new_start:%Y-%m-%d %H:%M}")
            s.flush()
    except _Full:
        s.refresh(appointment)
        raise BookingError(FULL, nearest_free(s, centre.id, new_start, now)) from None
    _schedule_reminder(s, appointment, now, script)
    return appointment


def mark_checked_in(s: Session, appointment: Appointment, by: str, now: datetime) -> Appointment:
    """Staff: the person arrived (allowed from the appointment day on, also after a no-show)."""
    if appointment.status not in (BOOKED, NO_SHOW):
        raise AppointmentError("not_active")
    if now.date() < appointment.start.date():
        raise AppointmentError("too_early")
    _transition(s, appointment, [BOOKED, NO_SHOW],
                dict(status=CHECKED_IN, active_fingerprint=None, updated_at=now))
    _log(s, appointment, "checked_in", by, now)
    outbox.cancel(s, reminder_key(appointment.id))
    s.flush()
    return appointment


def mark_no_show(s: Session, appointment: Appointment, by: str, now: datetime) -> Appointment:
    """Staff: the person did not come (only once the slot has started)."""
    if appointment.status != BOOKED:
        raise AppointmentError("not_active")
    if now < appointment.start:
        raise AppointmentError("too_early")
    _transition(s, appointment, [BOOKED],
                dict(status=NO_SHOW, active_fingerprint=None, updated_at=now))
    _log(s, appointment, "no_show", by, now)
    s.flush()
    return appointment


# --------------------------------------------------------------------------- reads


def get_for_sender(s: Session, sender_id: str) -> List[Appointment]:
    """The sender's bookings still in status 'booked', soonest first (one chat may book for
    several people, e.g. a family member)."""
    return list(s.execute(
        select(Appointment).where(Appointment.sender_id == sender_id, Appointment.status == BOOKED)
        .order_by(Appointment.start).execution_options(populate_existing=True)
    ).scalars())


def get_by_code(s: Session, code: str) -> Optional[Appointment]:
    return s.execute(
        select(Appointment).where(Appointment.code == normalise_code(code))
    ).scalar_one_or_none()


def find_by_code_and_mobile(s: Session, code: str, mobile: str) -> Optional[Appointment]:
    """Look-up for people who lost their chat: both the code and the mobile must match."""
    try:
        mobile = people.validate_mobile(mobile)
    except people.InvalidMobile:
        return None
    return s.execute(
        select(Appointment).where(Appointment.code == normalise_code(code),
                                  Appointment.mobile == mobile)
    ).scalar_one_or_none()


def list_for_centre_day(s: Session, centre_id: str, day: date,
                        include_cancelled: bool = False) -> List[Appointment]:
    """Staff view of one centre's day, in time order."""
    query = select(Appointment).where(
        Appointment.centre_id == centre_id,
        Appointment.start >= datetime.combine(day, time.min),
        Appointment.start <= datetime.combine(day, time.max),
    )
    if not include_cancelled:
        query = query.where(Appointment.status != CANCELLED)
    return list(s.execute(query.order_by(Appointment.start, Appointment.id)).scalars())


def history(s: Session, appointment: Appointment) -> List[AppointmentEvent]:
    return list(s.execute(
        select(AppointmentEvent).where(AppointmentEvent.appointment_id == appointment.id)
        .order_by(AppointmentEvent.id)
    ).scalars())


# --------------------------------------------------------------------------- deadlines


def reporting_path() -> Path:
    return settings.DATA_FILES / "reporting.yml"


def reporting_deadline_days(category: Optional[str], path: Optional[Path] = None) -> Optional[int]:
    """``deadline_days`` for a category from reporting.yml (or its default); None if unknown."""
    path = Path(path or reporting_path())
    if not path.exists():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entry = (raw.get("categories") or {}).get(category or "") or raw.get("default") or {}
    value = entry.get("deadline_days")
    return int(value) if value not in (None, "") else None


def days_left(discharge_date: Optional[date], deadline_days: Optional[int], today: date) -> Optional[int]:
    """Days until discharge_date + deadline_days (0 = today is the last day, negative = late)."""
    if discharge_date is None or deadline_days is None:
        return None
    return (discharge_date + timedelta(days=deadline_days) - today).days


def days_left_for(category: Optional[str], discharge_date: Optional[date], today: date,
                  path: Optional[Path] = None) -> Optional[int]:
    return days_left(discharge_date, reporting_deadline_days(category, path), today)
