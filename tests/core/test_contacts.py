"""Per-user push window (bot/core/contacts.py) and undeliverable outbox rows."""

from __future__ import annotations

from datetime import timedelta

from bot.core import contacts, outbox

WINDOW = timedelta(hours=47, minutes=50)


def test_never_seen_user_is_not_reachable(session, now):
    assert contacts.reachability(session, "wx-a", now, WINDOW).reason == "never_seen"


def test_window_opens_on_each_message_and_closes_after_it(session, now):
    contacts.record_inbound(session, "wx-a", now - timedelta(hours=50))
    assert contacts.reachability(session, "wx-a", now, WINDOW).reason == "outside_window"
    contacts.record_inbound(session, "wx-a", now - timedelta(hours=1))
    state = contacts.reachability(session, "wx-a", now, WINDOW)
    assert state.reachable and state.last_inbound_at == now - timedelta(hours=1)


def test_unfollow_stops_pushes_until_the_user_follows_again(session, now):
    contacts.record_inbound(session, "wx-a", now - timedelta(minutes=5))
    contacts.record_unsubscribed(session, "wx-a", now)
    assert contacts.reachability(session, "wx-a", now, WINDOW).reason == "unsubscribed"
    contacts.record_inbound(session, "wx-a", now + timedelta(minutes=1))
    assert contacts.reachability(session, "wx-a", now + timedelta(minutes=2), WINDOW).reachable


def test_undeliverable_rows_are_listed_for_the_console(session, now):
    kept = outbox.enqueue(session, "wx-a", "提醒一", due_at=now, now=now)
    retried = outbox.enqueue(session, "wx-a", "提醒二", due_at=now, now=now)
    other = outbox.enqueue(session, "wx-b", "提醒三", due_at=now, now=now)
    outbox.mark_undeliverable(session, kept.id, "outside_window", now)
    outbox.mark_failed(session, retried.id, "network", now)
    outbox.mark_undeliverable(session, other.id, "unsubscribed", now)
    rows = contacts.undeliverable_for(session, "wx-a")
    assert [r.text for r in rows] == ["提醒一"]
    assert rows[0].status == outbox.FAILED and rows[0].last_error.endswith("outside_window")
    assert retried.status == outbox.PENDING
