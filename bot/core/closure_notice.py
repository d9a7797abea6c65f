"""Tell the people booked on a day that just closed (停诊): one outbox message per booking.

A closure does not cancel bookings (staff decide case by case); the veteran is told at once,
through their own channel (the outbox delivery loop), and asked to pick another time. The text is
``notices.closure`` in data/agent_assist.yml. Sending twice for the same closure and booking is a
no-op (dedupe key).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.core import agent_assist, outbox
from bot.core import appointments as ap


def notify_closure(s: Session, centre_ids: list[str], day: date, reason: str, now: datetime) -> int:
    """Queue the notice for every booking still booked on ``day`` at those centres; how many."""
    template = agent_assist.notice("closure")
    count = 0
    for centre_id in centre_ids:
        centre = ap.get_centre(centre_id)
        for appointment in ap.list_for_centre_day(s, centre_id, day):
            if appointment.status != ap.BOOKED:
                continue
            text = template.format(
                date=f"{day.month}月{day.day}日",
                time=appointment.start.strftime("%H:%M"),
                centre=centre.name if centre is not None else centre_id,
                code=appointment.code,
                reason=reason,
            )
            outbox.enqueue(
                s,
                appointment.sender_id,
                text,
                due_at=now,
                dedupe_key=f"closure:{appointment.id}:{day.isoformat()}",
                now=now,
            )
            count += 1
    return count
