"""Places per slot: the file's ``capacity_per_slot`` or a staff override (console 停诊与号源),
and the per-centre lock that keeps a capacity change and concurrent bookings consistent."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.orm import Session

from bot.core.appointments.centres import Centre, centre_of, require_centre
from bot.core.appointments.errors import AppointmentError
from bot.core.appointments.models import CapacityChange, CentreCapacity, Slot

logger = logging.getLogger(__name__)

MIN_CAPACITY, MAX_CAPACITY = 1, 50  # what staff may set per slot (set_capacity)


def effective_capacity(s: Session, centre) -> int:
    """Places per slot for new slots of ``centre`` (a Centre or its id): the staff override
    from ``centre_capacity`` if there is one, else ``capacity_per_slot`` from the file."""
    centre = centre_of(centre)
    override = s.execute(
        select(CentreCapacity.capacity).where(CentreCapacity.centre_id == centre.id)
    ).scalar_one_or_none()
    return override if override is not None else centre.capacity_per_slot


def capacity_overrides(s: Session) -> dict[str, CentreCapacity]:
    """Every staff override by centre id (one query; for the console's capacity table)."""
    return {row.centre_id: row for row in s.execute(select(CentreCapacity)).scalars()}


def _capacity_lock_key(centre_id: str) -> int:
    digest = hashlib.blake2b(f"rj:centre_capacity:{centre_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def capacity_lock(s: Session, centre_id: str, exclusive: bool = False) -> None:
    """PostgreSQL: a transaction-scoped advisory lock per centre. Booking transactions take it
    shared before they touch a slot row (so they never wait for it while holding a row lock);
    a capacity change takes it exclusive, so it waits for bookings in flight — including slot
    rows they are inserting, which its UPDATE could not see yet — and bookings that start
    afterwards read the new override. SQLite needs nothing: BEGIN IMMEDIATE serialises writers."""
    if s.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    s.execute(text(f"SELECT {function}(:key)"), {"key": _capacity_lock_key(centre_id)})


def _apply_capacity(s: Session, centre: Centre, capacity: int, now: datetime) -> tuple[int, int]:
    """Move future slot rows to ``capacity`` (never below booked); (updated, over capacity)."""
    target = case((Slot.booked > capacity, Slot.booked), else_=capacity)
    updated = s.execute(
        update(Slot)
        .where(Slot.centre_id == centre.id, Slot.start > now, Slot.capacity != target)
        .values(capacity=target)
        .execution_options(synchronize_session=False)
    ).rowcount
    over = s.execute(
        select(func.count())
        .select_from(Slot)
        .where(Slot.centre_id == centre.id, Slot.start > now, Slot.booked > capacity)
    ).scalar_one()
    return int(updated or 0), int(over)


def _upsert_override(s: Session, centre_id: str, capacity: int, by: str, now: datetime) -> None:
    values = {"centre_id": centre_id, "capacity": capacity, "updated_by": by, "updated_at": now}
    dialect = s.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(CentreCapacity).values(**values)
        s.execute(
            statement.on_conflict_do_update(
                index_elements=["centre_id"],
                set_={
                    "capacity": statement.excluded.capacity,
                    "updated_by": statement.excluded.updated_by,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
        return
    row = s.get(CentreCapacity, centre_id)  # pragma: no cover - other databases
    if row is None:  # pragma: no cover
        s.add(CentreCapacity(**values))
    else:  # pragma: no cover
        row.capacity, row.updated_by, row.updated_at = capacity, by, now
    s.flush()  # pragma: no cover


def set_capacity(
    s: Session, centre_id: str, capacity: int, by: str, now: datetime
) -> CapacityChange:
    """Staff: set the places per slot of ``centre_id`` to ``capacity``.

    Stores the override (who/when on the row) and updates the centre's future slot rows
    (start > now) in one statement to ``greatest(capacity, booked)``: bookings already made
    are never cancelled, so a slot holding more than the new capacity simply stays full — it
    is counted in ``over_capacity_slots`` so staff can contact people if needed. Past slots keep
    their history. Raises AppointmentError 'unknown_centre' or 'bad_capacity' (not an int in
    MIN_CAPACITY..MAX_CAPACITY).
    """
    centre = require_centre(centre_id)
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not MIN_CAPACITY <= capacity <= MAX_CAPACITY
    ):
        raise AppointmentError("bad_capacity", str(capacity))
    capacity_lock(s, centre.id, exclusive=True)
    _upsert_override(s, centre.id, capacity, by or "", now)
    updated, over = _apply_capacity(s, centre, capacity, now)
    logger.info(
        "capacity of %s set to %d by %s: %d future slots updated, %d over capacity",
        centre.id,
        capacity,
        by,
        updated,
        over,
    )
    return CapacityChange(updated, over, capacity)


def clear_capacity(s: Session, centre_id: str, by: str, now: datetime) -> CapacityChange:
    """Staff: drop the override so ``capacity_per_slot`` from the file applies again; future
    slot rows go back to the file value (never below booked), as in ``set_capacity``."""
    centre = require_centre(centre_id)
    capacity_lock(s, centre.id, exclusive=True)
    s.execute(
        delete(CentreCapacity)
        .where(CentreCapacity.centre_id == centre.id)
        .execution_options(synchronize_session=False)
    )
    updated, over = _apply_capacity(s, centre, centre.capacity_per_slot, now)
    logger.info(
        "capacity override of %s cleared by %s (back to %d): %d future slots updated, "
        "%d over capacity",
        centre.id,
        by,
        centre.capacity_per_slot,
        updated,
        over,
    )
    return CapacityChange(updated, over, centre.capacity_per_slot)
