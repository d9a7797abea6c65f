"""Appointment reminders from the outbox reach Telegram exactly once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bot.channels.telegram.outbox_delivery import OutboxDelivery
from bot.core import outbox
from bot.core.db import Base, make_engine, session_scope

pytestmark = pytest.mark.asyncio
NOW = datetime(2025, 3, 10, 18, 0)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _enqueue(engine, recipient, text, due_at, key=None):
    with session_scope(engine) as s:
        return outbox.enqueue(
            s,
            recipient,
            text,
            due_at=due_at,
            kind="reminder",
            dedupe_key=key,
            now=NOW - timedelta(days=1),
        ).id


def _row(engine, message_id):
    with session_scope(engine) as s:
        row = s.get(outbox.OutboxMessage, message_id)
        return row.status, row.attempts, row.last_error


async def test_due_reminders_delivered_exactly_once(gateway_factory, fake_api, fake_rasa, engine):
    clock = [NOW]
    due = _enqueue(
        engine,
        "tg-8001",
        "提醒：您明天上午9:00在市南区服务中心（示例）报到。",
        NOW - timedelta(minutes=1),
        "appt-1",
    )
    due2 = _enqueue(engine, "tg-8001", "提醒：请携带身份证。", NOW, "appt-2")
    web = _enqueue(engine, "web-abc", "给网页用户", NOW - timedelta(hours=1))
    later = _enqueue(engine, "tg-8002", "明天的提醒", NOW + timedelta(hours=1))
    harness = await gateway_factory(
        fake_rasa.url,
        outbox_interval=0.05,
        gateway_kwargs={"outbox_engine": engine, "outbox_now": lambda: clock[0]},
    )
    texts = await harness.replies(8001, 2)
    await asyncio.sleep(0.3)  # several more loop rounds: nothing is sent twice
    assert (
        fake_api.texts_to(8001)
        == texts
        == ["提醒：您明天上午9:00在市南区服务中心（示例）报到。", "提醒：请携带身份证。"]
    )
    assert _row(engine, due)[0] == outbox.SENT and _row(engine, due2)[0] == outbox.SENT
    assert _row(engine, web)[0] == outbox.PENDING  # not ours: the web chat delivers it
    assert fake_api.texts_to(8002) == []
    clock[0] = NOW + timedelta(hours=1)
    assert await harness.replies(8002, 1) == ["明天的提醒"]
    await asyncio.sleep(0.2)
    assert fake_api.texts_to(8002) == ["明天的提醒"]
    assert _row(engine, later)[0] == outbox.SENT


async def test_failed_send_is_marked_and_retried_by_outbox_backoff(
    gateway_factory, fake_api, fake_rasa, engine
):
    clock = [NOW]
    message_id = _enqueue(engine, "tg-8003", "提醒", NOW)
    fake_api.fail_chats[8003] = (400, "Bad Request: chat not found")
    await gateway_factory(
        fake_rasa.url,
        outbox_interval=0.05,
        gateway_kwargs={"outbox_engine": engine, "outbox_now": lambda: clock[0]},
    )
    await fake_api.wait_for("sendMessage", 1, chat_id=8003)
    await asyncio.sleep(0.3)
    assert len(fake_api.calls_of("sendMessage", 8003)) == 1  # not hammered: backoff is 1 minute
    status, attempts, error = _row(engine, message_id)
    assert (status, attempts) == (outbox.PENDING, 1) and "chat not found" in error.lower()
    del fake_api.fail_chats[8003]
    clock[0] = NOW + timedelta(minutes=2)
    await fake_api.wait_for("sendMessage", 2, chat_id=8003)
    await asyncio.sleep(0.2)
    assert len(fake_api.calls_of("sendMessage", 8003)) == 2
    assert _row(engine, message_id)[0] == outbox.SENT


async def test_bad_recipient_is_marked_failed(gateway, fake_api, engine):
    message_id = _enqueue(engine, "tg-notanumber", "x", NOW)
    delivery = OutboxDelivery(gateway.gateway.renderer, engine=engine, now=lambda: NOW)
    assert await delivery.deliver_due() == (0, 1)
    assert _row(engine, message_id)[1] == 1


async def test_two_senders_never_send_the_same_reminder(gateway, fake_api, engine):
    ids = [_enqueue(engine, f"tg-{8100 + i}", f"提醒{i}", NOW) for i in range(30)]
    renderer = gateway.gateway.renderer
    senders = [OutboxDelivery(renderer, engine=engine, now=lambda: NOW, batch=7) for _ in range(3)]

    async def drain(delivery):
        total = 0
        while True:
            sent, failed = await delivery.deliver_due()
            total += sent
            if sent + failed == 0:
                return total

    totals = await asyncio.gather(*(drain(d) for d in senders))
    assert sum(totals) == 30
    sent_to = [c.params["chat_id"] for c in fake_api.calls_of("sendMessage")]
    assert sorted(sent_to) == [8100 + i for i in range(30)]
    assert all(_row(engine, i)[0] == outbox.SENT for i in ids)
