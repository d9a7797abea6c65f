"""Writes: book, cancel, reschedule, check-in and no-show.

Taking a place is one conditional ``UPDATE … SET booked = booked + 1 WHERE booked < capacity``
on the slot row; one active booking per person is a UNIQUE index on ``active_fingerprint``; a
status change is a conditional UPDATE, so concurrent callers cannot both change one appointment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import codes, outbox, people
from bot.core.appointments.capacity import capacity_lock, effective_capacity
from bot.core.appointments.centres import Centre, get_centre, require_centre
from bot.core.appointments.errors import (
    ALREADY_BOOKED,
    FULL,
    PAST,
    AppointmentError,
    BookingError,
)
from bot.core.appointments.models import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    NO_SHOW,
    Appointment,
    AppointmentEvent,
    Slot,
)
from bot.core.appointments.reminders import reminder_key, schedule_reminder
from bot.core.appointments.slots import nearest_free, slot_problem


def _new_code(s: Session) -> str:
    return codes.new_code(
        lambda code: (
            s.execute(select(Appointment.id).where(Appointment.code == code)).first() is not None
        )
    )


def _insert_slot_if_missing(s: Session, centre: Centre, start: datetime) -> None:
    """Create the counter row without racing: INSERT … ON CONFLICT DO NOTHING."""
    dialect = s.get_bind().dialect.name
    values = {
        "centre_id": centre.id,
        "start": start,
        "capacity": effective_capacity(s, centre),
        "booked": 0,
    }
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases: select-then-insert inside a savepoint
        existing = select(Slot.id).where(Slot.centre_id == centre.id, Slot.start == start)
        if s.execute(existing).first():
            return
        try:
            with s.begin_nested():
                s.add(Slot(**values))
        except IntegrityError:
            pass
        return
    s.execute(
        insert(Slot).values(**values).on_conflict_do_nothing(index_elements=["centre_id", "start"])
    )


def _take_slot(s: Session, centre: Centre, start: datetime) -> int | None:
    """Atomically take one place; the slot id, or None when it is full."""
    capacity_lock(s, centre.id)
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


def _release_slot(s: Session, slot_id: int, capacity: int | None) -> None:
    """Give one place back. ``capacity`` is the centre's effective capacity: a slot kept above
    it (it held more bookings when staff lowered the capacity) shrinks back towards it, so a
    cancellation there does not reopen a place the centre no longer offers. None (centre no
    longer in the file): the slot's capacity is left alone."""
    values = {"booked": Slot.booked - 1}
    if capacity is not None:
        values["capacity"] = case(
            (Slot.capacity <= capacity, Slot.capacity),
            (Slot.booked - 1 > capacity, Slot.booked - 1),
            else_=capacity,
        )
    s.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked > 0)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


class _Full(Exception):
    """Internal: unwinds the savepoint when the slot turned out to be full."""


def _log(
    s: Session,
    appointment: Appointment,
    action: str,
    by: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    s.add(
        AppointmentEvent(
            appointment_id=appointment.id, at=now, actor=by or "", action=action, detail=detail
        )
    )


def _release_lapsed(s: Session, fingerprint: str, now: datetime) -> None:
    """A booking whose time has passed no longer blocks the person from booking again."""
    s.execute(
        update(Appointment)
        .where(Appointment.active_fingerprint == fingerprint, Appointment.start <= now)
        .values(active_fingerprint=None)
        .execution_options(synchronize_session=False)
    )


def _active_for(s: Session, fingerprint: str) -> Appointment | None:
    return s.execute(
        select(Appointment)
        .where(Appointment.active_fingerprint == fingerprint)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


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
    discharge_date: date | None = None,
    script: str | None = None,
    by: str | None = None,
) -> Appointment:
    """Book ``start`` at ``centre_id`` for one person and queue the reminder.

    ``by`` is who made the booking for the history (an agent booking for a caller on the
    phone); by default the person's own ``sender_id``.

    Raises ``people.InvalidMobile`` / ``people.InvalidIdNumber`` for bad input,
    ``AppointmentError`` ('unknown_centre', 'bad_name', 'bad_category') and ``BookingError``
    ('past', 'too_far', 'closed_day', 'outside_hours', 'full', 'already_booked') — never a
    database error for a full slot or a concurrent duplicate. ``script`` renders the reminder
    in Traditional when the user writes Traditional.
    """
    centre = require_centre(centre_id)
    name, category = (name or "").strip(), (category or "").strip()
    if not name:
        raise AppointmentError("bad_name")
    if not category:
        raise AppointmentError("bad_category")
    mobile = people.validate_phone(mobile)
    id_number = people.validate_id_number(id_number, today=now.date())
    reason, detail = slot_problem(s, centre, start, now)
    if reason:
        raise BookingError(reason, nearest_free(s, centre.id, start, now), detail=detail)

    fingerprint = people.id_fingerprint(id_number)
    _release_lapsed(s, fingerprint, now)
    existing = _active_for(s, fingerprint)
    if existing is not None:
        raise BookingError(ALREADY_BOOKED, existing=existing)

    for _attempt in range(5):  # retried only on a confirmation-code collision
        appointment = Appointment(
            code=_new_code(s),
            sender_id=sender_id,
            category=category,
            name=name,
            mobile=mobile,
            id_cipher=people.encrypt_id(id_number),
            id_fingerprint=fingerprint,
            id_masked=people.mask_id(id_number),
            active_fingerprint=fingerprint,
            centre_id=centre.id,
            start=start,
            status=BOOKED,
            discharge_date=discharge_date,
            created_at=now,
            updated_at=now,
        )
        try:
            with s.begin_nested():
                slot_id = _take_slot(s, centre, start)
                if slot_id is None:
                    raise _Full()
                appointment.slot_id = slot_id
                s.add(appointment)
                s.flush()
                _log(
                    s, appointment, "booked", by or sender_id, now, start.strftime("%Y-%m-%d %H:%M")
                )
                s.flush()
        except _Full:
            raise BookingError(FULL, nearest_free(s, centre.id, start, now)) from None
        except IntegrityError:
            existing = _active_for(s, fingerprint)
            if existing is not None:  # the same person booked concurrently
                raise BookingError(ALREADY_BOOKED, existing=existing) from None
            continue
        schedule_reminder(s, appointment, now, script)
        return appointment
    raise RuntimeError("could not allocate a unique confirmation code")  # pragma: no cover


def _transition(s: Session, appointment: Appointment, allowed: Sequence[str], values: dict) -> None:
    """Conditional UPDATE so two concurrent callers cannot both change the same appointment."""
    result = s.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment.id,
            Appointment.status.in_(list(allowed)),
            Appointment.start == appointment.start,
        )
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
    capacity_lock(s, appointment.centre_id)  # before any slot row lock (see capacity.capacity_lock)
    _transition(
        s,
        appointment,
        [BOOKED],
        {"status": CANCELLED, "active_fingerprint": None, "updated_at": now},
    )
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
    by: str | None = None,
    script: str | None = None,
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
    centre = require_centre(appointment.centre_id)
    reason, detail = slot_problem(s, centre, new_start, now)
    if reason:
        raise BookingError(reason, nearest_free(s, centre.id, new_start, now), detail=detail)
    old_start, old_slot = appointment.start, appointment.slot_id
    try:
        with s.begin_nested():
            capacity_lock(s, centre.id)  # before the first slot row lock (see capacity_lock)
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
            _transition(
                s,
                appointment,
                [BOOKED],
                {"start": new_start, "slot_id": new_slot, "updated_at": now},
            )
            _log(
                s,
                appointment,
                "rescheduled",
                by or appointment.sender_id,
                now,
                f"{old_start:%Y-%m-%d %H:%M} -> {new_start:%Y-%m-%d %H:%M}",
            )
            s.flush()
    except _Full:
        s.refresh(appointment)
        raise BookingError(FULL, nearest_free(s, centre.id, new_start, now)) from None
    schedule_reminder(s, appointment, now, script)
    return appointment


def mark_checked_in(s: Session, appointment: Appointment, by: str, now: datetime) -> Appointment:
    """Staff: the person arrived (allowed from the appointment day on, also after a no-show)."""
    if appointment.status not in (BOOKED, NO_SHOW):
        raise AppointmentError("not_active")
    if now.date() < appointment.start.date():
        raise AppointmentError("too_early")
    _transition(
        s,
        appointment,
        [BOOKED, NO_SHOW],
        {"status": CHECKED_IN, "active_fingerprint": None, "updated_at": now},
    )
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
    _transition(
        s, appointment, [BOOKED], {"status": NO_SHOW, "active_fingerprint": None, "updated_at": now}
    )
    _log(s, appointment, "no_show", by, now)
    s.flush()
    return appointment
