"""Which slots are free, and turning what a user asked for (a parsed day / time) into a
bookable slot or a reason with the nearest alternatives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import workdays
from bot.core.appointments.capacity import effective_capacity
from bot.core.appointments.centres import (
    Centre,
    horizon_end,
    require_centre,
    slot_containing,
    slot_starts,
)
from bot.core.appointments.errors import CLOSED_DAY, FULL, OUTSIDE_HOURS, PAST, TOO_FAR
from bot.core.appointments.models import FreeSlot, Resolution, Slot
from bot.core.timeparse import AFTERNOON, EVENING, MORNING, NOON, ParsedTime

MAX_ALTERNATIVES = 3

# Which clock range each part of day covers when the user named no exact time.
_PART_WINDOWS = {
    MORNING: (time(0, 0), time(12, 0)),
    NOON: (time(11, 0), time(14, 0)),
    AFTERNOON: (time(12, 0), time(18, 0)),
    EVENING: (time(18, 0), time(23, 59, 59)),
}


def slot_counts(
    s: Session, centre_id: str, first: datetime, last: datetime
) -> dict[datetime, tuple[int, int]]:
    """{start: (capacity, booked)} for slot rows that exist between first and last."""
    rows = s.execute(
        select(Slot.start, Slot.capacity, Slot.booked).where(
            Slot.centre_id == centre_id, Slot.start >= first, Slot.start <= last
        )
    ).all()
    return {row.start: (row.capacity, row.booked) for row in rows}


def free_slots(
    s: Session, centre: Centre, first_day: date, last_day: date, now: datetime
) -> list[FreeSlot]:
    """Free slots on open days in [first_day, last_day] that start after ``now``."""
    if last_day < first_day:
        return []
    closed = workdays.closed_days(s, centre.id, first_day, last_day)
    counts = slot_counts(
        s, centre.id, datetime.combine(first_day, time.min), datetime.combine(last_day, time.max)
    )
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


def list_free_slots(s: Session, centre_id: str, day: date, now: datetime) -> list[FreeSlot]:
    """Bookable slots on ``day`` (empty on closed days, in the past or beyond the horizon)."""
    centre = require_centre(centre_id)
    if day < now.date() or day > horizon_end(now):
        return []
    return free_slots(s, centre, day, day, now)


def nearest_free(
    s: Session,
    centre_id: str,
    target: datetime,
    now: datetime,
    limit: int = MAX_ALTERNATIVES,
    exclude: Sequence[datetime] = (),
) -> list[datetime]:
    """Up to ``limit`` free slot starts closest in time to ``target`` (earlier on ties)."""
    centre = require_centre(centre_id)
    candidates = [
        slot.start
        for slot in free_slots(s, centre, now.date(), horizon_end(now), now)
        if slot.start not in exclude
    ]
    candidates.sort(key=lambda start: (abs((start - target).total_seconds()), start))
    return candidates[:limit]


def soonest_free(
    s: Session, centre_id: str, now: datetime, limit: int = MAX_ALTERNATIVES
) -> list[datetime]:
    """The first free slots from now on, on different days where possible ("过几天吧", "哪天人少":
    the user named no day, so show a spread of the days that can still be booked)."""
    centre = require_centre(centre_id)
    free = [slot.start for slot in free_slots(s, centre, now.date(), horizon_end(now), now)]
    chosen: list[datetime] = []
    for start in free:
        if all(start.date() != other.date() for other in chosen):
            chosen.append(start)
        if len(chosen) == limit:
            return chosen
    chosen += [start for start in free if start not in chosen][: limit - len(chosen)]
    return sorted(chosen)


def slot_problem(
    s: Session, centre: Centre, start: datetime, now: datetime
) -> tuple[str | None, str | None]:
    """(reason, detail) why ``start`` cannot be booked regardless of capacity, or (None, None)."""
    if start <= now:
        return PAST, None
    if start.date() > horizon_end(now):
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


def _pick_in_day(
    s: Session, centre: Centre, parsed: ParsedTime, now: datetime
) -> tuple[datetime | None, str]:
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
    counts = slot_counts(s, centre.id, future[0], future[-1])
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
    centre = require_centre(centre_id)
    target = _anchor(centre, parsed)
    detail = None
    if parsed.day < now.date() or (parsed.time is not None and target <= now):
        reason = PAST
    elif parsed.day > horizon_end(now):
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
    return Resolution(
        reason=reason, alternatives=nearest_free(s, centre.id, target, now), detail=detail
    )
