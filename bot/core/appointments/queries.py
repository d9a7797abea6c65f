"""Reads: a sender's bookings, look-up by code (and mobile), a centre's day, an appointment's
history."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import codes, people
from bot.core.appointments.models import BOOKED, CANCELLED, Appointment, AppointmentEvent


def get_for_sender(s: Session, sender_id: str) -> list[Appointment]:
    """The sender's bookings still in status 'booked', soonest first (one chat may book for
    several people, e.g. a family member)."""
    return list(
        s.execute(
            select(Appointment)
            .where(Appointment.sender_id == sender_id, Appointment.status == BOOKED)
            .order_by(Appointment.start)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def get_by_code(s: Session, code: str) -> Appointment | None:
    return s.execute(
        select(Appointment).where(Appointment.code == codes.normalise(code))
    ).scalar_one_or_none()


def find_by_code_and_mobile(s: Session, code: str, mobile: str) -> Appointment | None:
    """Look-up for people who lost their chat: both the code and the mobile must match."""
    try:
        mobile = people.validate_phone(mobile)
    except people.InvalidMobile:
        return None
    return s.execute(
        select(Appointment).where(
            Appointment.code == codes.normalise(code), Appointment.mobile == mobile
        )
    ).scalar_one_or_none()


def list_for_centre_day(
    s: Session, centre_id: str, day: date, include_cancelled: bool = False
) -> list[Appointment]:
    """Staff view of one centre's day, in time order."""
    query = select(Appointment).where(
        Appointment.centre_id == centre_id,
        Appointment.start >= datetime.combine(day, time.min),
        Appointment.start <= datetime.combine(day, time.max),
    )
    if not include_cancelled:
        query = query.where(Appointment.status != CANCELLED)
    return list(s.execute(query.order_by(Appointment.start, Appointment.id)).scalars())


def history(s: Session, appointment: Appointment) -> list[AppointmentEvent]:
    return list(
        s.execute(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment.id)
            .order_by(AppointmentEvent.id)
        ).scalars()
    )
