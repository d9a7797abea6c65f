"""Appointment times that the booking and the reschedule share: reading the time the user asked
for, explaining why it cannot be booked (with the nearest free slots as buttons), opening hours
and when the reminder goes out. The rules themselves are in ``bot.core.appointments``.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import forms_common as fc
from bot.core import appointments, outbox, timeparse
from bot.core.db import session_scope

logger = logging.getLogger(__name__)

# Closed-day codes → responses (literal names, so the data validator sees them used).
CLOSED_DAY = {"holiday": "utter_time_closed_holiday", "weekend": "utter_time_closed_weekend"}
# "Whenever suits": no day named on purpose, so offer the soonest free days instead of "I did not
# understand" (parsing vocabulary).
_ANY_DAY = re.compile(
    r"过几天|过两天|几天后|哪天都|哪天人少|人少|随便|都行|都可以|尽快|越快越好|最近|早点|有空|看着办|你定|您定|你看|您看"
)


def pending_reminder(session, appointment) -> datetime | None:
    """When the appointment's reminder will be sent (None: no push channel or too late)."""
    reminder = outbox.get_by_dedupe_key(session, appointments.reminder_key(appointment.id))
    return reminder.due_at if reminder is not None and reminder.status == outbox.PENDING else None


def hours_text(centre: appointments.Centre | None) -> str:
    if centre is None:
        return ""
    return "、".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in centre.hours)


def time_choice_payload(moment: datetime) -> str:
    return "/inform" + json.dumps({"time_choice": fc.iso_minutes(moment)})


def explain_refusal(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    centre: appointments.Centre | None,
    reason: str,
    target: datetime | None,
    alternatives: list[datetime],
    detail: str | None = None,
    timed: bool = True,
) -> None:
    """Why the requested time cannot be booked, then the nearest free slots as buttons.
    ``timed``: the request named a time of day (else ``target`` is its day, at midnight)."""
    when = fc.fmt_when(domain, target) if target and timed else ""
    day = fc.fmt_date(domain, target.date()) if target else ""
    now = fc.local_now()
    if reason == appointments.PAST:
        earlier_today = target is not None and target.date() >= now.date()
        fc.utter(
            dispatcher,
            tracker,
            "utter_time_past",
            date=when if earlier_today else day,
            today=fc.fmt_date(domain, now.date()),
        )
    elif reason == appointments.TOO_FAR:
        last = appointments.horizon_end(now)
        fc.utter(
            dispatcher,
            tracker,
            "utter_time_too_far",
            date=day,
            days=(last - now.date()).days,
            last=fc.fmt_date(domain, last),
        )
    elif reason == appointments.CLOSED_DAY:
        if detail in CLOSED_DAY:
            fc.utter(dispatcher, tracker, CLOSED_DAY[detail], date=day)
        elif detail in (None, "", "closure"):
            fc.utter(dispatcher, tracker, "utter_time_closed_other", date=day)
        else:
            fc.utter(dispatcher, tracker, "utter_time_closed_closure", date=day, reason=detail)
    elif reason == appointments.OUTSIDE_HOURS:
        fc.utter(dispatcher, tracker, "utter_time_outside_hours", hours=hours_text(centre))
    elif reason == appointments.FULL:
        fc.utter(dispatcher, tracker, "utter_time_full", when=when or day)
    if alternatives:
        buttons = [
            {"title": fc.fmt_when(domain, alt), "payload": time_choice_payload(alt)}
            for alt in alternatives
        ]
        fc.utter(dispatcher, tracker, "utter_time_alternatives", buttons=buttons)
    else:
        fc.utter(dispatcher, tracker, "utter_time_no_alternatives")


def requested_time(tracker: Tracker, now: datetime) -> timeparse.ParsedTime | None:
    """What time the user asked for: an alternative's button, else their words."""
    chosen = fc.parse_iso(fc.latest_entity(tracker, "time_choice"))
    if chosen is not None:
        return timeparse.ParsedTime(day=chosen.date(), time=chosen.time())
    text = fc.plain_text(tracker)
    return timeparse.parse(text, now) if text else None


def resolve_time(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    centre_id: str | None,
    current: datetime | None = None,
    parsed: timeparse.ParsedTime | None = None,
) -> datetime | None:
    """The bookable slot start for the user's latest answer (or ``parsed``, a time read from
    part of the message), or None after explaining why not."""
    centre = appointments.get_centre(centre_id) if centre_id else None
    if centre is None:
        return None
    now = fc.local_now()
    parsed = parsed or requested_time(tracker, now)
    if parsed is None:
        offer_soonest(dispatcher, tracker, domain, centre, now)
        return None
    try:
        with session_scope() as session:
            resolution = appointments.resolve_request(session, centre.id, parsed, now)
    except Exception:
        logger.exception("could not resolve an appointment time")
        fc.utter(dispatcher, tracker, "utter_service_unavailable")
        return None
    if resolution.ok:
        if parsed.time is None or resolution.slot.time() != parsed.time:
            fc.utter(
                dispatcher,
                tracker,
                "utter_time_selected",
                when=fc.fmt_when(domain, resolution.slot),
            )
        return resolution.slot
    target = parsed.at or datetime.combine(parsed.day, datetime.min.time())
    alternatives = [alt for alt in resolution.alternatives if alt != current]
    explain_refusal(
        dispatcher,
        tracker,
        domain,
        centre,
        resolution.reason,
        target,
        alternatives,
        resolution.detail,
        timed=parsed.time is not None,
    )
    return None


def offer_soonest(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    centre: appointments.Centre,
    now: datetime,
) -> None:
    """No day could be read: for "过几天吧 / 哪天人少" say which days are free; for anything else
    say how to write a day. Either way the soonest free slots follow as buttons."""
    text = fc.plain_text(tracker)
    vague = bool(text and _ANY_DAY.search(text))
    try:
        with session_scope() as session:
            soonest = appointments.soonest_free(session, centre.id, now)
    except Exception:
        logger.exception("could not list the soonest free slots")
        soonest = []
    if not soonest:
        fc.utter(dispatcher, tracker, "utter_time_not_understood")
        return
    buttons = [
        {"title": fc.fmt_when(domain, start), "payload": time_choice_payload(start)}
        for start in soonest
    ]
    fc.utter(
        dispatcher,
        tracker,
        "utter_time_soonest" if vague else "utter_time_not_understood_soonest",
        buttons=buttons,
    )


def current_start_being_rescheduled(tracker: Tracker) -> datetime | None:
    """When the appointment that a reschedule is moving starts now (None if it cannot be read)."""
    try:
        with session_scope() as session:
            appointment = appointments.get_by_code(
                session, tracker.get_slot("appointment_ref") or ""
            )
            return appointment.start if appointment else None
    except Exception:
        logger.exception("could not load the appointment to reschedule")
        return None
