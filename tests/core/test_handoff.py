"""Human handoff queue (bot/core/handoff.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core import handoff
from bot.core.handoff import HandoffError


def test_request_masks_first_text_and_waits(session, now):
    req = handoff.request(session, "tg-1", "human", "我要找人工，电话13812345678", now)
    assert (req.status, req.reason, req.agent) == ("waiting", "human", None)
    assert req.first_text == "我要找人工，电话138****5678"
    assert handoff.get_open(session, "tg-1").id == req.id


def test_request_is_idempotent_while_open(session, now):
    first = handoff.request(session, "tg-1", "fallback", "听不懂", now)
    again = handoff.request(session, "tg-1", "human", "人工", now + timedelta(minutes=1))
    assert again.id == first.id
    assert again.reason == "human" and again.first_text == "听不懂"


def test_crisis_upgrades_and_is_never_downgraded(session, now):
    req = handoff.request(session, "tg-1", "human", "人工", now)
    assert handoff.request(session, "tg-1", "crisis", "不想活了", now).reason == "crisis"
    assert handoff.request(session, "tg-1", "fallback", "?", now).reason == "crisis"
    assert req.priority == handoff.PRIORITY["crisis"]


def test_bad_reason(session, now):
    with pytest.raises(HandoffError) as excinfo:
        handoff.request(session, "tg-1", "bored", "", now)
    assert excinfo.value.code == "bad_reason"


def test_queue_orders_crisis_first_then_oldest(session, now):
    old_human = handoff.request(session, "tg-1", "human", "a", now)
    fallback = handoff.request(session, "tg-2", "fallback", "b", now + timedelta(minutes=1))
    crisis = handoff.request(session, "tg-3", "crisis", "c", now + timedelta(minutes=5))
    new_human = handoff.request(session, "tg-4", "human", "d", now + timedelta(minutes=6))
    assert [r.id for r in handoff.queue(session)] == [
        crisis.id,
        old_human.id,
        new_human.id,
        fallback.id,
    ]


def test_take_release_lifecycle(session, now):
    req = handoff.request(session, "tg-1", "human", "a", now)
    taken = handoff.take(session, req.id, "agent-a", now + timedelta(minutes=1))
    assert (taken.status, taken.agent, taken.taken_at) == (
        "active",
        "agent-a",
        now + timedelta(minutes=1),
    )
    assert handoff.queue(session) == []
    assert [r.id for r in handoff.queue(session, include_active=True)] == [req.id]
    assert handoff.take(session, req.id, "agent-a", now).status == "active"  # idempotent

    with pytest.raises(HandoffError) as excinfo:
        handoff.take(session, req.id, "agent-b", now)
    assert excinfo.value.code == "already_taken"
    with pytest.raises(HandoffError) as excinfo:
        handoff.release(session, req.id, "agent-b", now)
    assert excinfo.value.code == "not_owner"

    closed = handoff.release(session, req.id, "agent-a", now + timedelta(minutes=9))
    assert (closed.status, closed.closed_at) == ("closed", now + timedelta(minutes=9))
    assert handoff.get_open(session, "tg-1") is None
    with pytest.raises(HandoffError) as excinfo:
        handoff.take(session, req.id, "agent-a", now)
    assert excinfo.value.code == "closed"
    with pytest.raises(HandoffError) as excinfo:
        handoff.release(session, req.id, "agent-a", now)
    assert excinfo.value.code == "closed"


def test_new_request_after_close_opens_a_new_one(session, now):
    first = handoff.request(session, "tg-1", "human", "a", now)
    handoff.release(session, first.id, "agent-a", now)
    second = handoff.request(session, "tg-1", "human", "again", now + timedelta(hours=1))
    assert second.id != first.id and second.status == "waiting"


def test_supervisor_can_force_release_and_waiting_can_be_closed(session, now):
    req = handoff.request(session, "tg-1", "human", "a", now)
    handoff.take(session, req.id, "agent-a", now)
    assert handoff.release(session, req.id, "boss", now, force=True).status == "closed"
    waiting = handoff.request(session, "tg-2", "fallback", "b", now)
    assert handoff.release(session, waiting.id, "agent-c", now).agent == "agent-c"


def test_unknown_id(session, now):
    with pytest.raises(HandoffError) as excinfo:
        handoff.take(session, 12345, "agent-a", now)
    assert excinfo.value.code == "not_found"


def test_two_sessions_cannot_both_take(make_session, now):
    with make_session() as s:
        req_id = handoff.request(s, "tg-1", "human", "a", now).id
        s.commit()
    s1, s2 = make_session(), make_session()
    try:
        handoff.take(s1, req_id, "agent-a", now)
        s1.commit()
        with pytest.raises(HandoffError):
            handoff.take(s2, req_id, "agent-b", now)
    finally:
        s1.close()
        s2.close()


def test_racing_duplicate_request_resolved_by_unique_index(make_session, now, monkeypatch):
    """A request that did not see the other process's open request (the race window) hits the
    unique index, rolls back its savepoint and returns the existing request, upgraded."""
    with make_session() as s:
        existing = handoff.request(s, "tg-9", "human", "a", now)
        s.commit()
    real_get_open, calls = handoff.get_open, []

    def blind_first_time(s, sender_id):
        calls.append(sender_id)
        return None if len(calls) == 1 else real_get_open(s, sender_id)

    monkeypatch.setattr(handoff, "get_open", blind_first_time)
    with make_session() as s:
        again = handoff.request(s, "tg-9", "crisis", "b", now)
        s.commit()
        assert (again.id, again.reason) == (existing.id, "crisis")
        assert len(calls) == 2
        assert len(handoff.queue(s)) == 1


def test_crises_by_severity_then_newest_first(session, now):
    old_plain = handoff.request(session, "tg-1", "crisis", "心里难受", now)
    old_wish = handoff.request(session, "tg-2", "crisis", "不想活了", now + timedelta(minutes=1))
    new_wish = handoff.request(session, "tg-3", "crisis", "真不想活了", now + timedelta(minutes=9))
    plan = handoff.request(session, "tg-4", "crisis", "药都攒好了", now + timedelta(minutes=5))
    human = handoff.request(session, "tg-5", "human", "人工", now - timedelta(hours=5))
    assert [r.id for r in handoff.queue(session)] == [
        plan.id,
        new_wish.id,
        old_wish.id,
        old_plain.id,
        human.id,
    ]


def test_upgrade_to_crisis_shows_the_crisis_words(session, now):
    handoff.request(session, "tg-1", "human", "荣军卡怎么办", now)
    req = handoff.request(session, "tg-1", "crisis", "药都攒好了", now)
    assert req.first_text == "药都攒好了"


def test_close_stale_needs_a_reason_and_spares_crises_and_recent(session, now):
    old = handoff.request(session, "tg-1", "human", "a", now - timedelta(days=2))
    old_crisis = handoff.request(session, "tg-2", "crisis", "不想活了", now - timedelta(days=2))
    recent = handoff.request(session, "tg-3", "fallback", "c", now - timedelta(minutes=5))
    with pytest.raises(HandoffError):
        handoff.close_stale(session, now - timedelta(hours=12), " ", "sup", now)
    closed = handoff.close_stale(session, now - timedelta(hours=12), "测试遗留", "sup", now)
    assert [c.id for c in closed] == [old.id]
    assert (old.status, old.close_reason, old.agent) == ("closed", "测试遗留", "sup")
    assert {r.id for r in handoff.queue(session)} == {old_crisis.id, recent.id}
    assert handoff.get_open(session, "tg-1") is None


def test_presence_online_fresh_and_within_hours(session, now):
    from datetime import time

    from bot.core import presence

    assert presence.available(session, now) is False  # nobody online: promise nothing
    presence.set_status(session, "a1", presence.ONLINE, now)
    presence.set_status(session, "a2", presence.AWAY, now)
    assert presence.online_agents(session, now) == ["a1"]
    assert presence.online_agents(session, now + presence.FRESH + timedelta(seconds=1)) == []
    presence.seen(session, ["a1"], now + timedelta(minutes=10))
    assert presence.online_agents(session, now + timedelta(minutes=11)) == ["a1"]
    hours = ((time(9, 0), time(17, 0)),)
    assert presence.within_hours(now.replace(hour=10), hours)
    assert not presence.within_hours(now.replace(hour=20, minute=5), hours)
    with pytest.raises(ValueError):
        presence.set_status(session, "a1", "busy", now)
