"""荣军微心愿: wish_form → bot.core.wishes.submit; check_wish lists status and history."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction

from actions import forms_common as fc
from actions import validators
from actions.replies import say
from bot.core import numerals, wishes
from bot.core.db import session_scope

logger = logging.getLogger(__name__)

WISH_SLOTS = ("wish_category", "wish_description", "wish_budget", "wish_consent", "mobile")
MAX_DESCRIPTION = 500  # what we ask for; wishes.MAX_DESCRIPTION is the hard limit
NO_BUDGET = "none"
SHOWN_WISHES = 5
# "没有预算 / 不用钱" (parsing vocabulary)
_NO_BUDGET_WORDS = ("没有", "不用", "不需要", "无", "没预算", "免费", "不要钱", "随便")


class ValidateWishForm(FormValidationAction):
    def name(self) -> str:
        return "validate_wish_form"

    def validate_wish_category(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "wish_category"):
            return {"wish_category": value if value in wishes.CATEGORIES else None}
        category = fc.latest_entity(tracker, "wish_category")
        if category not in wishes.CATEGORIES:
            text = fc.plain_text(tracker)
            category = next((c for c in wishes.CATEGORIES if text and c in text), None)
        if category is None:
            fc.utter(dispatcher, tracker, "utter_invalid_wish_category")
        return {"wish_category": category}

    def validate_wish_description(self, value, dispatcher, tracker, domain):
        text = " ".join(str(value or "").split())
        if fc.is_payload(tracker) or len(text) < 2 or len(text) > MAX_DESCRIPTION:
            fc.utter(dispatcher, tracker, "utter_invalid_wish_description")
            return {"wish_description": None}
        return {"wish_description": text}

    def validate_wish_budget(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "wish_budget"):
            return {"wish_budget": value}
        text = fc.plain_text(tracker)
        amount = numerals.parse_number(text)
        if amount is not None and 0 <= amount <= 1_000_000:
            return {"wish_budget": str(int(round(amount)))}
        if fc.declined(tracker) or any(word in text for word in _NO_BUDGET_WORDS):
            return {"wish_budget": NO_BUDGET}
        fc.utter(dispatcher, tracker, "utter_invalid_wish_budget")
        return {"wish_budget": None}

    def validate_district(self, value, dispatcher, tracker, domain):
        return validators.validate_district_value(value, dispatcher, tracker)

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validators.validate_mobile_value(value, dispatcher, tracker)

    def validate_wish_consent(self, value, dispatcher, tracker, domain):
        return validators.validate_yes_no("wish_consent", value, dispatcher, tracker)


class ActionSubmitWish(Action):
    def name(self) -> str:
        return "action_submit_wish"

    async def run(self, dispatcher, tracker, domain):
        budget = tracker.get_slot("wish_budget")
        consent = tracker.get_slot("wish_consent") is True
        try:
            with session_scope() as session:
                wish = wishes.submit(
                    session,
                    sender_id=tracker.sender_id,
                    category=tracker.get_slot("wish_category"),
                    description=tracker.get_slot("wish_description") or "",
                    budget=int(budget) if budget and budget != NO_BUDGET else None,
                    district=tracker.get_slot("district"),
                    mobile=tracker.get_slot("mobile"),
                    consent_publish=consent,
                    now=fc.local_now(),
                )
                code = wish.code
        except Exception:
            logger.exception("wish submission failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return fc.reset(WISH_SLOTS)
        fc.utter(dispatcher, tracker, "utter_wish_submitted", code=code)
        fc.utter(
            dispatcher, tracker, "utter_wish_next_public" if consent else "utter_wish_next_private"
        )
        return fc.reset(WISH_SLOTS)


STATUS = {  # literal response names, so the data validator sees them used
    wishes.SUBMITTED: "utter_wish_status_submitted",
    wishes.APPROVED: "utter_wish_status_approved",
    wishes.REJECTED: "utter_wish_status_rejected",
    wishes.PUBLISHED: "utter_wish_status_published",
    wishes.CLAIMED: "utter_wish_status_claimed",
    wishes.FULFILLED: "utter_wish_status_fulfilled",
    wishes.WITHDRAWN: "utter_wish_status_withdrawn",
}


def status_label(domain: dict[str, Any], status: str) -> str:
    return fc.domain_text(domain, STATUS[status]) if status in STATUS else status


class ActionCheckWish(Action):
    """The sender's wishes, newest first, each with its status and dated history."""

    def name(self) -> str:
        return "action_check_wish"

    async def run(self, dispatcher, tracker, domain):
        try:
            with session_scope() as session:
                found = wishes.list_for_sender(session, tracker.sender_id)
        except Exception:
            logger.exception("wish look-up failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return []
        if not found:
            fc.utter(dispatcher, tracker, "utter_no_wishes")
            return []
        for wish in found[:SHOWN_WISHES]:
            history = "；".join(
                fc.domain_text(
                    domain,
                    "utter_wish_history_entry",
                    date=fc.fmt_date(domain, event["at"].date()),
                    status=status_label(domain, event["to_status"])
                    + (
                        f"（{event['note']}）"
                        if event["to_status"] == wishes.REJECTED and event["note"]
                        else ""
                    ),
                )
                for event in wish["history"]
            )
            say(
                dispatcher,
                tracker,
                fc.domain_text(
                    domain,
                    "utter_wish_item",
                    code=wish["code"],
                    category=wish["category"],
                    summary=wish["public_text"],
                    status=status_label(domain, wish["status"]),
                    history=history,
                ),
            )
        return []
