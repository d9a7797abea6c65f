"""Personal data in finished core records is dropped after the retention period (``make purge``).

Why: a booking, wish or handoff needs the person's name, mobile and ID only while it is being
served. Once a record has been finished for longer than ``RJ_RETENTION_DAYS`` the row stays for
the statistics (centre, day, status, masked ID, the wish's published text) but the personal
values go:

- appointments whose time is older than the cut-off: name, mobile (and its hash), the encrypted ID
  and its fingerprint are cleared (``id_masked`` stays);
- wishes rejected, withdrawn or fulfilled before the cut-off: the mobile is cleared and the raw
  description replaced by its anonymised ``public_text``;
- job seekers who withdrew (inactive) before the cut-off: the registration is deleted;
- handoffs closed before the cut-off: the first message is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.core import handoff, jobs, wishes
from bot.core.appointments.models import Appointment

__all__ = ["Anonymised", "anonymise_finished"]

FINISHED_WISHES = (wishes.REJECTED, wishes.WITHDRAWN, wishes.FULFILLED)


@dataclass(frozen=True)
class Anonymised:
    appointments: int = 0
    wishes: int = 0
    job_seekers: int = 0
    handoffs: int = 0


def anonymise_finished(s: Session, cutoff: datetime) -> Anonymised:
    """Clear the personal values of records finished before ``cutoff`` (naive service time).
    Idempotent: rows already cleared are not counted again. The caller commits."""
    booked = s.execute(
        select(Appointment).where(Appointment.start < cutoff, Appointment.id_cipher != "")
    ).scalars()
    appointments = 0
    for appointment in booked:
        appointment.name = appointment.mobile = None
        appointment.id_cipher = appointment.id_fingerprint = ""
        appointment.active_fingerprint = None
        appointments += 1

    done = s.execute(
        select(wishes.Wish).where(
            wishes.Wish.status.in_(FINISHED_WISHES),
            wishes.Wish.updated_at < cutoff,
        )
    ).scalars()
    wish_count = 0
    for wish in done:
        if wish.mobile is None and wish.description == wish.public_text:
            continue
        wish.mobile = None
        wish.description = wish.public_text
        wish_count += 1

    seekers = s.execute(
        delete(jobs.JobSeeker).where(
            jobs.JobSeeker.active.is_(False), jobs.JobSeeker.updated_at < cutoff
        )
    ).rowcount

    closed = s.execute(
        select(handoff.HandoffRequest).where(
            handoff.HandoffRequest.status == handoff.CLOSED,
            handoff.HandoffRequest.closed_at < cutoff,
        )
    ).scalars()
    handoffs = 0
    for request in closed:
        if request.first_text:
            request.first_text = ""
            handoffs += 1
    s.flush()
    return Anonymised(appointments, wish_count, seekers or 0, handoffs)
