"""Crisis and human handoff: the answer comes first, the record second, and never blocks it.

The crisis reply itself (utter_crisis) is a domain response sent by a rule before this action
runs, so it reaches the user even if the action server or the database is down.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms_common import PII_SLOTS, reset
from actions.handoffs import agent_available, record_handoff

logger = logging.getLogger(__name__)


class ActionHandleCrisis(Action):
    """Stops whatever form was running (forgetting its personal data) and flags the conversation
    for a human, crisis first."""

    def name(self) -> str:
        return "action_handle_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            record_handoff(tracker, "crisis")
        except Exception:  # the flag slot below still marks the conversation
            logger.exception("could not queue crisis handoff for %s", tracker.sender_id)
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("crisis_flag", True),
        ] + reset(PII_SLOTS)


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
