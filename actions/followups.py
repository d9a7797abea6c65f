"""Answers that read the conversation: direct questions, follow-ups, money, two requests, and
short replies ("嗯", "行", "👍") that act on what the bot just said.

The deciding is done by ``bot.core.followups.plan``; this module only reads the context from the
tracker (the topic answered last, what was said), speaks the plan in the user's script and
remembers the topic in the slots ``answer_topic`` / ``answer_key`` (the keys of the answer just
given, so the same answer is never sent twice in a row).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import say, say_service_centres, utter_programme_details
from bot.core import entitlements, followups, knowledge

TOPIC_SLOT = "answer_topic"
KEY_SLOT = "answer_key"
# How many user messages a topic stays "just discussed" (the current one included).
TOPIC_TURNS = 3
# Short replies that carry no request of their own (parsing vocabulary, Simplified).
ACK = re.compile(
    r"^(嗯+|嗯嗯|恩+|哦+|噢+|好+|好的|好吧|行+|行吧|中|可以|成|ok|OK|对|是的?|知道了|明白了?|"
    r"收到|懂了|谢谢?|多谢|[👍👌🙏😊🙂👏✌️❤️]+)[\s,，。.!！~～]*"
    r"(知道了|明白了|好的|谢谢|行)?[\s,，。.!！~～]*$"
)
# Which answers a topic of the knowledge file belongs to (the follow-up topic it sets).
INTENT_TOPICS = {
    "ask_allowance": "allowance",
    "ask_reporting_process": "reporting",
    "ask_contact": "contact",
}


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def recent_context(tracker: Tracker) -> tuple[str | None, list[str]]:
    """(topic discussed within the last TOPIC_TURNS user messages, keys of the answer given in
    reply to the previous message — empty when anything else was said since)."""
    users = 0
    topic: str | None = None
    keys: list[str] | None = None
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            users += 1
            if users > TOPIC_TURNS:
                break
        elif kind == "bot" and users >= 1 and keys is None:
            keys = []  # the bot said something after our answer: not "the answer just given"
        elif kind == "slot" and event.get("name") == KEY_SLOT and keys is None and users <= 1:
            keys = [k for k in str(event.get("value") or "").split(",") if k]
        elif kind == "slot" and event.get("name") == TOPIC_SLOT and topic is None:
            topic = event.get("value") or None
    return topic, keys or []


def last_bot_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return event["text"]
    return ""


def last_bot_texts(tracker: Tracker) -> str:
    """Every bot message since the previous user message, joined."""
    texts: list[str] = []
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users > 1:
                break
        elif event.get("event") == "bot" and users == 1:
            texts.append(event.get("text") or "")
    return "\n".join(reversed(texts))


def _buttons(reply: followups.Reply) -> list[dict[str, str]]:
    labels = followups.button_labels()
    buttons = []
    if reply.offer_finder:
        buttons.append({"title": labels["finder"], "payload": "/ask_entitlements"})
    if reply.offer_human:
        buttons.append({"title": labels["human"], "payload": "/request_human"})
    return buttons


def speak(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    plan: followups.Plan,
    *,
    current: str | None = None,
) -> list[dict[str, Any]]:
    """Utter every reply of ``plan``, then offer the second requests (except ``current``, the
    task already under way); return the slot events that remember the topic."""
    for reply in plan.replies:
        if reply.kind == "programme":
            programme = entitlements.programme_by_name(reply.programme)
            if programme is not None:
                utter_programme_details(dispatcher, programme)
            if reply.offer_finder:
                say(dispatcher, tracker, followups.finder_offer(), _buttons(reply))
        elif reply.kind in {"intent", "contact"}:
            found = knowledge.answer(reply.intent)
            if found is not None:
                buttons = [{"title": f["title"], "payload": f["payload"]} for f in found.followups]
                say(dispatcher, tracker, found.text, buttons)
            if reply.kind == "contact":
                say_service_centres(dispatcher, tracker, domain)
        else:
            say(dispatcher, tracker, reply.text, _buttons(reply))
    labels = followups.button_labels()
    in_form = bool((tracker.active_loop or {}).get("name"))
    for task in plan.tasks:
        if task == current or in_form:  # mid-form the form's own question comes next
            continue
        say(
            dispatcher,
            tracker,
            followups.task_offer(task, current),
            [{"title": labels.get(task) or task, "payload": "/" + task}],
        )
    return remember(plan.replies)


def remember(replies: list[followups.Reply]) -> list[dict[str, Any]]:
    if not replies:
        return []
    return [
        SlotSet(TOPIC_SLOT, replies[-1].topic),
        SlotSet(KEY_SLOT, ",".join(reply.key for reply in replies)),
    ]


def plan_for(tracker: Tracker, **kwargs) -> followups.Plan:
    topic, keys = recent_context(tracker)
    kwargs.setdefault("category", tracker.get_slot("veteran_category"))
    return followups.plan(latest_text(tracker), recent_topic=topic, last_keys=keys, **kwargs)


class ActionAnswerFollowup(Action):
    """A statement that only makes sense in context: "俺是伤残军人 五级的" after the bus answer,
    "那崂山的呢" after a service centre, "要带啥" after a programme."""

    def name(self) -> str:
        return "action_answer_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topic, keys = recent_context(tracker)
        plan = plan_for(tracker)
        if plan:
            return speak(dispatcher, tracker, domain, plan)
        category = next(tracker.get_latest_entity_values("veteran_category"), None)
        if topic and category:
            reply = followups.category_note(topic, category)
            if reply is not None and reply.key not in keys:
                say(dispatcher, tracker, reply.text, _buttons(reply))
                return remember([reply])
        district = next(tracker.get_latest_entity_values("district"), None)
        if district and topic == "contact":
            say_service_centres(dispatcher, tracker, domain)
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionAnswerOutOfScope(Action):
    """A message the NLU placed out of scope that still names a topic we answer ("去景区门票能免吗"
    is the parks programme): that topic is answered; otherwise what the assistant can help with."""

    def name(self) -> str:
        return "action_answer_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        _, keys = recent_context(tracker)
        plan = followups.plan(
            latest_text(tracker),
            last_keys=keys,
            category=tracker.get_slot("veteran_category"),
        )
        if plan.replies:
            return speak(dispatcher, tracker, domain, plan)
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionAckInContext(Action):
    """ "嗯", "行", "好的", "👍": yes to the question just asked, or a friendly close."""

    def name(self) -> str:
        return "action_ack_in_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        said = last_bot_texts(tracker)
        if followups.offered_human(said):
            dispatcher.utter_message(response="utter_handoff_requested")
            return []
        if not is_ack(latest_text(tracker)):
            # "就那个啊" read as a yes: not understood, so the fallback's next step (a human)
            return [FollowupAction("action_suggest_topics")]
        dispatcher.utter_message(response="utter_ack_ok")
        return []


def is_ack(text: str) -> bool:
    return bool(ACK.match(followups.normalise(text).strip()))


class ActionAnswerAside(Action):
    """A task that also asks something ("坐公交免费吗？还有我想约个报到"): the question is answered
    first, in a word, then the task's form starts (the rule runs it next)."""

    def name(self) -> str:
        return "action_answer_aside"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        plan = followups.plan(latest_text(tracker), max_topics=1)
        current = (tracker.latest_message.get("intent") or {}).get("name")
        plan.tasks = [task for task in plan.tasks if task != current]
        return speak(dispatcher, tracker, domain, plan, current=current)
