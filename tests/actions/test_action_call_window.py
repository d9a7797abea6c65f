"""The action server gets a long conversation's last turns only (bot.rasa_action_calls.window).

Every action reads the same thing from the windowed conversation as from the whole one: the
slots, the topic just discussed, repeated misunderstandings, the user's script, the bot's last
messages, a handoff's question and what the latest message changed. Conversations are grown at
random (questions, form answers, corrections, fallbacks, Traditional text, slot resets) and each
reader is compared after every turn from the 15th on.
"""

from __future__ import annotations

import json
import random

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    AllSlotsReset,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

from actions import fallback, followups, forms_common, handoffs, repeats, replies
from bot import rasa_action_calls

SLOTS = ("veteran_category", "district", "answer_topic", "answer_key", "requested_slot")
DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "slots": {
            name: {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]}
            for name in SLOTS
        },
    }
)
TEXTS = [
    "荣军卡咋办",
    "還有什麼優待",
    "转人工",
    "那个那个",
    "好的",
    "/affirm",
    "13812345678",
    "不对 俺是复员军人",
]
INTENTS = ["ask_benefit", "inform", "nlu_fallback", "affirm", "request_human", "ask_contact"]


def grow(rng: random.Random, tracker: DialogueStateTracker) -> None:
    """One more turn: a user message, the extraction's slot events, the bot's replies."""
    tracker.update(
        UserUttered(
            rng.choice(TEXTS),
            {"name": rng.choice(INTENTS), "confidence": rng.random()},
            [],
            message_id=f"m{len(tracker.events)}",
        )
    )
    for _ in range(rng.randint(0, 3)):
        slot = rng.choice(SLOTS)
        value = rng.choice(
            [None, "退役士兵", "复员军人", "城阳区", "contact", "k1,k2", "id_number"]
        )
        tracker.update(SlotSet(slot, value))
    if rng.random() < 0.03:
        tracker.update(AllSlotsReset())
    tracker.update(ActionExecuted(rng.choice(["action_answer_question", "appointment_form"])))
    for _ in range(rng.randint(0, 2)):
        tracker.update(BotUttered(rng.choice(["好的", "请输入身份证号码", "要转人工吗？"])))
    tracker.update(ActionExecuted("action_listen"))


def sdk_tracker(tracker: DialogueStateTracker, events: list) -> Tracker:
    state = tracker.current_state()
    state["events"] = json.loads(json.dumps([event.as_dict() for event in events]))
    return Tracker.from_dict(state)


def latest_user(events: list) -> UserUttered:
    return next(event for event in reversed(events) if isinstance(event, UserUttered))


def readers(tracker: Tracker) -> dict:
    return {
        "topic": followups.recent_context(tracker),
        "bot": followups.last_bot_texts(tracker),
        "last bot": followups.last_bot_text(tracker),
        "misses": fallback.consecutive_fallbacks(tracker),
        "complained before": repeats._said_just_before(tracker, "nlu_fallback"),
        "script": replies.user_script(tracker),
        "question": handoffs.question_of(tracker),
        "changed": forms_common.changed_by_latest_message(tracker, SLOTS),
        "to validate": tracker.slots_to_validate(),
        "slots": tracker.current_slot_values(),
        "latest": tracker.latest_message,
    }


def test_actions_read_the_same_from_the_last_turns_as_from_the_whole_conversation():
    rng = random.Random(3)
    left_out = 0
    for _ in range(12):
        tracker = DialogueStateTracker.from_events(
            "u1", [ActionExecuted("action_session_start"), SessionStarted()], slots=DOMAIN.slots
        )
        tracker.update(ActionExecuted("action_listen"))
        for turn in range(45):
            grow(rng, tracker)
            if turn < 15:
                continue
            events = list(tracker.events)
            sent, current = rasa_action_calls.window(events)
            left_out += len(events) > len(sent)
            assert readers(sdk_tracker(tracker, sent)) == readers(sdk_tracker(tracker, events))
            assert sent[current] is latest_user(events)
    assert left_out > 200  # the window did cut most of these conversations


def test_short_conversations_are_sent_whole_and_the_current_turn_found():
    tracker = DialogueStateTracker.from_events("u2", [SessionStarted()], slots=DOMAIN.slots)
    rng = random.Random(4)
    for _ in range(rasa_action_calls.WINDOW_TURNS):
        grow(rng, tracker)
    events = list(tracker.events)
    sent, current = rasa_action_calls.window(events)
    assert sent == events
    last_user = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
    assert current == last_user
    grow(rng, tracker)
    events = list(tracker.events)
    sent, current = rasa_action_calls.window(events)
    assert len(sent) < len(events) and sent[current] is latest_user(events)
    replayed = DialogueStateTracker.from_events("u2", sent, slots=DOMAIN.slots)
    assert replayed.current_slot_values() == tracker.current_slot_values()


def test_a_slot_set_long_before_the_window_is_still_seen_as_changed():
    tracker = DialogueStateTracker.from_events("u3", [SessionStarted()], slots=DOMAIN.slots)
    tracker.update(UserUttered("我是退役士兵", {"name": "inform", "confidence": 1.0}))
    tracker.update(SlotSet("veteran_category", "退役士兵"))
    tracker.update(ActionExecuted("action_listen"))
    for number in range(rasa_action_calls.WINDOW_TURNS + 5):
        tracker.update(UserUttered(f"问题{number}", {"name": "ask_contact", "confidence": 1.0}))
        tracker.update(BotUttered(f"回答{number}"))
        tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("不对 俺是复员军人", {"name": "inform", "confidence": 1.0}))
    tracker.update(SlotSet("veteran_category", "复员军人"))
    events = list(tracker.events)
    sent, _ = rasa_action_calls.window(events)
    assert len(sent) < len(events) - 15 and sent[1].key == "veteran_category"
    windowed = sdk_tracker(tracker, sent)
    assert forms_common.changed_by_latest_message(windowed, SLOTS) == {"veteran_category"}
    assert readers(windowed) == readers(sdk_tracker(tracker, events))
