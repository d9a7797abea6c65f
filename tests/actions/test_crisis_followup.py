"""After a crisis: support per kind, a check question for a classifier-only guess, the normal flow
again only on a clear change of topic; the human alert never waits on the reply."""

from __future__ import annotations

import threading

from sqlalchemy import select

from actions import handoffs
from actions.safety import ActionCrisisFollowup, ActionHandleCrisis, support_response
from bot.core import handoff
from tests.actions.trackers import responses, run, slot_events, state, tracker

GATE_MIND = [{"entity": "crisis_kind", "value": "mind"}]
GATE_MEDICAL = [{"entity": "crisis_kind", "value": "medical"}]


def queued(session):
    return [(r.reason, r.status) for r in session.execute(select(handoff.HandoffRequest)).scalars()]


async def test_crisis_starts_the_support_stage_and_alerts_a_human_off_the_reply(domain, session):
    t = tracker("老伴晕倒了叫不醒", "crisis", {}, entities=GATE_MEDICAL)
    events, messages = await run(ActionHandleCrisis(), t, domain)
    await handoffs.settle()
    values = slot_events(events)
    assert values["crisis_stage"] == "support" and values["crisis_kind"] == "medical"
    assert messages == []  # utter_crisis came from the rule, before this action
    assert queued(session) == [("crisis", "waiting")]


async def test_the_reply_does_not_wait_for_a_slow_database(domain, session, monkeypatch):
    release = threading.Event()

    def slow_record(sender_id, reason, text):
        release.wait(10)  # a write lock held elsewhere
        return True

    monkeypatch.setattr(handoffs, "record", slow_record)
    t = tracker("我不想活了", "crisis", {}, entities=GATE_MIND)
    events, _ = await run(ActionHandleCrisis(), t, domain)
    assert slot_events(events)["crisis_stage"] == "support"  # returned while the write waits
    assert handoffs._pending  # the alert is still being written
    release.set()
    await handoffs.settle()
    assert not handoffs._pending


async def test_a_failing_alert_write_is_retried(domain, session, monkeypatch):
    calls = []
    real = handoffs.record

    def flaky(sender_id, reason, text):
        calls.append(reason)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return real(sender_id, reason, text)

    monkeypatch.setattr(handoffs, "record", flaky)
    monkeypatch.setattr(handoffs, "RETRY_PAUSE", 0)
    await run(ActionHandleCrisis(), tracker("救命", "crisis", {}, entities=GATE_MIND), domain)
    await handoffs.settle()
    assert calls == ["crisis", "crisis"] and queued(session) == [("crisis", "waiting")]


async def test_after_a_crisis_a_misread_message_gets_support_not_a_service(domain):
    slots = {"crisis_stage": "support", "crisis_kind": "mind", "crisis_turns": 0}
    t = tracker("就是心里难受，没人管", "check_wish", slots)
    events, messages = await run(ActionCrisisFollowup(), t, domain)
    assert responses(messages) == ["utter_crisis_support_mind_1"]
    assert slot_events(events) == {"crisis_turns": 1}


async def test_support_replies_change_from_turn_to_turn(domain):
    sent = []
    for turn in range(3):
        slots = {"crisis_stage": "support", "crisis_kind": "medical", "crisis_turns": turn}
        _, messages = await run(
            ActionCrisisFollowup(), tracker("他还有气 就是不说话", "inform", slots), domain
        )
        sent += responses(messages)
    assert len(set(sent)) == 3 and all("medical" in name for name in sent)


async def test_a_clear_topic_change_replays_the_message_for_the_normal_rules(domain):
    slots = {"crisis_stage": "support", "crisis_kind": "mind", "crisis_turns": 2}
    entities = [{"entity": "benefit", "value": "荣军卡"}]
    t = tracker("那我换个事问问，荣军卡在哪办", "ask_benefit", slots, entities=entities)
    events, messages = await run(ActionCrisisFollowup(), t, domain)
    assert messages == []
    assert slot_events(events)["crisis_stage"] is None
    assert [e["event"] for e in events][-2:] == ["action", "user"]
    assert events[-2]["name"] == "action_listen"
    replayed = events[-1]
    assert replayed["text"] == "那我换个事问问，荣军卡在哪办"
    assert replayed["parse_data"]["intent"]["name"] == "ask_benefit"
    assert replayed["metadata"]["replayed"] is True


async def test_a_classifier_only_crisis_mid_form_asks_first_and_alerts_nobody(domain, session):
    t = tracker(
        "怎么又问 刚才不是填了吗",
        "crisis",
        state("booking_started"),
        form="appointment_form",
        requested_slot="id_number",
    )
    events, messages = await run(ActionCrisisFollowup(), t, domain)
    await handoffs.settle()
    assert responses(messages) == ["utter_crisis_check_in_form"]
    values = slot_events(events)
    assert values["crisis_stage"] == "check" and values["crisis_paused_form"] == "appointment_form"
    assert "crisis_flag" not in values and queued(session) == []
    text = domain["responses"]["utter_crisis_check_in_form"][0]["text"]
    assert "人工" not in text and "12356" not in text


async def test_no_to_the_check_question_resumes_the_paused_form(domain, session):
    slots = {"crisis_stage": "check", "crisis_paused_form": "appointment_form"}
    events, messages = await run(ActionCrisisFollowup(), tracker("不是", "deny", slots), domain)
    assert responses(messages) == ["utter_crisis_check_resume"]
    assert events[-1] == {"event": "followup", "name": "appointment_form", "timestamp": None}
    assert slot_events(events)["crisis_stage"] is None and queued(session) == []


async def test_yes_to_the_check_question_escalates(domain, session):
    slots = {"crisis_stage": "check"}
    events, messages = await run(ActionCrisisFollowup(), tracker("是的", "affirm", slots), domain)
    await handoffs.settle()
    assert responses(messages) == ["utter_crisis"]
    assert slot_events(events)["crisis_stage"] == "support"
    assert queued(session) == [("crisis", "waiting")]


async def test_a_second_crisis_phrase_adds_support_instead_of_a_copy(domain):
    slots = {"crisis_stage": "support", "crisis_kind": "mind", "crisis_turns": 1}
    t = tracker("我还是不想活了", "crisis", slots, entities=GATE_MIND)
    events, messages = await run(ActionHandleCrisis(), t, domain)
    await handoffs.settle()
    assert responses(messages) == [support_response("mind", 1)]


def test_every_support_reply_gives_the_right_number_and_no_service_text(domain):
    for kind, number in (("mind", "12356"), ("medical", "120"), ("danger", "110")):
        texts = [domain["responses"][support_response(kind, turn)][0]["text"] for turn in range(3)]
        assert any(number in text for text in texts), kind
        for text in texts:
            assert "微心愿" not in text and "维权" not in text and "荣军" not in text


async def test_no_to_the_check_with_a_hinted_service_is_answered_as_that_service(domain):
    slots = {"crisis_stage": "check"}
    t = tracker("没事 就是报到的事太麻烦", "nlu_fallback", slots)
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.35},
        {"name": "ask_reporting_process", "confidence": 0.34},
        {"name": "deny", "confidence": 0.1},
    ]
    events, messages = await run(ActionCrisisFollowup(), t, domain)
    assert messages == [] and slot_events(events)["crisis_stage"] is None
    assert events[-1]["parse_data"]["intent"]["name"] == "ask_reporting_process"
