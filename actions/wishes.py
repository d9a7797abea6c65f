"""荣军微心愿: wish_form → bot.core.wishes.submit; check_wish lists status and history."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction
from rasa_sdk.events import FollowupAction, SlotSet

from actions import forms_common as fc
from actions import validators
from actions.replies import say
from bot.core import codes, lookup_limits, numerals, people, wishes
from bot.core.db import session_scope

logger = logging.getLogger(__name__)

WISH_SLOTS = ("wish_category", "wish_description", "wish_budget", "wish_consent", "mobile")
MAX_DESCRIPTION = 500  # what we ask for; wishes.MAX_DESCRIPTION is the hard limit
NO_BUDGET = "none"
SHOWN_WISHES = 5
# "没有预算 / 不用钱" (parsing vocabulary)
_NO_BUDGET_WORDS = ("没有", "不用", "不需要", "无", "没预算", "免费", "不要钱", "随便")


# "我要许愿 / 想许个微心愿 / 能帮忙提个心愿不": the request, not the wish (parsing vocabulary).
_REQUEST = re.compile(
    r"[我俺]?[也还]?(想|要|想要|能不能|能|可以)?(帮我|帮忙|给我)?"
    r"(许|提|报|登记|申请|提交|发布|参加)(一)?个?(新的?)?(荣军)?(微)?(心愿|愿望|愿)"
    r"(吗|不|么|行吗|可以吗)?|这个能许愿吗|[，,。.!！?？\s]"
)
# Which category a wish written in words belongs to (first match wins; parsing vocabulary).
_CATEGORY_WORDS = (
    ("维修", r"修|漏水|漏雨|坏了|屋顶|房顶|水管|电路|线路|门窗"),
    ("助学", r"上学|学费|书包|读书|课本|学习用品|上大学"),
    ("助医", r"看病|药费|买药|医药|住院|治病|手术|康复|体检"),
    ("陪伴", r"陪|聊天|说说话|看看我|老部队|老战友"),
    ("生活用品", r"轮椅|助听器|拐杖|电视|收音机|被子|衣服|棉衣|冰箱|洗衣机|电暖|空调|米面|用品"),
)


def _wish_from_request(value: Any, category: str | None) -> dict[str, Any]:
    text = " ".join(str(value or "").split())
    rest = _REQUEST.sub("", fc.normalise(text))
    if len(rest) < 4 or len(text) > MAX_DESCRIPTION:
        return {"wish_description": None}
    found: dict[str, Any] = {"wish_description": text}
    if category not in wishes.CATEGORIES:
        plain = fc.normalise(text)
        guess = next((name for name, words in _CATEGORY_WORDS if re.search(words, plain)), None)
        if guess:
            found["wish_category"] = guess
    return found


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
        if not fc.answering(tracker, "wish_description"):
            # the message that started the form ("我要许愿 想找人修修漏水的屋顶"): its wish, if it
            # says one, spares two questions; otherwise nothing is said and the form asks. A
            # button ("/submit_wish") says no wish.
            if fc.is_payload(tracker) or str(value or "").startswith("/"):
                return {"wish_description": None}
            return _wish_from_request(value, tracker.get_slot("wish_category"))
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


def _show(dispatcher, tracker, domain, wish: dict[str, Any]) -> None:
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


def _by_code(dispatcher, tracker, domain, session, code: str, mobile: str) -> None:
    """A wish from another chat: code and mobile must both match, wrong tries are limited."""
    outcome, wish = wishes.lookup_by_code_and_mobile(session, code, mobile, fc.local_now())
    if outcome == lookup_limits.LOCKED:
        fc.utter(dispatcher, tracker, "utter_lookup_locked")
    elif wish is None:
        fc.utter(dispatcher, tracker, "utter_wish_lookup_not_found")
    else:
        _show(dispatcher, tracker, domain, wish)


class ActionCheckWish(Action):
    """The sender's wishes, newest first, each with its status and dated history — or one wish
    by its number ("编号HW8K3P 到哪一步了"): shown at once when this chat submitted it or the
    message also carries the mobile given with it; otherwise wish_lookup_form asks for the
    mobile, and this action runs again with both (lookup_code, mobile)."""

    def name(self) -> str:
        return "action_check_wish"

    async def run(self, dispatcher, tracker, domain):
        text = "" if fc.is_payload(tracker) else fc.latest_text(tracker)
        after_form = tracker.latest_action_name == "wish_lookup_form"
        code = tracker.get_slot("lookup_code") if after_form else codes.find_in_text(text)
        mobile = tracker.get_slot("mobile") if after_form else people.find_mobile(text)
        clear = fc.reset(["lookup_code", "mobile"])
        try:
            with session_scope() as session:
                found = wishes.list_for_sender(session, tracker.sender_id)
                if code:
                    own = [wish for wish in found if wish["code"] == code]
                    if own:
                        _show(dispatcher, tracker, domain, own[0])
                    elif mobile:
                        _by_code(dispatcher, tracker, domain, session, code, mobile)
                    elif after_form:
                        fc.utter(dispatcher, tracker, "utter_wish_lookup_not_found")
                    else:
                        return [SlotSet("lookup_code", code), FollowupAction("wish_lookup_form")]
                    return clear
        except Exception:
            logger.exception("wish look-up failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return clear
        if not found:
            fc.utter(dispatcher, tracker, "utter_no_wishes")
            return clear
        for wish in found[:SHOWN_WISHES]:
            _show(dispatcher, tracker, domain, wish)
        return clear


class ValidateWishLookupForm(FormValidationAction):
    """The number and the mobile of a wish made in another chat (both may come in one message)."""

    def name(self) -> str:
        return "validate_wish_lookup_form"

    def validate_lookup_code(self, value, dispatcher, tracker, domain):
        code = codes.find_in_text(str(value or ""))
        if code is None:
            fc.utter(dispatcher, tracker, "utter_invalid_wish_code")
            return {"lookup_code": None}
        found = {"lookup_code": code}
        mobile = (
            people.find_mobile(fc.latest_text(tracker))
            if fc.answering(tracker, "lookup_code")
            else None
        )
        if mobile:
            found["mobile"] = mobile
        return found

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validators.validate_mobile_value(value, dispatcher, tracker)
