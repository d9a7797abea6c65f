"""Refusals the user or an agent can act on, with a machine ``code`` (wording is in the NLG)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from bot.core.appointments.models import Appointment

# Reason codes (resolve_request / BookingError)
PAST, CLOSED_DAY, OUTSIDE_HOURS = "past", "closed_day", "outside_hours"
FULL, TOO_FAR, ALREADY_BOOKED = "full", "too_far", "already_booked"


class AppointmentError(Exception):
    """A refusal the user or agent can act on. ``code`` is one of:
    'unknown_centre', 'bad_name', 'bad_category', 'not_active', 'past', 'same_slot', 'changed',
    'too_early' (check-in/no-show before the appointment), 'bad_capacity' (set_capacity outside
    MIN_CAPACITY..MAX_CAPACITY), plus the BookingError codes."""

    def __init__(self, code: str, detail: str | None = None) -> None:
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
        existing: Appointment | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(code, detail)
        self.alternatives = list(alternatives)
        self.existing = existing
