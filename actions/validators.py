"""Validators that several forms share: one answer, one check, whichever form asks it.

Each returns the slot values to set (None: the question is asked again after the reason was
sent). Feature modules call these from their ``validate_<slot>`` methods; a feature module never
imports another feature module (tests/actions/test_module_boundaries.py).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import forms_common as fc
from bot.core import appointments, entitlements, people

# Reason codes → responses (literal names, so the data validator sees them used).
INVALID_MOBILE = {
    "empty": "utter_invalid_mobile_empty",
    "bad_format": "utter_invalid_mobile_bad_format",
    "not_mobile": "utter_invalid_mobile_not_mobile",
}
_MOBILE_RUN = re.compile(r"\+?\d[\d \-]{5,}\d")


def canonical_category(text: str | None) -> str | None:
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


def validate_category_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    category = canonical_category(fc.latest_entity(tracker, "veteran_category") or value)
    if category is None:
        fc.utter(dispatcher, tracker, "utter_invalid_veteran_category")
    return {"veteran_category": category}


def validate_district_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    centre = appointments.find_centre_by_district(
        fc.latest_entity(tracker, "district") or str(value or "")
    )
    if centre is None:
        fc.utter(dispatcher, tracker, "utter_invalid_district")
        return {"district": None, "centre_id": None}
    return {"district": centre.district, "centre_id": centre.id}


def validate_mobile_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    answer = fc.latest_text(tracker) if fc.answering(tracker, "mobile") else ""
    text = unicodedata.normalize("NFKC", answer or str(value or ""))
    match = _MOBILE_RUN.search(text)
    try:
        mobile = people.validate_mobile(match.group(0) if match else text)
    except people.InvalidMobile as error:
        fc.utter(
            dispatcher, tracker, INVALID_MOBILE.get(error.code, "utter_invalid_mobile_bad_format")
        )
        return {"mobile": None}
    return {"mobile": mobile}


def validate_yes_no(
    slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """A yes/no question of a form: True or False, or None (asked again) when unclear."""
    if not fc.answering(tracker, slot):
        return {slot: value}
    answer = fc.yes_no(tracker)
    if answer is None:
        fc.utter(dispatcher, tracker, "utter_please_yes_no")
    return {slot: answer}
