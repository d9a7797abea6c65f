"""Outbox: enqueue, atomic claims, retries (bot/core/outbox.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.core import outbox


def test_enqueue_and_claim_due_only(session, now):
    outbox.enqueue(session, "tg-1", "due", due_at=now - timedelta(minutes=1), now=now)
    outbox.enqueue(session, "tg-1", "later", due_at=now + timedelta(hours=1), now=now)
    claimed = outbox.claim_due(session, "tg-", now)
    assert [m.text for m in claimed] == ["due"]
    assert claimed[0].claim_token and claimed[0].claimed_at == now


def test_claim_filters_by_prefix_literally(session, now):
    outbox.enqueue(session, "tg-1", "telegram", due_at=now, now=now)
    outbox.enqueue(session, "web-1", "web", due_at=now, now=now)
    outbox.enqueue(session, "tgx1", "not telegram", due_at=now, now=now)
    assert [m.text for m in outbox.claim_due(session, "web-", now)] == ["web"]
    assert [m.text for m in outbox.claim_due(session, "tg-", now)] == ["telegram"]
    assert outbox.claim_due(session, "tg_", now) == []  # '_' is not a LIKE wildcard here


def test_message_is_handed_out_once(session, now):
    outbox.enqueue(session, "tg-1", "hello", due_at=now, now=now)
    assert len(outbox.claim_due(session, "tg-", now)) == 1
    assert outbox.claim_due(session, "tg-", now + timedelta(minutes=1)) == []


def test_expired_lease_is_handed_out_again(session, now):
    outbox.enqueue(session, "tg-1", "hello", due_at=now, now=now)
    outbox.claim_due(session, "tg-", now)
    assert len(outbox.claim_due(session, "tg-", now + outbox.LEASE + timedelta(seconds=1))) == 1


def test_limit_and_order(session, now):
    for minutes in (3, 1, 2):
        outbox.enqueue(
            session, "tg-1", f"m{minutes}", due_at=now - timedelta(minutes=minutes), now=now
        )
    assert [m.text for m in outbox.claim_due(session, "tg-", now, limit=2)] == ["m3", "m2"]
    assert [m.text for m in outbox.claim_due(session, "tg-", now)] == ["m1"]


def test_dedupe_key_returns_existing(session, now):
    first = outbox.enqueue(
        session, "tg-1", "a", due_at=now, kind="reminder", dedupe_key="k1", now=now
    )
    second = outbox.enqueue(
        session, "tg-1", "b", due_at=now, kind="reminder", dedupe_key="k1", now=now
    )
    assert first.id == second.id and second.text == "a"
    assert len(outbox.claim_due(session, "tg-", now)) == 1


def test_upsert_replaces_and_rearms(session, now):
    message = outbox.enqueue(session, "tg-1", "old", due_at=now, dedupe_key="k", now=now)
    outbox.mark_sent(session, message.id, now)
    later = now + timedelta(days=1)
    updated = outbox.upsert(
        session, "tg-1", "new", due_at=later, kind="reminder", dedupe_key="k", now=now
    )
    assert updated.id == message.id
    assert (updated.text, updated.status, updated.due_at, updated.sent_at) == (
        "new",
        "pending",
        later,
        None,
    )
    assert outbox.claim_due(session, "tg-", now) == []
    assert [m.text for m in outbox.claim_due(session, "tg-", later)] == ["new"]


def test_cancel_only_pending(session, now):
    outbox.enqueue(session, "tg-1", "x", due_at=now, dedupe_key="c", now=now)
    assert outbox.cancel(session, "c") is True
    assert outbox.cancel(session, "c") is False
    assert outbox.claim_due(session, "tg-", now) == []
    assert outbox.cancel(session, "missing") is False


def test_mark_sent(session, now):
    message = outbox.enqueue(session, "tg-1", "x", due_at=now, now=now)
    outbox.claim_due(session, "tg-", now)
    sent = outbox.mark_sent(session, message.id, now)
    assert (sent.status, sent.sent_at, sent.claim_token) == ("sent", now, None)
    assert outbox.claim_due(session, "tg-", now + timedelta(hours=1)) == []


def test_mark_failed_backs_off_then_gives_up(session, now):
    message = outbox.enqueue(session, "tg-1", "x", due_at=now, now=now)
    moment = now
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        [claimed] = outbox.claim_due(session, "tg-", moment)
        failed = outbox.mark_failed(session, claimed.id, "timeout 13812345678", moment)
        assert failed.status == "pending" and failed.attempts == attempt
        assert failed.next_attempt_at == moment + outbox.backoff(attempt)
        assert "13812345678" not in failed.last_error  # errors are masked
        assert (
            outbox.claim_due(
                session, "tg-", moment + outbox.backoff(attempt) - timedelta(seconds=1)
            )
            == []
        )
        moment = failed.next_attempt_at
    [claimed] = outbox.claim_due(session, "tg-", moment)
    final = outbox.mark_failed(session, claimed.id, "still down", moment)
    assert (final.status, final.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert outbox.claim_due(session, "tg-", moment + timedelta(days=2)) == []
    assert message.id == final.id


def test_backoff_schedule():
    assert [outbox.backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=25),
    ]
    assert outbox.backoff(10) == outbox.BACKOFF_CAP


def test_mark_unknown_id_raises(session, now):
    with pytest.raises(KeyError):
        outbox.mark_sent(session, 999, now)


def test_concurrent_claimers_never_share_a_message(make_session, now):
    """Eight workers, each with its own session/transaction, claim 200 messages in batches."""
    with make_session() as s:
        for i in range(200):
            outbox.enqueue(s, f"tg-{i}", f"m{i}", due_at=now, now=now)
        s.commit()
    got: list = []
    lock = threading.Lock()
    errors: list = []

    def worker():
        try:
            while True:
                with make_session() as s:
                    batch = [m.id for m in outbox.claim_due(s, "tg-", now, limit=7)]
                    s.commit()
                if not batch:
                    return
                with lock:
                    got.extend(batch)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(got) == 200 and len(set(got)) == 200
