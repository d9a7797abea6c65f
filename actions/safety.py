"""Crisis, what follows a crisis, and human handoff: the answer comes first, the record second.

* An unmistakable crisis phrase (the NLU gate adds the entity ``crisis_kind``) is answered by the
  domain response utter_crisis, sent by a rule before action_handle_crisis runs, so it reaches
  the user even if the action server or the database is down. action_handle_crisis then stops any
  form (forgetting its personal data), queues the conversation for a human on a worker thread
  (never on the reply path) and starts the "support" stage.
* A `crisis` guess of the classifier alone (no phrase) is asked first: "您是遇到危险或者心里很难受
  吗？" (the "check" stage). A yes, distress or a crisis phrase escalates; anything else goes back
  to what the person was doing.
* In the support stage every message gets action_crisis_followup (nlu_data/rules/safety.yml):
  support for that kind of crisis (the hotline again, first aid while the ambulance comes, how to
  stay safe until the police come), never a form or a policy text — until the person clearly
  changes the topic; then their message is handled as if the crisis stage had not been there.
  The decisions are plain Python in bot/core/crisis.py.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    FollowupAction,
    SlotSet,
    UserUttered,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.forms_common import PII_SLOTS, reset
from actions.handoffs import agent_available, record_handoff, record_handoff_later
from bot.core import crisis

logger = logging.getLogger(__name__)

STAGE, KIND, TURNS, PAUSED_FORM = (
    "crisis_stage",
    "crisis_kind",
    "crisis_turns",
    "crisis_paused_form",
)
# Entities naming a topic of its own: a message that names one is a clear change of topic.
TOPIC_ENTITIES = ("benefit", "programme", "appointment_code", "job_id")

# Support replies per kind of crisis, sent in turn so that no reply repeats the one before.
SUPPORT = {
    crisis.MIND: (
        "utter_crisis_support_mind_1",
        "utter_crisis_support_mind_2",
        "utter_crisis_support_mind_3",
    ),
    crisis.MEDICAL: (
        "utter_crisis_support_medical_1",
        "utter_crisis_support_medical_2",
        "utter_crisis_support_medical_3",
    ),
    crisis.DANGER: (
        "utter_crisis_support_danger_1",
        "utter_crisis_support_danger_2",
        "utter_crisis_support_danger_3",
    ),
}


def _gate_kind(tracker: Tracker) -> str | None:
    """The kind the NLU gate found in the latest message, if it found a crisis phrase."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == KIND and entity.get("value") in crisis.KINDS:
            return entity["value"]
    return None


def _kind(tracker: Tracker) -> str:
    kind = _gate_kind(tracker) or tracker.get_slot(KIND)
    return kind if kind in crisis.KINDS else crisis.MIND


def _turns(tracker: Tracker) -> int:
    try:
        return int(tracker.get_slot(TURNS) or 0)
    except (TypeError, ValueError):
        return 0


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def support_response(kind: str, turn: int) -> str:
    """The support reply for ``kind`` at the ``turn``-th message after the crisis answer."""
    replies = SUPPORT.get(kind, SUPPORT[crisis.MIND])
    return replies[turn % len(replies)]


def _alert(tracker: Tracker) -> None:
    try:
        record_handoff_later(tracker, "crisis")
    except Exception:  # the crisis_flag slot still marks the conversation; the hub sees it too
        logger.exception("could not queue crisis handoff for %s", tracker.sender_id)


def _stop_form() -> list[dict[str, Any]]:
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


def _escalated(tracker: Tracker, kind: str) -> list[dict[str, Any]]:
    """Events of a crisis answered: form stopped, personal data forgotten, support stage."""
    return (
        _stop_form()
        + [
            SlotSet("crisis_flag", True),
            SlotSet(STAGE, crisis.SUPPORT),
            SlotSet(KIND, kind),
            SlotSet(TURNS, 0),
            SlotSet(PAUSED_FORM, None),
        ]
        + reset(PII_SLOTS)
    )


class ActionHandleCrisis(Action):
    """After utter_crisis: stops whatever form was running (forgetting its personal data), alerts
    a human (off the reply path) and stays with the person (support stage)."""

    def name(self) -> str:
        return "action_handle_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        _alert(tracker)
        kind = _kind(tracker)
        events = _escalated(tracker, kind)
        if tracker.get_slot(STAGE) == crisis.SUPPORT:
            # A crisis phrase again while we are with the person: the numbers were just given
            # (utter_crisis again); add a word of support so the turn is not a copy of the last.
            turn = _turns(tracker)
            dispatcher.utter_message(response=support_response(kind, turn))
            events.append(SlotSet(TURNS, turn + 1))
        return events


class ActionCrisisFollowup(Action):
    """A classifier-only `crisis`, or any message in the check or support stage."""

    def name(self) -> str:
        return "action_crisis_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        stage = tracker.get_slot(STAGE)
        intent = _intent(tracker)
        gate_kind = _gate_kind(tracker)
        if stage not in (crisis.CHECK, crisis.SUPPORT):
            if gate_kind:
                return self._escalate(dispatcher, tracker)
            return self._check(dispatcher, tracker)
        step = crisis.next_step(
            stage,
            intent,
            tracker.latest_message.get("text"),
            topic_entity=any(
                e.get("entity") in TOPIC_ENTITIES
                for e in tracker.latest_message.get("entities") or []
            ),
            gate_match=gate_kind is not None,
        )
        if step == crisis.ESCALATE:
            return self._escalate(dispatcher, tracker)
        if step == crisis.RESUME:
            return self._resume(dispatcher, tracker, stage, intent)
        turn = _turns(tracker)
        if step == crisis.BETTER:
            dispatcher.utter_message(response="utter_crisis_better")
        else:
            dispatcher.utter_message(response=support_response(_kind(tracker), turn))
        return [SlotSet(TURNS, turn + 1)]

    @staticmethod
    def _check(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """Ask gently whether this is a crisis; a running form waits (its answers are kept)."""
        form = tracker.active_loop.get("name") if tracker.active_loop else None
        dispatcher.utter_message(
            response="utter_crisis_check_in_form" if form else "utter_crisis_check"
        )
        events: list[dict[str, Any]] = [SlotSet(STAGE, crisis.CHECK), SlotSet(PAUSED_FORM, form)]
        return (_stop_form() if form else []) + events

    @staticmethod
    def _escalate(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_crisis")
        _alert(tracker)
        return _escalated(tracker, _kind(tracker))

    @staticmethod
    def _resume(
        dispatcher: CollectingDispatcher, tracker: Tracker, stage: str, intent: str | None
    ) -> list[dict[str, Any]]:
        """Leave the crisis stage: back to the paused form, or handle the message as usual."""
        left = [SlotSet(STAGE, None), SlotSet(PAUSED_FORM, None), SlotSet(TURNS, 0)]
        form = tracker.get_slot(PAUSED_FORM)
        if stage == crisis.CHECK and form and intent not in crisis.SERVICE_INTENTS:
            dispatcher.utter_message(response="utter_crisis_check_resume")
            return left + [FollowupAction(form)]
        # The message again, as if the crisis stage had not been there: the rules and forms
        # answer it as they would any other message.
        replayed = UserUttered(
            tracker.latest_message.get("text"),
            parse_data=replay_parse_data(tracker.latest_message),
            input_channel=tracker.get_latest_input_channel(),
        )
        # Marked, so a transcript (the agent console) can show the message once.
        replayed["metadata"] = {**(tracker.latest_message.get("metadata") or {}), "replayed": True}
        return left + [ActionExecuted("action_listen"), replayed]


# Below the top intent, a service intent this likely is what the person meant ("没事 就是报到的事
# 太麻烦" after the check question: nlu_fallback 0.35, ask_reporting_process 0.34).
HINTED_SERVICE_CONFIDENCE = 0.2


def replay_parse_data(latest: dict[str, Any]) -> dict[str, Any]:
    """What the NLU made of the latest message (intent, entities, ranking), to replay it; a
    "no" or an unclear message that hints at a service is replayed as that service."""
    data = {
        key: latest[key]
        for key in ("intent", "entities", "text", "intent_ranking")
        if key in latest
    }
    intent = (data.get("intent") or {}).get("name")
    if intent not in crisis.SERVICE_INTENTS:
        hinted = next(
            (
                item
                for item in data.get("intent_ranking") or []
                if item.get("name") in crisis.SERVICE_INTENTS
                and (item.get("confidence") or 0) >= HINTED_SERVICE_CONFIDENCE
            ),
            None,
        )
        if hinted:
            data["intent"] = {"name": hinted["name"], "confidence": hinted["confidence"]}
    return data


class ActionRequestHuman(Action):
    """Records a request for a human agent (the console routes it)."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            newly_queued = record_handoff(tracker, "human")
        except Exception:
            logger.exception("could not queue handoff for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        if not agent_available():  # say honestly that nobody is on duty; the request is kept
            response = "utter_handoff_offline"
        elif newly_queued:
            response = "utter_handoff_requested"
        else:
            response = "utter_handoff_already"
        dispatcher.utter_message(response=response)
        return [SlotSet("handoff_requested", True)]
