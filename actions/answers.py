"""Informational answers: knowledge topics and 荣军矩阵 programme details, from data files."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups as fu
from actions.replies import (
    benefit_payload,
    latest_entity,
    latest_intent,
    user_script,
)
from bot.core import entitlements, followups, knowledge
from bot.core.script import to_script


class ActionAnswerQuestion(Action):
    """Answers the latest informational intent from knowledge.yml — or, when the message names a
    topic or asks something specific ("报到要带什么材料", "补助的事打哪个电话问"), that part; never
    the same block twice in a row."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker) or ""
        plan = fu.plan_for(tracker)
        if not plan.replies:
            if knowledge.answer(intent) is None:
                dispatcher.utter_message(response="utter_default")
                return []
            topic = fu.INTENT_TOPICS.get(intent, intent)
            kind = "contact" if intent == "ask_contact" else "intent"
            reply = followups.Reply(kind, topic, intent=intent)
            _, keys = fu.recent_context(tracker)
            if reply.key in keys and kind != "contact":  # contacts differ by district
                reply = followups.escalate(topic, "details")
            plan.replies.append(reply)
        return fu.speak(dispatcher, tracker, domain, plan, current=intent)


class ActionExplainBenefit(Action):
    """What one programme gives, who qualifies, how and where to apply — or which one?"""

    def name(self) -> str:
        return "action_explain_benefit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        plan = fu.plan_for(tracker)
        if plan.replies:
            return fu.speak(dispatcher, tracker, domain, plan)
        name = latest_entity(tracker, "benefit")
        programme = entitlements.programme_by_name(name) if name else None
        if programme is None:
            script = user_script(tracker)  # buttons added to a response bypass the NLG
            buttons = [
                {"title": to_script(item.name, script), "payload": benefit_payload(item.name)}
                for item in entitlements.load_catalogue()
                if item.kind == "荣军矩阵"
            ]
            dispatcher.utter_message(response="utter_ask_which_benefit", buttons=buttons)
            return []
        reply = followups.Reply("programme", programme.id, programme=programme.id)
        _, keys = fu.recent_context(tracker)
        if reply.key in keys:
            reply = followups.escalate(programme.id, "details")
        plan.replies.append(reply)
        return fu.speak(dispatcher, tracker, domain, plan) + [SlotSet("benefit", programme.name)]
