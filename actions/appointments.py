"""报到 appointments: the booking form, then check / cancel / reschedule — thin doors onto
``bot.core.appointments`` (opening hours, capacity, closures, codes, reminders live there).

Slots: veteran_category → district (→ centre_id) → appointment_time → person_name → mobile →
id_number (Fernet token, never clear text) → discharge_date (only for categories with a reporting
deadline) → appointment_confirmed. After booking, the personal slots are cleared.
"""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import forms_common as fc
from bot.core import appointments, entitlements, knowledge, outbox, people, timeparse
from bot.core.db import session_scope
from actions.replies import user_script

logger = logging.getLogger(__name__)

# Fields the user may change at the confirmation step, and what each change invalidates.
CHANGEABLE = {
    "appointment_time": ("appointment_time",),
    "district": ("district", "centre_id", "appointment_time"),
    "person_name": ("person_name",),
    "mobile": ("mobile",),
    "id_number": ("id_number",),
    "veteran_category": ("veteran_category", "discharge_date"),
}
# Words that name a field in "时间不对" / "手机号写错了" (parsing vocabulary; checked in order).
_FIELD_WORDS = (
    ("id_number", re.compile(r"身份证")),
    ("mobile", re.compile(r"手机|电话")),
    ("person_name", re.compile(r"姓名|名字")),
    ("district", re.compile(r"服务中心|地点|地方|哪个区|区县|区市")),
    ("veteran_category", re.compile(r"身份|类别")),
    ("appointment_time", re.compile(r"时间|日期|哪天|几点|钟点")),
)
# Reason / status codes → responses (literal names, so the data validator sees them used).
INVALID_MOBILE = {
    "empty": "utter_invalid_mobile_empty",
    "bad_format": "utter_invalid_mobile_bad_format",
    "not_mobile": "utter_invalid_mobile_not_mobile",
}
INVALID_ID = {
    "empty": "utter_invalid_id_number_empty",
    "bad_length": "utter_invalid_id_number_bad_length",
    "bad_format": "utter_invalid_id_number_bad_format",
    "bad_region": "utter_invalid_id_number_bad_region",
    "bad_birthdate": "utter_invalid_id_number_bad_birthdate",
    "bad_check_digit": "utter_invalid_id_number_bad_check_digit",
}
CLOSED_DAY = {"holiday": "utter_time_closed_holiday", "weekend": "utter_time_closed_weekend"}
STATUS = {
    appointments.BOOKED: "utter_appointment_status_booked",
    appointments.CANCELLED: "utter_appointment_status_cancelled",
    appointments.CHECKED_IN: "utter_appointment_status_checked_in",
    appointments.NO_SHOW: "utter_appointment_status_no_show",
}
AFTER_BOOKING_RESET = ("person_name", "mobile", "id_number", "appointment_time", "discharge_date",
                       "appointment_confirmed", "appointment_change")


# --------------------------------------------------------------------------- shared pieces


def pending_reminder(session, appointment) -> Optional[datetime]:
    """When the appointment's reminder will be sent (None: no push channel or too late)."""
    reminder = outbox.get_by_dedupe_key(session, appointments.reminder_key(appointment.id))
    return reminder.due_at if reminder is not None and reminder.status == outbox.PENDING else None


def hours_text(centre: Optional[appointments.Centre]) -> str:
    if centre is None:
        return ""
    return "、".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in centre.hours)


def time_choice_payload(moment: datetime) -> str:
    return "/inform" + json.dumps({"time_choice": fc.iso_minutes(moment)})


def canonical_category(text: Optional[str]) -> Optional[str]:
    """A category name (or alias) found in ``text``, canonical, else None."""
    if not text:
        return None
    value = entitlements.canonical_category(str(text))
    if value in entitlements.VETERAN_CATEGORIES:
        return value
    plain = fc.normalise(str(text))
    names = list(entitlements.VETERAN_CATEGORIES) + list(entitlements.CATEGORY_ALIASES)
    for name in sorted(names, key=len, reverse=True):
        if name in plain:
            return entitlements.canonical_category(name)
    return None


def validate_category_value(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
    category = canonical_category(fc.latest_entity(tracker, "veteran_category") or value)
    if category is None:
        fc.utter(dispatcher, tracker, "utter_invalid_veteran_category")
    return {"veteran_category": category}


def validate_district_value(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
    centre = appointments.find_centre_by_district(fc.latest_entity(tracker, "district") or str(value or ""))
    if centre is None:
        fc.utter(dispatcher, tracker, "utter_invalid_district")
        return {"district": None, "centre_id": None}
    return {"district": centre.district, "centre_id": centre.id}


_MOBILE_RUN = re.compile(r"\+?\d[\d \-]{5,}\d")


def validate_mobile_value(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
    answer = fc.latest_text(tracker) if fc.answering(tracker, "mobile") else ""
    text = unicodedata.normalize("NFKC", answer or str(value or ""))
    match = _MOBILE_RUN.search(text)
    try:
        mobile = people.validate_mobile(match.group(0) if match else text)
    except people.InvalidMobile as error:
        fc.utter(dispatcher, tracker, INVALID_MOBILE.get(error.code, "utter_invalid_mobile_bad_format"))
        return {"mobile": None}
    return {"mobile": mobile}


def explain_refusal(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    centre: Optional[appointments.Centre],
    reason: str,
    target: Optional[datetime],
    alternatives: List[datetime],
    detail: Optional[str] = None,
) -> None:
    """Why the requested time cannot be booked, then the nearest free slots as buttons."""
    when = fc.fmt_when(domain, target) if target else ""
    day = fc.fmt_date(domain, target.date()) if target else ""
    if reason == appointments.PAST:
        fc.utter(dispatcher, tracker, "utter_time_past")
    elif reason == appointments.TOO_FAR:
        fc.utter(dispatcher, tracker, "utter_time_too_far")
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
        buttons = [{"title": fc.fmt_when(domain, alt), "payload": time_choice_payload(alt)}
                   for alt in alternatives]
        fc.utter(dispatcher, tracker, "utter_time_alternatives", buttons=buttons)
    else:
        fc.utter(dispatcher, tracker, "utter_time_no_alternatives")


def requested_time(tracker: Tracker, now: datetime) -> Optional[timeparse.ParsedTime]:
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
    centre_id: Optional[str],
    current: Optional[datetime] = None,
) -> Optional[datetime]:
    """The bookable slot start for the user's latest answer, or None after explaining why not."""
    centre = appointments.get_centre(centre_id) if centre_id else None
    if centre is None:
        return None
    now = fc.local_now()
    parsed = requested_time(tracker, now)
    if parsed is None:
        fc.utter(dispatcher, tracker, "utter_time_not_understood")
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
            fc.utter(dispatcher, tracker, "utter_time_selected", when=fc.fmt_when(domain, resolution.slot))
        return resolution.slot
    target = parsed.at or datetime.combine(parsed.day, datetime.min.time())
    alternatives = [alt for alt in resolution.alternatives if alt != current]
    explain_refusal(dispatcher, tracker, domain, centre, resolution.reason, target, alternatives,
                    resolution.detail)
    return None


def extract_name(text: str) -> Optional[str]:
    """'我叫王建国，是退役士兵' → '王建国'; None when no plausible name is found."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    called = re.search(r"(?:叫|名字是|姓名是|姓名[:：]|名字[:：])\s*([\u4e00-\u9fff·]{2,8})", text)
    if called:
        candidate = called.group(1)
    else:
        text = re.sub(r"^(我是|本人是|本人|报到人是|报到人|他是|她是|是)\s*", "", text)
        match = re.match(r"[\u4e00-\u9fff·]{2,8}|[A-Za-z][A-Za-z .'-]{1,40}", text)
        candidate = match.group(0).strip() if match else ""
    candidate = re.split(r"[是的，,。\s]", candidate)[0] if re.search(r"[\u4e00-\u9fff]", candidate) else candidate
    if not (2 <= len(candidate) <= 6 or re.fullmatch(r"[A-Za-z][A-Za-z .'-]{1,40}", candidate or "")):
        return None
    return candidate


def summary_values(tracker: Tracker, domain: DomainDict) -> Dict[str, str]:
    centre = appointments.get_centre(tracker.get_slot("centre_id") or "")
    start = fc.parse_iso(tracker.get_slot("appointment_time"))
    token = tracker.get_slot("id_number")
    try:
        id_masked = people.mask_id(people.decrypt_id(token)) if token else ""
    except Exception:
        id_masked = ""
    return {
        "category": tracker.get_slot("veteran_category") or "",
        "name": tracker.get_slot("person_name") or "",
        "mobile": people.mask_phone(tracker.get_slot("mobile") or ""),
        "id_number": id_masked,
        "centre": centre.name if centre else "",
        "address": centre.address_text if centre else "",
        "when": fc.fmt_when(domain, start) if start else "",
    }


# --------------------------------------------------------------------------- the booking form


class ValidateAppointmentForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_appointment_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        category = tracker.get_slot("veteran_category")
        has_deadline = bool(category) and knowledge.reporting_requirements(category)["deadline_days"] is not None
        return [slot for slot in domain_slots if slot != "discharge_date" or has_deadline]

    async def extract_id_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Read the ID from the message itself and keep only its Fernet token."""
        if tracker.get_slot("requested_slot") != "id_number" or fc.is_protected(tracker):
            return {}
        try:
            number = people.validate_id_number(fc.latest_text(tracker), today=fc.local_now().date())
        except people.InvalidIdNumber as error:
            fc.utter(dispatcher, tracker, INVALID_ID.get(error.code, "utter_invalid_id_number_bad_format"))
            return {"id_number": None}
        return {"id_number": people.encrypt_id(number)}

    def validate_id_number(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {"id_number": value}  # already validated (and encrypted) by extract_id_number

    def validate_veteran_category(self, value, dispatcher, tracker, domain):
        return validate_category_value(value, dispatcher, tracker)

    def validate_district(self, value, dispatcher, tracker, domain):
        return validate_district_value(value, dispatcher, tracker)

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validate_mobile_value(value, dispatcher, tracker)

    def validate_person_name(self, value, dispatcher, tracker, domain):
        answer = fc.answering(tracker, "person_name") and not fc.is_payload(tracker)
        name = extract_name(fc.latest_text(tracker) if answer else str(value or ""))
        if name is None:
            fc.utter(dispatcher, tracker, "utter_invalid_person_name")
        return {"person_name": name}

    def validate_appointment_time(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "appointment_time"):
            return {"appointment_time": value}
        centre_id = tracker.get_slot("centre_id")
        if not centre_id:
            centre = appointments.find_centre_by_district(tracker.get_slot("district"))
            centre_id = centre.id if centre else None
        start = resolve_time(dispatcher, tracker, domain, centre_id)
        return {"appointment_time": fc.iso_minutes(start) if start else None}

    def validate_discharge_date(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "discharge_date"):
            return {"discharge_date": value}
        if fc.declined(tracker):
            return {"discharge_date": fc.UNKNOWN}
        text = fc.plain_text(tracker)
        today = fc.local_now().date()
        parsed = timeparse.parse(text, fc.local_now()) if text else None
        if parsed is None:
            fc.utter(dispatcher, tracker, "utter_invalid_discharge_date")
            return {"discharge_date": None}
        day = parsed.day
        if day > today and not re.search(r"\d{4}", text):
            # "9月1号" in December: timeparse reads it forward (for bookings); a discharge is past.
            try:
                earlier = day.replace(year=day.year - 1)
            except ValueError:
                earlier = day - timedelta(days=365)
            day = earlier if earlier <= today else day
        if day > today:
            fc.utter(dispatcher, tracker, "utter_discharge_date_future")
            return {"discharge_date": None}
        return {"discharge_date": day.isoformat()}

    def validate_appointment_confirmed(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "appointment_confirmed"):
            return {"appointment_confirmed": value}
        field = fc.choice(tracker)
        if field not in CHANGEABLE:
            field = None
            text = fc.plain_text(tracker)
            for name, pattern in _FIELD_WORDS:
                if text and pattern.search(text):
                    field = name
                    break
            if field is None and text and fc.yes_no(tracker) is None:
                # "改到后天上午": a new time straight away
                parsed = timeparse.parse(text, fc.local_now())
                if parsed is not None:
                    start = resolve_time(dispatcher, tracker, domain, tracker.get_slot("centre_id"))
                    return {"appointment_time": fc.iso_minutes(start) if start else None,
                            "appointment_confirmed": None, "appointment_change": None}
        if field is not None:
            return {**{slot: None for slot in CHANGEABLE[field]}, "appointment_confirmed": None,
                    "appointment_change": None}
        answer = fc.yes_no(tracker)
        if answer is True:
            return {"appointment_confirmed": True, "appointment_change": None}
        # "no": action_ask_appointment_confirmed asks what to change; unclear: the summary again
        return {"appointment_confirmed": None, "appointment_change": True if answer is False else None}


def current_start_being_rescheduled(tracker: Tracker) -> Optional[datetime]:
    """When the appointment that a reschedule is moving starts now (None if it cannot be read)."""
    try:
        with session_scope() as session:
            appointment = appointments.get_by_code(session, tracker.get_slot("appointment_ref") or "")
            return appointment.start if appointment else None
    except Exception:
        logger.exception("could not load the appointment to reschedule")
        return None


class ActionAskAppointmentTime(Action):
    """Asks for a time with the centre's opening hours (booking and reschedule)."""

    def name(self) -> Text:
        return "action_ask_appointment_time"

    async def run(self, dispatcher, tracker, domain):
        centre = appointments.get_centre(tracker.get_slot("centre_id") or "")
        active = (tracker.active_loop or {}).get("name")
        if active == "reschedule_form":
            current = current_start_being_rescheduled(tracker)
            fc.utter(dispatcher, tracker, "utter_ask_new_appointment_time",
                     current=fc.fmt_when(domain, current) if current else "",
                     centre=centre.name if centre else "", hours=hours_text(centre))
            return []
        fc.utter(dispatcher, tracker, "utter_ask_appointment_time",
                 centre=centre.name if centre else "", hours=hours_text(centre))
        return []


class ActionAskAppointmentConfirmed(Action):
    """The summary to confirm, or — right after a "no" — which field to change."""

    def name(self) -> Text:
        return "action_ask_appointment_confirmed"

    async def run(self, dispatcher, tracker, domain):
        if tracker.get_slot("appointment_change"):
            fc.utter(dispatcher, tracker, "utter_ask_what_to_change")
            return []
        fc.utter(dispatcher, tracker, "utter_confirm_appointment", **summary_values(tracker, domain))
        return []


class ActionBookAppointment(Action):
    """Books the confirmed slot; confirmation code, documents, deadline, reminder; clears PII."""

    def name(self) -> Text:
        return "action_book_appointment"

    async def run(self, dispatcher, tracker, domain):
        now = fc.local_now()
        start = fc.parse_iso(tracker.get_slot("appointment_time"))
        category = tracker.get_slot("veteran_category") or ""
        centre_id = tracker.get_slot("centre_id") or ""
        discharge = fc.parse_iso_date(tracker.get_slot("discharge_date"))
        clear = fc.reset(AFTER_BOOKING_RESET)
        try:
            id_number = people.decrypt_id(tracker.get_slot("id_number") or "")
        except Exception:
            id_number = ""
        if start is None or not id_number:
            fc.utter(dispatcher, tracker, "utter_default")
            return clear
        refusal: Optional[Dict[str, Any]] = None
        try:
            with session_scope() as session:
                try:
                    appointment = appointments.book(
                        session, sender_id=tracker.sender_id, category=category,
                        name=tracker.get_slot("person_name") or "", mobile=tracker.get_slot("mobile") or "",
                        id_number=id_number, centre_id=centre_id, start=start, now=now,
                        discharge_date=discharge, script=user_script(tracker),
                    )
                except appointments.BookingError as error:
                    # read everything now: the objects expire when the session ends
                    existing = error.existing
                    refusal = dict(code=error.code, alternatives=list(error.alternatives), detail=error.detail,
                                   existing=None if existing is None else dict(
                                       code=existing.code, start=existing.start, centre_id=existing.centre_id))
                else:
                    booked = {"code": appointment.code, "start": appointment.start,
                              "remind_at": pending_reminder(session, appointment)}
        except Exception:
            logger.exception("booking failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return []

        if refusal is not None:
            existing = refusal["existing"]
            if refusal["code"] == appointments.ALREADY_BOOKED and existing is not None:
                centre = appointments.get_centre(existing["centre_id"])
                fc.utter(dispatcher, tracker, "utter_appointment_already_booked", code=existing["code"],
                         when=fc.fmt_when(domain, existing["start"]), centre=centre.name if centre else "")
                return clear
            centre = appointments.get_centre(centre_id)
            explain_refusal(dispatcher, tracker, domain, centre, refusal["code"], start,
                            refusal["alternatives"], refusal["detail"])
            # Back to the form: the buttons above answer its time question.
            return [SlotSet("appointment_time", None), SlotSet("appointment_confirmed", None),
                    FollowupAction("appointment_form")]

        centre = appointments.get_centre(centre_id)
        fc.utter(dispatcher, tracker, "utter_appointment_booked", code=booked["code"],
                 centre=centre.name if centre else "", address=centre.address_text if centre else "",
                 when=fc.fmt_when(domain, booked["start"]))
        requirements = knowledge.reporting_requirements(category)
        if requirements["documents"]:
            documents = "\n".join(f"{n}. {doc}" for n, doc in enumerate(requirements["documents"], 1))
            fc.utter(dispatcher, tracker, "utter_reporting_documents", category=category,
                     documents=documents, source=requirements["source"])
        days = appointments.days_left(discharge, requirements["deadline_days"], now.date())
        if days is not None:
            deadline = discharge + timedelta(days=requirements["deadline_days"])
            values = dict(deadline_from=requirements["deadline_from"] or "",
                          deadline_days=requirements["deadline_days"],
                          deadline=fc.fmt_date(domain, deadline), days_left=days)
            response = ("utter_reporting_days_left" if days > 0 else
                        "utter_reporting_deadline_today" if days == 0 else "utter_reporting_deadline_passed")
            fc.utter(dispatcher, tracker, response, **values)
        if booked["remind_at"] is not None:
            fc.utter(dispatcher, tracker, "utter_appointment_reminder",
                     remind_at=fc.fmt_when(domain, booked["remind_at"]))
        return clear + [SlotSet("appointment_ref", booked["code"])]


# --------------------------------------------------------------------------- check / cancel / reschedule

OPERATIONS = {"check_appointment": "check", "cancel_appointment": "cancel",
              "reschedule_appointment": "reschedule"}
OPERATION_INTENT = {operation: intent for intent, operation in OPERATIONS.items()}


def _details(dispatcher, tracker, domain, appointment) -> None:
    centre = appointment.centre
    fc.utter(dispatcher, tracker, "utter_appointment_details", code=appointment.code,
             when=fc.fmt_when(domain, appointment.start), centre=centre.name if centre else "",
             address=centre.address_text if centre else "",
             status=fc.domain_text(domain, STATUS[appointment.status]) if appointment.status in STATUS
             else appointment.status)


class ActionLookupAppointment(Action):
    """Finds the booking for check / cancel / reschedule and decides the next step.

    This chat's own bookings first; if there are none, appointment_lookup_form asks for the
    confirmation code and mobile, and this action runs again with them.
    Sets appointment_next: done | lookup | confirm_cancel | ask_time (see appointments.yml).
    """

    def name(self) -> Text:
        return "action_lookup_appointment"

    async def run(self, dispatcher, tracker, domain):
        operation = OPERATIONS.get(fc.latest_intent_name(tracker)) or tracker.get_slot("appointment_operation") or "check"
        code, mobile = tracker.get_slot("lookup_code"), tracker.get_slot("mobile")
        by_code = tracker.latest_action_name == "appointment_lookup_form" and bool(code and mobile)
        events: List[Dict[Text, Any]] = [SlotSet("appointment_operation", operation)]
        now = fc.local_now()

        def done(*extra) -> List[Dict[Text, Any]]:
            return events + list(extra) + [SlotSet("appointment_next", "done")]

        try:
            with session_scope() as session:
                if by_code:
                    events.extend(fc.reset(["lookup_code", "mobile"]))
                    found = appointments.find_by_code_and_mobile(session, code, mobile)
                    if found is None:
                        fc.utter(dispatcher, tracker, "utter_lookup_not_found")
                        return done()
                    matches = [found]
                else:
                    matches = appointments.get_for_sender(session, tracker.sender_id)
                    chosen = fc.latest_entity(tracker, "appointment_code")
                    if chosen:
                        matches = [a for a in matches if a.code == appointments.normalise_code(chosen)]
                    if not matches:
                        return events + [SlotSet("appointment_next", "lookup")]

                if operation == "check":
                    for appointment in matches:
                        _details(dispatcher, tracker, domain, appointment)
                    return done()
                if len(matches) > 1:
                    intent = OPERATION_INTENT[operation]
                    buttons = [{"title": f"{fc.fmt_when(domain, a.start)} {a.code}",
                                "payload": f"/{intent}" + json.dumps({"appointment_code": a.code})}
                               for a in matches]
                    fc.utter(dispatcher, tracker, "utter_which_appointment", buttons=buttons)
                    return done()
                appointment = matches[0]
                if appointment.status != appointments.BOOKED or appointment.start <= now:
                    _details(dispatcher, tracker, domain, appointment)
                    fc.utter(dispatcher, tracker, "utter_appointment_cannot_change")
                    return done()
                events.append(SlotSet("appointment_ref", appointment.code))
                if operation == "cancel":
                    return events + [SlotSet("cancel_confirmed", None),
                                     SlotSet("appointment_next", "confirm_cancel")]
                return events + [SlotSet("centre_id", appointment.centre_id),
                                 SlotSet("appointment_time", None),
                                 SlotSet("appointment_next", "ask_time")]
        except Exception:
            logger.exception("appointment look-up failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return done()


class ValidateAppointmentLookupForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_appointment_lookup_form"

    def validate_lookup_code(self, value, dispatcher, tracker, domain):
        code = appointments.normalise_code(str(value or ""))
        match = re.search(rf"[{appointments.CODE_ALPHABET}]{{{appointments.CODE_LENGTH}}}", code)
        if len(code) != appointments.CODE_LENGTH and match is None:
            fc.utter(dispatcher, tracker, "utter_invalid_lookup_code")
            return {"lookup_code": None}
        return {"lookup_code": code if len(code) == appointments.CODE_LENGTH else match.group(0)}

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validate_mobile_value(value, dispatcher, tracker)


class ValidateAppointmentCancelForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_appointment_cancel_form"

    def validate_cancel_confirmed(self, value, dispatcher, tracker, domain):
        return fc.validate_yes_no("cancel_confirmed", value, dispatcher, tracker)


class ActionAskCancelConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher, tracker, domain):
        try:
            with session_scope() as session:
                appointment = appointments.get_by_code(session, tracker.get_slot("appointment_ref") or "")
                values = {}
                if appointment is not None:
                    centre = appointment.centre
                    values = dict(code=appointment.code, when=fc.fmt_when(domain, appointment.start),
                                  centre=centre.name if centre else "")
        except Exception:
            logger.exception("could not load the appointment to cancel")
            values = {}
        if not values:
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return []
        fc.utter(dispatcher, tracker, "utter_ask_cancel_confirmed", **values)
        return []


class ActionCancelAppointment(Action):
    def name(self) -> Text:
        return "action_cancel_appointment"

    async def run(self, dispatcher, tracker, domain):
        clear = fc.reset(["cancel_confirmed", "appointment_ref", "appointment_operation"])
        if tracker.get_slot("cancel_confirmed") is not True:
            fc.utter(dispatcher, tracker, "utter_appointment_kept")
            return clear
        try:
            with session_scope() as session:
                appointment = appointments.get_by_code(session, tracker.get_slot("appointment_ref") or "")
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
    def name(self) -> Text:
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
    def name(self) -> Text:
        return "action_reschedule_appointment"

    async def run(self, dispatcher, tracker, domain):
        clear = fc.reset(["appointment_time", "appointment_ref", "appointment_operation"])
        new_start = fc.parse_iso(tracker.get_slot("appointment_time"))
        now = fc.local_now()
        try:
            with session_scope() as session:
                appointment = appointments.get_by_code(session, tracker.get_slot("appointment_ref") or "")
                if appointment is None or new_start is None:
                    raise appointments.AppointmentError("not_active")
                appointments.reschedule(session, appointment, new_start, now, by=tracker.sender_id,
                                        script=user_script(tracker))
                done = {"code": appointment.code, "start": appointment.start,
                        "centre": appointment.centre, "remind_at": pending_reminder(session, appointment)}
        except appointments.BookingError as error:
            centre = appointments.get_centre(tracker.get_slot("centre_id") or "")
            explain_refusal(dispatcher, tracker, domain, centre, error.code, new_start, error.alternatives,
                            error.detail)
            return [SlotSet("appointment_time", None), FollowupAction("reschedule_form")]
        except appointments.AppointmentError:
            fc.utter(dispatcher, tracker, "utter_appointment_cannot_change")
            return clear
        except Exception:
            logger.exception("reschedule failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return clear
        fc.utter(dispatcher, tracker, "utter_appointment_rescheduled", code=done["code"],
                 when=fc.fmt_when(domain, done["start"]),
                 centre=done["centre"].name if done["centre"] else "")
        if done["remind_at"] is not None:
            fc.utter(dispatcher, tracker, "utter_appointment_reminder",
                     remind_at=fc.fmt_when(domain, done["remind_at"]))
        return clear
