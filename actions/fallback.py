"""A fallback that helps: a follow-up or short reply read in context first, else the likeliest
topics as buttons, then a human on the second miss."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import followups as fu
from actions.handoffs import record_handoff
from actions.replies import user_script
from bot.core import knowledge
from bot.core.script import to_script

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
SUGGESTIONS = 3
VAGUE_INTENTS = {"affirm"}


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood (derived, no slot)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        # "那个那个 就是上回说的那个事" classified as a yes to nothing is a miss too
        vague_yes = intent in VAGUE_INTENTS and not fu.is_ack(event.get("text") or "")
        if intent != FALLBACK_INTENT and not vague_yes:
            break
        count += 1
    return count


def likely_topics(tracker: Tracker, labels: dict[str, str]) -> list[str]:
    ranking = tracker.latest_message.get("intent_ranking") or []
    names = [item.get("name") for item in ranking]
    return [name for name in names if name in labels][:SUGGESTIONS]


class ActionSuggestTopics(Action):
    def name(self) -> str:
        return "action_suggest_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        plan = fu.plan_for(tracker)
        if plan.replies:  # a follow-up the classifier could not place: "这个在哪办", "要带啥"
            return fu.speak(dispatcher, tracker, domain, plan)
        if fu.is_ack(fu.latest_text(tracker)):  # "👍", "嗯", "行": act on what was just said
            return await fu.ActionAckInContext().run(dispatcher, tracker, domain)
        if consecutive_fallbacks(tracker) >= 2:
            try:
                record_handoff(tracker, "fallback")
            except Exception:
                logger.exception("could not queue fallback handoff for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_fallback_offer_human")
            return []
        labels = dict(knowledge.topic_labels())
        script = user_script(tracker)
        buttons = [
            {"title": to_script(labels[intent], script), "payload": f"/{intent}"}
            for intent in likely_topics(tracker, labels)
        ]
        dispatcher.utter_message(response="utter_fallback_suggest", buttons=buttons)
        return []
