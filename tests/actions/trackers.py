"""Tracker fixtures: named conversation states as small dicts, and builders for rasa_sdk Trackers.

A form validation run is built the way Rasa sends it: the events end with the form's
ActionExecuted and the SlotSet candidates extracted from the latest user message, so
``tracker.slots_to_validate()`` sees them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core import people

SENDER = "tg-4242"

# A person the tests book for. The ID number is valid (GB 11643 check digit computed).
ID_17 = "37020219800101123"
ID_NUMBER = ID_17 + people.id_check_digit(ID_17)
MOBILE = "13812345678"

# Conversation states (slot values) the tests start from.
STATES: dict[str, dict[str, Any]] = {
    "empty": {},
    # booking: everything answered except the confirmation
    "booking_ready": {
        "veteran_category": "退役士兵",
        "district": "市南区",
        "centre_id": "shinan",
        "appointment_time": "2026-12-02T14:00",
        "person_name": "王建国",
        "mobile": MOBILE,
        "id_number": None,  # filled with a fresh Fernet token by booking_ready_slots()
        "discharge_date": "2026-11-20",
        "appointment_confirmed": True,
    },
    "booking_started": {
        "veteran_category": "退役士兵",
        "district": "市南区",
        "centre_id": "shinan",
    },
    "wish_ready": {
        "wish_category": "生活用品",
        "wish_description": "想要一台助听器，耳朵背了",
        "wish_budget": "300",
        "district": "李沧区",
        "mobile": MOBILE,
        "wish_consent": True,
    },
    "job_ready": {
        "job_skills": "会开车，有C照，当过汽车兵",
        "job_desired": "司机",
        "district": "城阳区",
        "mobile": MOBILE,
    },
}


def state(name: str, **overrides: Any) -> dict[str, Any]:
    slots = copy.deepcopy(STATES[name])
    if name == "booking_ready":
        slots["id_number"] = people.encrypt_id(ID_NUMBER)
    slots.update(overrides)
    return slots


def payload_entities(text: str) -> list[dict[str, Any]]:
    """Entities of a button payload like /inform{"choice":"unknown"}."""
    if not text.startswith("/") or "{" not in text:
        return []
    data = json.loads(text[text.index("{") :])
    return [{"entity": key, "value": value} for key, value in data.items()]


def user_event(
    text: str, intent: str, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "text": text,
        },
    }


def tracker(
    text: str = "",
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    *,
    entities: list[dict[str, Any]] | None = None,
    sender: str = SENDER,
    form: str | None = None,
    requested_slot: str | None = None,
    candidates: dict[str, Any] | None = None,
    history: list[str] | None = None,
    latest_action: str = "action_listen",
) -> Tracker:
    """A tracker whose latest message is ``text``/``intent``.

    ``form``: the active loop; ``candidates``: slots the form mapped from this message (they end
    the event list, as in a real validation call). ``history``: earlier user texts (for the
    Simplified/Traditional detection).
    """
    entities = entities if entities is not None else payload_entities(text)
    slot_values = dict(slots or {})
    if requested_slot is not None:
        slot_values["requested_slot"] = requested_slot
    events: list[dict[str, Any]] = [user_event(past, "inform") for past in history or []]
    events.append(user_event(text, intent, entities))
    if form:
        events.append({"event": "action", "name": form})
        for name, value in (candidates or {}).items():
            events.append({"event": "slot", "name": name, "value": value})
            slot_values[name] = value
    return Tracker(
        sender_id=sender,
        slots=slot_values,
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities,
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name=form or latest_action,
    )


async def run(action, t: Tracker, domain: dict[str, Any]):
    """Run an action; (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, domain)
    return events, dispatcher.messages


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The final value per slot among the returned SlotSet events."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") for m in messages if m.get("response")]


def next_requested(
    events: list[dict[str, Any]], t: Tracker, domain: dict[str, Any], form: str
) -> str | None:
    """The slot the form asks next: the validator's choice, else (as Rasa's FormAction does)
    the first empty slot of the form in domain order."""
    values = slot_events(events)
    if "requested_slot" in values:
        return values["requested_slot"]
    for slot in domain["forms"][form]["required_slots"]:
        if t.slots.get(slot) is None:
            return slot
    return None
