"""报到 appointments after booking: check, cancel and reschedule (by this chat's own bookings,
or by confirmation code and mobile) — thin doors onto ``bot.core.appointments``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction
from rasa_sdk.events import FollowupAction, SlotSet

from actions import forms_common as fc
from actions import validators
from actions.appointment_times import (
    current_start_being_rescheduled,
    explain_refusal,
    pending_reminder,
    resolve_time,
)
from actions.replies import user_script
from bot.core import appointments, codes, lookup_limits, people
from bot.core.db import session_scope

logger = logging.getLogger(__name__)

# Status codes → responses (literal names, so the data validator sees them used).
STATUS = {
    appointments.BOOKED: "utter_appointment_status_booked",
    appointments.CANCELLED: "utter_appointment_status_cancelled",
    appointments.CHECKED_IN: "utter_appointment_status_checked_in",
    appointments.NO_SHOW: "utter_appointment_status_no_show",
}

OPERATIONS = {
    "check_appointment": "check",
    "cancel_appointment": "cancel",
    "reschedule_appointment": "reschedule",
}
OPERATION_INTENT = {operation: intent for intent, operation in OPERATIONS.items()}


def _details(dispatcher, tracker, domain, appointment) -> None:
    centre = appointment.centre
    fc.utter(
        dispatcher,
        tracker,
        "utter_appointment_details",
        code=appointment.code,
        when=fc.fmt_when(domain, appointment.start),
        centre=centre.name if centre else "",
        address=centre.address_text if centre else "",
        status=fc.domain_text(domain, STATUS[appointment.status])
        if appointment.status in STATUS
        else appointment.status,
    )


def code_in_message(tracker) -> str | None:
    """The confirmation code in the latest message: a button's appointment_code, else written
    anywhere in the text (any case, with or without spaces)."""
    chosen = fc.latest_entity(tracker, "appointment_code")
    if chosen:
        return appointments.normalise_code(chosen)
    return None if fc.is_payload(tracker) else codes.find_in_text(fc.latest_text(tracker))


# "最多能约多久以后的 / 能提前几天约": a question about the booking window (parsing vocabulary).
_WINDOW_QUESTION = re.compile(
    r"(多久|多长时间|几天|多少天|多远|最晚|最远|提前).{0,8}(约|预约)|(约|预约).{0,8}(多久|多长时间|几天|多少天|多远|最晚|最远)"
)


def _asks_window(tracker) -> bool:
    return bool(_WINDOW_QUESTION.search(fc.plain_text(tracker)))


class ActionLookupAppointment(Action):
    """Finds the booking for check / cancel / reschedule and decides the next step.

    Ownership: a booking is shown or changed for the chat that made it, or for whoever gives its
    confirmation code together with the mobile given at booking (wrong pairs are limited per
    code, ``lookup_limits``). A code in the message ("确认码 K7QX3M 我约的是哪天") is read at
    once; with the mobile in the same message the answer comes at once, else
    appointment_lookup_form asks only for what is missing, and this action runs again with both.
    Sets appointment_next: done | lookup | confirm_cancel | ask_time (see appointments.yml).
    """

    def name(self) -> str:
        return "action_lookup_appointment"

    async def run(self, dispatcher, tracker, domain):
        operation = (
            OPERATIONS.get(fc.latest_intent_name(tracker))
            or tracker.get_slot("appointment_operation")
            or "check"
        )
        after_form = tracker.latest_action_name == "appointment_lookup_form"
        if after_form:
            code, mobile = tracker.get_slot("lookup_code"), tracker.get_slot("mobile")
        else:
            code = code_in_message(tracker)
            mobile = None if fc.is_payload(tracker) else people.find_mobile(fc.latest_text(tracker))
        events: list[dict[str, Any]] = [SlotSet("appointment_operation", operation)]
        if after_form:
            events.extend(fc.reset(["lookup_code", "mobile"]))
        now = fc.local_now()

        def done(*extra) -> list[dict[str, Any]]:
            return events + list(extra) + [SlotSet("appointment_next", "done")]

        try:
            with session_scope() as session:
                matches = appointments.get_for_sender(session, tracker.sender_id)
                if code:
                    matches = [a for a in matches if a.code == code]
                if code and not matches:
                    if not mobile:  # ask for the mobile only; the code is kept
                        return events + [
                            SlotSet("lookup_code", code),
                            SlotSet("appointment_next", "lookup"),
                        ]
                    outcome, found = appointments.lookup_by_code_and_mobile(
                        session, code, mobile, now
                    )
                    if outcome == lookup_limits.LOCKED:
                        fc.utter(dispatcher, tracker, "utter_lookup_locked")
                        return done()
                    if found is None:
                        fc.utter(dispatcher, tracker, "utter_lookup_not_found")
                        return done()
                    matches = [found]
                if not matches and not code and _asks_window(tracker):
                    # "最多能约多久以后的": about booking, not a booking of theirs
                    last = appointments.horizon_end(now)
                    fc.utter(
                        dispatcher,
                        tracker,
                        "utter_booking_window",
                        days=(last - now.date()).days,
                        last=fc.fmt_date(domain, last),
                    )
                    return done()
                if not matches:
                    return events + [SlotSet("appointment_next", "lookup")]

                if operation == "check":
                    for appointment in matches:
                        _details(dispatcher, tracker, domain, appointment)
                    return done()
                if len(matches) > 1:
                    intent = OPERATION_INTENT[operation]
                    buttons = [
                        {
                            "title": f"{fc.fmt_when(domain, a.start)} {a.code}",
                            "payload": f"/{intent}" + json.dumps({"appointment_code": a.code}),
                        }
                        for a in matches
                    ]
                    fc.utter(dispatcher, tracker, "utter_which_appointment", buttons=buttons)
                    return done()
                appointment = matches[0]
                if appointment.status != appointments.BOOKED or appointment.start <= now:
                    _details(dispatcher, tracker, domain, appointment)
                    fc.utter(dispatcher, tracker, "utter_appointment_cannot_change")
                    return done()
                events.append(SlotSet("appointment_ref", appointment.code))
                if operation == "cancel":
                    return events + [
                        SlotSet("cancel_confirmed", None),
                        SlotSet("appointment_next", "confirm_cancel"),
                    ]
                return events + [
                    SlotSet("centre_id", appointment.centre_id),
                    SlotSet("appointment_time", None),
                    SlotSet("appointment_next", "ask_time"),
                ]
        except Exception:
            logger.exception("appointment look-up failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return done()


class ValidateAppointmentLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_appointment_lookup_form"

    def validate_lookup_code(self, value, dispatcher, tracker, domain):
        """The code wherever it is in the answer; a mobile in the same message is taken too
        ("码是 K7QX3M 电话136…"), so it is not asked for."""
        code = codes.find_in_text(str(value or ""))
        if code is None:
            fc.utter(dispatcher, tracker, "utter_invalid_lookup_code")
            return {"lookup_code": None}
        found = {"lookup_code": code}
        if fc.answering(tracker, "lookup_code"):
            mobile = people.find_mobile(fc.latest_text(tracker))
            if mobile:
                found["mobile"] = mobile
        return found

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validators.validate_mobile_value(value, dispatcher, tracker)


class ValidateAppointmentCancelForm(FormValidationAction):
    def name(self) -> str:
        return "validate_appointment_cancel_form"

    def validate_cancel_confirmed(self, value, dispatcher, tracker, domain):
        """Typed answers do what the buttons do: "对，取消吧" / "是的 取消" / "取消" cancel,
        "不取消了 留着吧" / "算了" keep the booking."""
        if fc.answering(tracker, "cancel_confirmed") and fc.yes_no(tracker) is None:
            text = fc.plain_text(tracker)
            if fc.latest_intent_name(tracker) in ("cancel", "cancel_appointment") or (
                "取消" in text and "不" not in text
            ):
                return {"cancel_confirmed": True}
        return validators.validate_yes_no("cancel_confirmed", value, dispatcher, tracker)


class ActionAskCancelConfirmed(Action):
    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher, tracker, domain):
        try:
            with session_scope() as session:
                appointment = appointments.get_by_code(
                    session, tracker.get_slot("appointment_ref") or ""
                )
                values = {}
                if appointment is not None:
                    centre = appointment.centre
                    values = {
                        "code": appointment.code,
                        "when": fc.fmt_when(domain, appointment.start),
                        "centre": centre.name if centre else "",
                    }
        except Exception:
            logger.exception("could not load the appointment to cancel")
            values = {}
        if not values:
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return []
        fc.utter(dispatcher, tracker, "utter_ask_cancel_confirmed", **values)
        return []


class ActionCancelAppointment(Action):
    def name(self) -> str:
        return "action_cancel_appointment"

    async def run(self, dispatcher, tracker, domain):
        clear = fc.reset(["cancel_confirmed", "appointment_ref", "appointment_operation"])
        if tracker.get_slot("cancel_confirmed") is not True:
            fc.utter(dispatcher, tracker, "utter_appointment_kept")
            return clear
        try:
            with session_scope() as session:
                appointment = appointments.get_by_code(
                    session, tracker.get_slot("appointment_ref") or ""
                )
                if appointment is None:
                    raise appointments.AppointmentError("not_active")
                appointments.cancel(session, appointment, tracker.sender_id, fc.local_now())
                code = appointment.code
        except appointments.AppointmentError:
            fc.utter(dispatcher, tracker, "utter_appointment_cannot_change")
            return clear
        except Exception:
            logger.exception("cancel failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return clear
        fc.utter(dispatcher, tracker, "utter_appointment_cancelled", code=code)
        return clear


class ValidateRescheduleForm(FormValidationAction):
    def name(self) -> str:
        return "validate_reschedule_form"

    def validate_appointment_time(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "appointment_time"):
            return {"appointment_time": value}
        current = current_start_being_rescheduled(tracker)
        start = resolve_time(dispatcher, tracker, domain, tracker.get_slot("centre_id"), current)
        if start is not None and start == current:
            fc.utter(dispatcher, tracker, "utter_reschedule_same_slot")
            start = None
        return {"appointment_time": fc.iso_minutes(start) if start else None}


class ActionRescheduleAppointment(Action):
    def name(self) -> str:
        return "action_reschedule_appointment"

    async def run(self, dispatcher, tracker, domain):
        clear = fc.reset(["appointment_time", "appointment_ref", "appointment_operation"])
        new_start = fc.parse_iso(tracker.get_slot("appointment_time"))
        now = fc.local_now()
        try:
            with session_scope() as session:
                appointment = appointments.get_by_code(
                    session, tracker.get_slot("appointment_ref") or ""
                )
                if appointment is None or new_start is None:
                    raise appointments.AppointmentError("not_active")
                appointments.reschedule(
                    session,
                    appointment,
                    new_start,
                    now,
                    by=tracker.sender_id,
                    script=user_script(tracker),
                )
                done = {
                    "code": appointment.code,
                    "start": appointment.start,
                    "centre": appointment.centre,
                    "remind_at": pending_reminder(session, appointment),
                }
        except appointments.BookingError as error:
            centre = appointments.get_centre(tracker.get_slot("centre_id") or "")
            explain_refusal(
                dispatcher,
                tracker,
                domain,
                centre,
                error.code,
                new_start,
                error.alternatives,
                error.detail,
            )
            return [SlotSet("appointment_time", None), FollowupAction("reschedule_form")]
        except appointments.AppointmentError:
            fc.utter(dispatcher, tracker, "utter_appointment_cannot_change")
            return clear
        except Exception:
            logger.exception("reschedule failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return clear
        fc.utter(
            dispatcher,
            tracker,
            "utter_appointment_rescheduled",
            code=done["code"],
            when=fc.fmt_when(domain, done["start"]),
            centre=done["centre"].name if done["centre"] else "",
        )
        if done["remind_at"] is not None:
            fc.utter(
                dispatcher,
                tracker,
                "utter_appointment_reminder",
                remind_at=fc.fmt_when(domain, done["remind_at"]),
            )
        return clear
