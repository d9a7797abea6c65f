"""The appointment tables (slot counters, capacity overrides, appointments and their history)
and the result types services return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship, validates

from bot.core import people
from bot.core.appointments.centres import Centre, get_centre
from bot.core.appointments.deadlines import days_left_for
from bot.core.db import Base
from bot.core.sealed import Sealed

BOOKED, CANCELLED, CHECKED_IN, NO_SHOW = "booked", "cancelled", "checked_in", "no_show"


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
    """Staff override of a centre's ``capacity_per_slot`` (one row per centre; absent: the
    configured value applies)."""

    __tablename__ = "centre_capacity"
    __table_args__ = (CheckConstraint("capacity > 0", name="ck_centre_capacity_capacity"),)

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
    # name and mobile encrypted at rest (read in clear); mobile_hash answers "same number?"
    name = Column("name_cipher", Sealed(), nullable=True)
    mobile = Column("mobile_cipher", Sealed(), nullable=True)
    mobile_hash = Column(String(64), nullable=True)
    id_cipher = Column(Text, nullable=False)
    id_fingerprint = Column(String(64), nullable=False, index=True)
    id_masked = Column(String(18), nullable=False)
    # = id_fingerprint while status is 'booked' and the slot is ahead, else NULL (unique).
    active_fingerprint = Column(String(64), nullable=True)
    centre_id = Column(String(32), nullable=False)
    slot_id = Column(
        Integer, ForeignKey("appointment_slots.id", name="fk_appointments_slot_id"), nullable=False
    )
    start = Column(DateTime, nullable=False)
    status = Column(String(16), nullable=False, default=BOOKED)
    discharge_date = Column(Date, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    events = relationship(
        "AppointmentEvent",
        order_by="AppointmentEvent.id",
        back_populates="appointment",
        lazy="select",
    )

    @validates("mobile")
    def _hash_mobile(self, _key: str, value: str | None) -> str | None:
        self.mobile_hash = people.mobile_fingerprint(value) if value else None
        return value

    @property
    def centre(self) -> Centre | None:
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
        """Decrypt the ID number (staff verification only; never log it); '' once the retention
        period has cleared it (``bot.core.records_retention``)."""
        return people.decrypt_id(self.id_cipher) if self.id_cipher else ""

    def days_left(self, today: date) -> int | None:
        """Days left before the reporting deadline for this person's category, if known."""
        return days_left_for(self.category, self.discharge_date, today)

    def __repr__(self) -> str:  # masked: reprs end up in logs
        return (
            f"<Appointment {self.code} {self.centre_id} {self.start:%Y-%m-%d %H:%M} "
            f"{self.status} {self.masked_mobile}>"
        )


class AppointmentEvent(Base):
    """Status history: who did what, when (booked, rescheduled, cancelled, checked_in, no_show)."""

    __tablename__ = "appointment_events"

    id = Column(Integer, primary_key=True)
    appointment_id = Column(
        Integer,
        ForeignKey("appointments.id", name="fk_appointment_events_appointment_id"),
        nullable=False,
        index=True,
    )
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

    slot: datetime | None = None
    reason: str | None = None
    alternatives: list[datetime] = field(default_factory=list)
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.slot is not None
