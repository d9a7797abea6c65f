"""Crisis stops a form and forgets its personal data; a new session keeps only harmless facts."""

from sqlalchemy import select

from actions.handoffs import settle
from actions.safety import ActionHandleCrisis, ActionRequestHuman
from actions.session import ActionSessionStart
from bot.core import handoff
from tests.actions.trackers import responses, run, slot_events, state, tracker


async def test_crisis_mid_form_stops_it_clears_pii_and_queues_a_human_first(domain, session):
    slots = state("booking_ready")
    t = tracker(
        "我真的不想活了",
        "crisis",
        slots,
        form="appointment_form",
        requested_slot="appointment_confirmed",
    )
    events, _ = await run(ActionHandleCrisis(), t, domain)
    await settle()  # the alert is written off the reply path
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    cleared = slot_events(events)
    assert cleared["crisis_flag"] is True
    assert (
        cleared["person_name"] is None
        and cleared["mobile"] is None
        and cleared["id_number"] is None
    )
    queued = session.execute(select(handoff.HandoffRequest)).scalars().all()
    assert [(r.sender_id, r.reason, r.status) for r in queued] == [
        (t.sender_id, "crisis", "waiting")
    ]


async def test_asking_twice_for_a_human_queues_once(domain, session):
    from bot.core import clock, presence

    presence.set_status(session, "agent1", presence.ONLINE, clock.now())
    session.commit()
    first, first_messages = await run(
        ActionRequestHuman(), tracker("我要人工", "request_human", {}), domain
    )
    _, second_messages = await run(
        ActionRequestHuman(), tracker("转人工", "request_human", {}), domain
    )
    assert responses(first_messages) == ["utter_handoff_requested"]
    assert responses(second_messages) == ["utter_handoff_already"]
    assert len(session.execute(select(handoff.HandoffRequest)).scalars().all()) == 1


async def test_no_agent_online_says_so_honestly_and_keeps_the_request(domain, session):
    _, messages = await run(ActionRequestHuman(), tracker("我要人工", "request_human", {}), domain)
    assert responses(messages) == ["utter_handoff_offline"]
    text = domain["responses"]["utter_handoff_offline"][0]["text"]
    assert "12345" in text and "12356" in text and "几分钟" not in text
    kept = session.execute(select(handoff.HandoffRequest)).scalars().all()
    assert [r.status for r in kept] == ["waiting"]


async def test_the_queue_shows_the_question_not_the_trigger(domain, session):
    t = tracker("/request_human", "request_human", {}, history=["荣军卡坐公交要带啥证件"])
    await run(ActionRequestHuman(), t, domain)
    t2 = tracker("转人工吧，我想问问俺娘的优待金", "request_human", {}, sender="tg-other")
    await run(ActionRequestHuman(), t2, domain)
    stored = {
        r.sender_id: r.first_text
        for r in session.execute(select(handoff.HandoffRequest)).scalars().all()
    }
    assert stored[t.sender_id] == "荣军卡坐公交要带啥证件"
    assert stored["tg-other"] == "我想问问俺娘的优待金"


async def test_new_session_keeps_category_and_district_but_not_personal_data(domain):
    slots = state("booking_ready")
    events, _ = await run(ActionSessionStart(), tracker("你好", "greet", slots), domain)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    carried = slot_events(events)
    assert carried == {"veteran_category": "退役士兵", "district": "市南区"}
