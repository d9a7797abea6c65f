"""The one reminder per appointment, through the outbox: kind 'reminder', dedupe key
``appointment:<id>:reminder``, due at 18:00 the day before. A booking made after that moment gets
none (the confirmation just read serves as one); only senders with a push channel (``tg-``,
``web-``) get reminders."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.appointments.centres import reminder_template
from bot.core.appointments.models import Appointment
from bot.core.script import to_script

REMINDER_AT = time(18, 0)
PUSH_PREFIXES = ("tg-", "web-", "wx-")


def reminder_key(appointment_id: int) -> str:
    return f"appointment:{appointment_id}:reminder"


def reminder_due(start: datetime) -> datetime:
    """18:00 on the day before the appointment."""
    return datetime.combine(start.date() - timedelta(days=1), REMINDER_AT)


def render_reminder(appointment: Appointment, script: str | None) -> str:
    """The reminder text; an address or phone not configured yet reads as the fallback wording."""
    centre = appointment.centre
    text = reminder_template().format(
        year=appointment.start.year,
        month=appointment.start.month,
        day=appointment.start.day,
        date=appointment.start.strftime("%Y-%m-%d"),
        time=appointment.start.strftime("%H:%M"),
        centre=centre.name if centre else appointment.centre_id,
        address=centre.address_text if centre else "",
        phone=centre.phone_text if centre else "",
        code=appointment.code,
    )
    return to_script(text, script)


def schedule_reminder(
    s: Session, appointment: Appointment, now: datetime, script: str | None
) -> None:
    """Create or move the appointment's single reminder, or withdraw it when none is due."""
    key = reminder_key(appointment.id)
    due = reminder_due(appointment.start)
    if not appointment.sender_id.startswith(PUSH_PREFIXES) or due <= now:
        outbox.cancel(s, key)
        return
    outbox.upsert(
        s,
        appointment.sender_id,
        render_reminder(appointment, script),
        due_at=due,
        kind="reminder",
        dedupe_key=key,
        now=now,
    )
