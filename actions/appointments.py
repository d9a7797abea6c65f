"""报到 booking: the appointment form, its questions and the booking — thin doors onto
``bot.core.appointments`` (opening hours, capacity, closures, codes, reminders live there).

Slots: veteran_category → district (→ centre_id) → appointment_time → person_name → mobile →
id_number (Fernet token, never clear text) → discharge_date (only for categories with a reporting
deadline, and not for someone too old to have been discharged recently) →
appointment_confirmed. After booking, the personal slots are cleared.
Check / cancel / reschedule are in appointment_changes.py.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import forms_common as fc
from actions import validators
from actions.appointment_times import (
    current_start_being_rescheduled,
    explain_refusal,
    hours_text,
    pending_reminder,
    resolve_time,
)
from actions.replies import user_script
from bot.core import appointments, facts, knowledge, people, timeparse
from bot.core.db import session_scope

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
INVALID_ID = {
    "empty": "utter_invalid_id_number_empty",
    "bad_length": "utter_invalid_id_number_bad_length",
    "bad_format": "utter_invalid_id_number_bad_format",
    "bad_region": "utter_invalid_id_number_bad_region",
    "bad_birthdate": "utter_invalid_id_number_bad_birthdate",
    "bad_check_digit": "utter_invalid_id_number_bad_check_digit",
}
# "好的，记下了：…": facts given at another question than the one asked, instead of its answer.
NOTED = "utter_facts_noted"
# The fact (bot.core.facts) that answers each question, when a message gives it.
ANSWERED_BY = {**dict(validators.FACT_SLOTS), "appointment_time": facts.WHEN, "id_number": facts.ID}
AFTER_BOOKING_RESET = (
    "person_name",
    "mobile",
    "id_number",
    "appointment_time",
    "discharge_date",
    "appointment_confirmed",
    "appointment_change",
)


def extract_name(text: str) -> str | None:
    """'我叫王建国，是退役士兵' → '王建国'; None when no plausible name is found."""
    return facts.answer_name(text)


def when_requested(when: str | None, current: Any = None) -> timeparse.ParsedTime | None:
    """The time a part of a message asks for ('下周三上午'); a time without a day ('改成下午',
    '十点半') keeps the day already chosen (``current``, ISO)."""
    if not when:
        return None
    parsed = timeparse.parse(when, fc.local_now())
    chosen = fc.parse_iso(current)
    if parsed is not None and chosen is not None and not facts.names_day(when):
        parsed = timeparse.ParsedTime(
            day=chosen.date(), time=parsed.time, part_of_day=parsed.part_of_day
        )
    return parsed


_MONTH_PART = re.compile(r"(上上|上|这|本)个?月(初|中|底|末)")


def month_part(text: str, today: date) -> date | None:
    """'上个月底' → the last day of last month, '这个月初' → the 1st (for a past date such as
    the discharge day; '月中' is the 15th). None when the text says no such thing."""
    match = _MONTH_PART.search(text or "")
    if not match:
        return None
    back = {"上上": 2, "上": 1}.get(match.group(1), 0)
    first = today.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    if match.group(2) == "初":
        return first
    if match.group(2) == "中":
        return min(first.replace(day=15), today)
    end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return min(end, today)


def _birth_date(tracker: Tracker) -> date | None:
    """The birth date in the ID number given so far (None before it is given)."""
    clear = fc.id_from_token(tracker.get_slot("id_number"))
    try:
        return people.birth_date_from_id(clear) if clear else None
    except ValueError:
        return None


def summary_values(tracker: Tracker, domain: DomainDict) -> dict[str, str]:
    centre = appointments.get_centre(tracker.get_slot("centre_id") or "")
    start = fc.parse_iso(tracker.get_slot("appointment_time"))
    return {
        "category": tracker.get_slot("veteran_category") or "",
        "name": tracker.get_slot("person_name") or "",
        "mobile": people.mask_phone(tracker.get_slot("mobile") or ""),
        "id_number": fc.masked_id(tracker.get_slot("id_number")),
        "centre": centre.name if centre else "",
        "address": centre.address_text if centre else "",
        "when": fc.fmt_when(domain, start) if start else "",
    }


# --------------------------------------------------------------------------- the booking form


class ValidateAppointmentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_appointment_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        category = tracker.get_slot("veteran_category")
        has_deadline = (
            bool(category)
            and knowledge.reporting_requirements(category)["deadline_days"] is not None
            and appointments.deadline_can_apply(_birth_date(tracker), fc.local_now().date())
        )
        return [slot for slot in domain_slots if slot != "discharge_date" or has_deadline]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Besides the answer to the question asked: every fact the message gives (name, phone,
        district, category, a time), so a run-on "我叫…，退伍兵，电话…，住城阳，想后天上午去" fills
        them all, and a fact typed at a later question corrects the earlier answer."""
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        if fc.is_protected(tracker) or fc.is_payload(tracker):
            return events
        requested = tracker.get_slot("requested_slot")
        slots = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        found = validators.message_facts(tracker)
        values = validators.fact_values(tracker, slots)
        before = {slot: tracker.get_slot(slot) for slot in values}
        time_value = self._time_from_facts(dispatcher, tracker, domain, found, values)
        if time_value is not None:
            values["appointment_time"] = time_value[0]
        changed = {e["name"] for e in events if e.get("value")} | set(values)
        # a fact Rasa's entity mapping already changed ("不对 俺是复员军人" at the ID question)
        remapped = (
            (fc.changed_by_latest_message(tracker, slots) - {requested}) if requested else set()
        )
        if (changed or remapped) and requested in validators.CONFIRMATION_SLOTS:
            # a correction at the summary: the summary is shown again with the new value
            # (validate_appointment_confirmed clears appointment_change: rasa_sdk drops a
            # slot that is not one of the form's questions when it comes from extraction)
            values["appointment_confirmed"] = None
        else:
            # an earlier answer replaced by a fact given at another question
            replaced = any(before.get(slot) for slot in values) and requested not in (None, *values)
            if remapped or replaced:
                fc.utter(dispatcher, tracker, "utter_fact_corrected")
            elif ANSWERED_BY.get(requested) not in (None, *found.found) and requested not in values:
                # new facts instead of the answer ("我叫周建军" at the time question): say they
                # were kept, or the same question would come back as if nothing had been heard
                noted = fc.shown_values(
                    domain, [(slot, value) for slot, value in values.items() if slot != requested]
                )
                if noted:
                    fc.utter(dispatcher, tracker, NOTED, facts="，".join(noted))
        return events + [SlotSet(slot, value) for slot, value in values.items()]

    def _time_from_facts(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        found: facts.Facts,
        values: dict[str, Any],
    ) -> tuple[str | None] | None:
        """(ISO start or None,) when the message gives (or a new district moves) the time;
        None when the time slot is left alone."""
        requested = tracker.get_slot("requested_slot")
        current = tracker.get_slot("appointment_time")
        district = values.get("district") or tracker.get_slot("district")
        centre = appointments.find_centre_by_district(district) if district else None
        if centre is None or requested == "appointment_time":
            return None  # no centre yet, or the time question's own validator reads it
        corrected = facts.WHEN in found.corrected or requested in validators.CONFIRMATION_SLOTS
        parsed = None
        if found.when and requested != "discharge_date" and (not current or corrected):
            parsed = when_requested(found.when, current)
        elif "district" in values and current and centre.id != tracker.get_slot("centre_id"):
            moment = fc.parse_iso(current)  # same time at the new centre
            parsed = timeparse.ParsedTime(day=moment.date(), time=moment.time())
        if parsed is None:
            return None
        start = resolve_time(dispatcher, tracker, domain, centre.id, parsed=parsed)
        return (fc.iso_minutes(start) if start else None,)

    async def extract_id_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read the ID from the message itself (at any question) and keep only its Fernet
        token; complain about a wrong number only when it was the question."""
        if fc.is_protected(tracker) or fc.is_payload(tracker):
            return {}
        found = validators.message_facts(tracker)
        if found.id_number:
            token = tracker.get_slot("id_number")
            try:
                same = bool(token) and people.decrypt_id(token) == found.id_number
            except Exception:
                same = False
            return {} if same else {"id_number": people.encrypt_id(found.id_number)}
        if tracker.get_slot("requested_slot") != "id_number":
            return {}
        if found.found or found.corrected:
            return {}  # it answers something else ("手机号错了，是…"); the ID is asked again
        code = found.id_error
        if code is None:
            try:
                people.validate_id_number(fc.latest_text(tracker), today=fc.local_now().date())
                code = "bad_format"
            except people.InvalidIdNumber as error:
                code = error.code
        fc.utter(dispatcher, tracker, INVALID_ID.get(code, "utter_invalid_id_number_bad_format"))
        return {"id_number": None}

    def validate_id_number(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return {"id_number": value}  # already validated (and encrypted) by extract_id_number

    def validate_veteran_category(self, value, dispatcher, tracker, domain):
        return validators.validate_category_value(value, dispatcher, tracker)

    def validate_district(self, value, dispatcher, tracker, domain):
        return validators.validate_district_value(value, dispatcher, tracker)

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validators.validate_mobile_value(value, dispatcher, tracker)

    def validate_person_name(self, value, dispatcher, tracker, domain):
        return validators.validate_person_name_value(value, dispatcher, tracker)

    def validate_appointment_time(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "appointment_time"):
            return {"appointment_time": value}
        centre_id = tracker.get_slot("centre_id")
        if not centre_id:
            centre = appointments.find_centre_by_district(tracker.get_slot("district"))
            centre_id = centre.id if centre else None
        parsed = None
        found = validators.message_facts(tracker)
        if found.when is None and fc.said(dispatcher, NOTED):
            return {"appointment_time": None}  # only other facts, just acknowledged: ask again
        if not fc.latest_entity(tracker, "time_choice") and found.found - {facts.WHEN}:
            # "下周四上午，我叫…": read only the words that name the time
            parsed = when_requested(found.when)
        start = resolve_time(dispatcher, tracker, domain, centre_id, parsed=parsed)
        return {"appointment_time": fc.iso_minutes(start) if start else None}

    def validate_discharge_date(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "discharge_date"):
            return {"discharge_date": value}
        if fc.declined(tracker):
            return {"discharge_date": fc.UNKNOWN}
        text = fc.plain_text(tracker)
        today = fc.local_now().date()
        rough = month_part(text, today)
        if rough is not None:
            return {"discharge_date": rough.isoformat()}
        parsed = timeparse.parse(text, fc.local_now()) if text else None
        if parsed is None:
            fc.utter(dispatcher, tracker, "utter_invalid_discharge_date")
            return {"discharge_date": None}
        day = parsed.day
        if day > today and "月" in text and not re.search(r"\d{4}|下个?月|明年", text):
            # "12月20号" on 1 December: read forward (for bookings); a discharge is past ("下周五",
            # "明天" are not moved: a future day said as such is 还没到)
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
        if not fc.is_payload(tracker) and (
            value is None or validators.message_facts(tracker).found
        ):
            # the message corrected a fact (get_extraction_events: "手机号改成…", "改成下周四"),
            # even where its words also read as a "no": show the summary again
            return {"appointment_confirmed": None, "appointment_change": None}
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
                    return {
                        "appointment_time": fc.iso_minutes(start) if start else None,
                        "appointment_confirmed": None,
                        "appointment_change": None,
                    }
        if field is not None:
            return {
                **dict.fromkeys(CHANGEABLE[field]),
                "appointment_confirmed": None,
                "appointment_change": None,
            }
        answer = fc.yes_no(tracker)
        if answer is True:
            return {"appointment_confirmed": True, "appointment_change": None}
        # "no": action_ask_appointment_confirmed asks what to change; unclear: the summary again
        return {
            "appointment_confirmed": None,
            "appointment_change": True if answer is False else None,
        }


# "约/预约/报到" in a statement full of facts: the user is booking (parsing vocabulary).
_BOOKING_WORDS = re.compile(r"报到|报道|预约|约个?时间|约一下|约个号")
_NOT_BOOKING = re.compile(r"取消|改约|改期|查一?下|查询|我约的|约好的|确认码|心愿|工作|岗位")


def starts_a_booking(text: str, found: facts.Facts) -> bool:
    """'我叫…，退伍兵，电话…，住城阳，想后天上午去报到' read as a mere statement is a booking:
    booking words and at least one fact of the booking form, or — without the word, as in
    '复员军人 于长江 138… 城阳区 下周三上午' — a day to come with two facts about who and where;
    never a check or a change."""
    clean = fc.normalise(text or "")
    if _NOT_BOOKING.search(clean):
        return False
    person = found.found & {facts.NAME, facts.PHONE, facts.ID, facts.DISTRICT, facts.CATEGORY}
    if _BOOKING_WORDS.search(clean) and person:
        return True
    return facts.WHEN in found.found and len(person) >= 2


class ActionStatement(Action):
    """A statement outside any form (intent inform): a booking told as facts starts the form with
    every fact kept; else "还有什么可以帮您的吗？" (twice in a row: the tasks to choose from)."""

    def name(self) -> str:
        return "action_statement"

    async def run(self, dispatcher, tracker, domain):
        found = validators.message_facts(tracker)
        if not fc.is_payload(tracker) and starts_a_booking(fc.latest_text(tracker), found):
            return [FollowupAction("appointment_form")]
        asked = fc.last_response(tracker) == "utter_anything_else"  # never the same answer twice
        fc.utter(dispatcher, tracker, "utter_which_task" if asked else "utter_anything_else")
        return []


class ActionAskAppointmentTime(Action):
    """Asks for a time with the centre's opening hours (booking and reschedule)."""

    def name(self) -> str:
        return "action_ask_appointment_time"

    async def run(self, dispatcher, tracker, domain):
        centre = appointments.get_centre(tracker.get_slot("centre_id") or "")
        active = (tracker.active_loop or {}).get("name")
        if active == "reschedule_form":
            current = current_start_being_rescheduled(tracker)
            fc.utter(
                dispatcher,
                tracker,
                "utter_ask_new_appointment_time",
                current=fc.fmt_when(domain, current) if current else "",
                centre=centre.name if centre else "",
                hours=hours_text(centre),
            )
            return []
        fc.utter(
            dispatcher,
            tracker,
            "utter_ask_appointment_time",
            centre=centre.name if centre else "",
            hours=hours_text(centre),
        )
        return []


class ActionAskAppointmentConfirmed(Action):
    """The summary to confirm, or — right after a "no" — which field to change."""

    def name(self) -> str:
        return "action_ask_appointment_confirmed"

    async def run(self, dispatcher, tracker, domain):
        if tracker.get_slot("appointment_change"):
            fc.utter(dispatcher, tracker, "utter_ask_what_to_change")
            return []
        fc.utter(
            dispatcher, tracker, "utter_confirm_appointment", **summary_values(tracker, domain)
        )
        return []


class ActionBookAppointment(Action):
    """Books the confirmed slot; confirmation code, documents, deadline, reminder; clears PII."""

    def name(self) -> str:
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
        refusal: dict[str, Any] | None = None
        try:
            with session_scope() as session:
                try:
                    appointment = appointments.book(
                        session,
                        sender_id=tracker.sender_id,
                        category=category,
                        name=tracker.get_slot("person_name") or "",
                        mobile=tracker.get_slot("mobile") or "",
                        id_number=id_number,
                        centre_id=centre_id,
                        start=start,
                        now=now,
                        discharge_date=discharge,
                        script=user_script(tracker),
                    )
                except appointments.BookingError as error:
                    # read everything now: the objects expire when the session ends
                    existing = error.existing
                    refusal = {
                        "code": error.code,
                        "alternatives": list(error.alternatives),
                        "detail": error.detail,
                        "existing": None
                        if existing is None
                        else {
                            "code": existing.code,
                            "start": existing.start,
                            "centre_id": existing.centre_id,
                        },
                    }
                else:
                    booked = {
                        "code": appointment.code,
                        "start": appointment.start,
                        "remind_at": pending_reminder(session, appointment),
                    }
        except Exception:
            logger.exception("booking failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return []

        if refusal is not None:
            existing = refusal["existing"]
            if refusal["code"] == appointments.ALREADY_BOOKED and existing is not None:
                centre = appointments.get_centre(existing["centre_id"])
                fc.utter(
                    dispatcher,
                    tracker,
                    "utter_appointment_already_booked",
                    code=existing["code"],
                    when=fc.fmt_when(domain, existing["start"]),
                    centre=centre.name if centre else "",
                )
                return clear
            centre = appointments.get_centre(centre_id)
            explain_refusal(
                dispatcher,
                tracker,
                domain,
                centre,
                refusal["code"],
                start,
                refusal["alternatives"],
                refusal["detail"],
            )
            # Back to the form: the buttons above answer its time question.
            return [
                SlotSet("appointment_time", None),
                SlotSet("appointment_confirmed", None),
                FollowupAction("appointment_form"),
            ]

        centre = appointments.get_centre(centre_id)
        fc.utter(
            dispatcher,
            tracker,
            "utter_appointment_booked",
            code=booked["code"],
            centre=centre.name if centre else "",
            address=centre.address_text if centre else "",
            when=fc.fmt_when(domain, booked["start"]),
        )
        requirements = knowledge.reporting_requirements(category)
        if requirements["documents"]:
            documents = "\n".join(
                f"{n}. {doc}" for n, doc in enumerate(requirements["documents"], 1)
            )
            fc.utter(
                dispatcher,
                tracker,
                "utter_reporting_documents",
                category=category,
                documents=documents,
                source=requirements["source"],
            )
        days = appointments.days_left(discharge, requirements["deadline_days"], now.date())
        if days is not None:
            deadline = discharge + timedelta(days=requirements["deadline_days"])
            values = {
                "deadline_from": requirements["deadline_from"] or "",
                "deadline_days": requirements["deadline_days"],
                "deadline": fc.fmt_date(domain, deadline),
                "days_left": days,
            }
            response = (
                "utter_reporting_days_left"
                if days > 0
                else "utter_reporting_deadline_today"
                if days == 0
                else "utter_reporting_deadline_passed"
            )
            fc.utter(dispatcher, tracker, response, **values)
        if people.is_landline(tracker.get_slot("mobile")):
            fc.utter(dispatcher, tracker, "utter_contact_by_phone_call")
        if booked["remind_at"] is not None:
            fc.utter(
                dispatcher,
                tracker,
                "utter_appointment_reminder",
                remind_at=fc.fmt_when(domain, booked["remind_at"]),
            )
        # "要带啥" next reads against 报到 (the follow-up replies' topic slot)
        return clear + [
            SlotSet("appointment_ref", booked["code"]),
            SlotSet("answer_topic", "reporting"),
        ]
