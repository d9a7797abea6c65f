"""优待查询: entitlement_form asks only what changes the result; bot.core.entitlements decides.

The form's required_slots are the profile fields already answered plus ``find(profile)
.next_question`` — so the form asks exactly that question, and ends (the result) once the finder
says nothing left would change it. "不清楚" records the field in ``finder_declined``; the profile
then carries ``entitlements.UNKNOWN`` for it, which the finder never asks again.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet

from actions import followups as fu
from actions import forms_common as fc
from actions import validators
from actions.replies import benefit_payload, utter_programme_details
from bot.core import entitlements, numerals

logger = logging.getLogger(__name__)

FIELDS = entitlements.FIELD_ORDER
DIRECT_SLOT = "finder_direct"  # set when the question was answered directly (no questionnaire)
MATRIX = "荣军矩阵"  # the catalogue's `kind` value for the 14 programmes (a data key, not a reply)
# Parsing vocabulary for yes/no questions that people answer with a fact instead of "是".
_HUKOU_YES = re.compile(r"青岛(户口|户籍|人|本地)|本地户口|本市户口")
_HUKOU_NO = re.compile(r"外地|老家|不在青岛|外省|农村户口在")
_DIFFICULTY_YES = re.compile(r"困难|低保|特困|贫困|没收入|没有收入|收入低|吃不上")


FIELD_LABEL = {  # literal response names, so the data validator sees them used
    "veteran_category": "utter_finder_field_veteran_category",
    "qingdao_hukou": "utter_finder_field_qingdao_hukou",
    "age": "utter_finder_field_age",
    "disability_grade": "utter_finder_field_disability_grade",
    "income_difficulty": "utter_finder_field_income_difficulty",
}


def declined_fields(tracker: Tracker) -> list[str]:
    return [f for f in (tracker.get_slot("finder_declined") or []) if f in FIELDS]


def profile_from(tracker: Tracker) -> dict[str, Any]:
    """The finder profile from slots; unparseable values are left out, declined ones are UNKNOWN."""
    profile: dict[str, Any] = {}
    for field in FIELDS:
        value = tracker.get_slot(field)
        if value is None:
            continue
        try:
            profile.update(entitlements.normalise_profile({field: value}))
        except (ValueError, TypeError):
            continue
    for field in declined_fields(tracker):
        profile.setdefault(field, entitlements.UNKNOWN)
    return profile


def decline(tracker: Tracker, field: str) -> dict[str, Any]:
    return {
        field: None,
        "finder_declined": sorted(set(declined_fields(tracker)) | {field}, key=FIELDS.index),
    }


class ValidateEntitlementForm(FormValidationAction):
    def name(self) -> str:
        return "validate_entitlement_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        if tracker.get_slot(DIRECT_SLOT):
            return []  # a direct question was answered (action_finder_intro): no questionnaire
        answered = [f for f in FIELDS if tracker.get_slot(f) is not None]
        result = entitlements.find(profile_from(tracker))
        return answered + ([result.next_question] if result.next_question else [])

    def _yes_no_field(
        self, field: str, yes: re.Pattern, no: re.Pattern | None, dispatcher, tracker, value
    ):
        if not fc.answering(tracker, field):
            return {field: value}  # answered earlier (e.g. a previous search)
        if fc.declined(tracker):
            return decline(tracker, field)
        answer = fc.yes_no(tracker)
        text = fc.plain_text(tracker)
        if text and no is not None and no.search(text):
            answer = False
        elif answer is None and text and yes.search(text):
            answer = True
        if answer is None:
            fc.utter(dispatcher, tracker, "utter_please_yes_no")
        return {field: answer}

    def validate_veteran_category(self, value, dispatcher, tracker, domain):
        if fc.answering(tracker, "veteran_category") and fc.declined(tracker):
            return decline(tracker, "veteran_category")
        return validators.validate_category_value(value, dispatcher, tracker)

    def validate_qingdao_hukou(self, value, dispatcher, tracker, domain):
        return self._yes_no_field(
            "qingdao_hukou", _HUKOU_YES, _HUKOU_NO, dispatcher, tracker, value
        )

    def validate_income_difficulty(self, value, dispatcher, tracker, domain):
        return self._yes_no_field(
            "income_difficulty", _DIFFICULTY_YES, None, dispatcher, tracker, value
        )

    def validate_age(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "age"):
            return {"age": value}
        if fc.declined(tracker):
            return decline(tracker, "age")
        number = numerals.parse_number(fc.plain_text(tracker) or str(value or ""))
        if number is None or not (1 <= number <= 120):
            fc.utter(dispatcher, tracker, "utter_invalid_age")
            return {"age": None}
        return {"age": int(number)}

    def validate_disability_grade(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "disability_grade"):
            return {"disability_grade": value}
        if fc.declined(tracker):
            return decline(tracker, "disability_grade")
        number = numerals.parse_number(fc.plain_text(tracker) or str(value or ""))
        if (
            number is None
            or int(number) not in entitlements.DISABILITY_GRADES
            or number != int(number)
        ):
            fc.utter(dispatcher, tracker, "utter_invalid_disability_grade")
            return {"disability_grade": None}
        return {"disability_grade": int(number)}


class ActionFinderIntro(Action):
    """ "退役军人坐公交免费吗" is answered first (then the finder is offered); a general "我能享受
    哪些优待" starts the finder. Sets ``finder_direct`` so the form asks nothing after an answer."""

    def name(self) -> str:
        return "action_finder_intro"

    async def run(self, dispatcher, tracker, domain):
        plan = fu.plan_for(tracker)
        if plan.replies:
            return fu.speak(dispatcher, tracker, domain, plan) + [SlotSet(DIRECT_SLOT, True)]
        fc.utter(dispatcher, tracker, "utter_finder_intro")
        return [SlotSet(DIRECT_SLOT, None)]


def details_payload(programme: entitlements.Programme) -> str:
    if programme.kind == MATRIX:
        return benefit_payload(programme.name)
    return "/inform" + json.dumps({"programme": programme.id})


class ActionFinderResult(Action):
    """What the user qualifies for, what they might (and what is missing), with detail buttons."""

    def name(self) -> str:
        return "action_finder_result"

    async def run(self, dispatcher, tracker, domain):
        if tracker.get_slot(DIRECT_SLOT):
            return [SlotSet(DIRECT_SLOT, None)]  # answered directly; the finder was offered
        result = entitlements.find(profile_from(tracker))
        if result.qualifies:
            buttons = [{"title": p.name, "payload": details_payload(p)} for p in result.qualifies]
            fc.utter(dispatcher, tracker, "utter_finder_qualifies", buttons=buttons)
        if result.maybe:
            items = "\n".join(
                fc.domain_text(
                    domain,
                    "utter_finder_maybe_item",
                    name=p.name,
                    missing="、".join(
                        fc.domain_text(domain, FIELD_LABEL[field])
                        if field in FIELD_LABEL
                        else field
                        for field in missing
                    ),
                )
                for p, missing in result.maybe
            )
            buttons = [{"title": p.name, "payload": details_payload(p)} for p, _ in result.maybe]
            fc.utter(dispatcher, tracker, "utter_finder_maybe", items=items, buttons=buttons)
        if not result.qualifies and not result.maybe:
            fc.utter(dispatcher, tracker, "utter_finder_nothing")
        fc.utter(dispatcher, tracker, "utter_finder_notice")
        return []


class ActionProgrammeDetails(Action):
    """Details of a programme chosen by id from the finder result (/inform{"programme": id})."""

    def name(self) -> str:
        return "action_programme_details"

    async def run(self, dispatcher, tracker, domain):
        programme = entitlements.programme_by_name(fc.latest_entity(tracker, "programme"))
        if programme is None:
            fc.utter(dispatcher, tracker, "utter_programme_not_found")
            return []
        utter_programme_details(dispatcher, programme)
        return []
