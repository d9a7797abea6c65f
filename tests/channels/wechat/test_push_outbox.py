"""Pushes from the inside: /push (console, action server) and outbox reminders, within WeChat's
48-hour window; outside it the outbox row is closed with a reason the console shows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core import contacts, outbox
from bot.core.db import session_scope
from bot.core.outbox_delivery import OutboxDelivery

USER = "oUSER_push_0001"
NOW = datetime(2026, 12, 1, 10, 0)
REMINDER = "【预约提醒】您明天上午 9:00 在市南区退役军人服务中心报到。"


@pytest.fixture
async def gateway(gateway_factory, fake_rasa):
    """The gateway on this module's clock (NOW), for both its push window and its outbox."""
    return await gateway_factory(fake_rasa.url, gateway_kwargs={"now": lambda: NOW})


def _seen(engine, openid: str, at: datetime) -> None:
    with session_scope(engine) as session:
        contacts.record_inbound(session, f"wx-{openid}", at)


def _enqueue(engine, recipient: str, text: str) -> int:
    with session_scope(engine) as session:
        return outbox.enqueue(
            session, recipient, text, due_at=NOW - timedelta(minutes=1), kind="reminder", now=NOW
        ).id


def _row(engine, message_id: int):
    with session_scope(engine) as session:
        row = session.execute(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.id == message_id)
        ).scalar_one()
        return row.status, row.attempts, row.last_error


async def test_push_needs_the_token_and_a_wechat_recipient(gateway, fake_api):
    assert (await gateway.push({"recipient": f"wx-{USER}", "text": "x"}, token="bad"))[0] == 401
    assert (await gateway.push({"recipient": f"wx-{USER}", "text": "x"}, token=None))[0] == 401
    status, body = await gateway.push({"recipient": "tg-123", "text": "x"})
    assert status == 400 and "wx-" in body["error"]
    status, _ = await gateway.push({"recipient": f"wx-{USER}", "text": "  "})
    assert status == 400
    assert fake_api.sent == []


async def test_agent_reply_within_the_window_is_sent_as_customer_service_message(gateway, fake_api):
    await gateway.platform.text(USER, "转人工")  # the user wrote (at NOW): the window is open
    status, body = await gateway.push(
        {
            "recipient": f"wx-{USER}",
            "text": "您好，我是坐席小王，请问需要什么帮助？",
            "buttons": [{"title": "预约报到", "payload": "/book_appointment"}],
        }
    )
    assert (status, body) == (200, {"ok": True, "messages": 1})
    assert fake_api.texts_to(USER) == [
        "您好，我是坐席小王，请问需要什么帮助？\n\n请回复数字选择：\n1. 预约报到"
    ]


async def test_push_to_a_user_who_never_wrote_is_refused_without_calling_wechat(gateway, fake_api):
    status, body = await gateway.push({"recipient": "wx-oNEVER_seen_01", "text": "您好"})
    assert status == 409 and body == {"ok": False, "error": "never_seen", "retryable": False}
    assert fake_api.sent == [] and fake_api.token_requests == 0


async def test_push_outside_the_window_is_refused(gateway, fake_api, engine):
    _seen(engine, USER, NOW - timedelta(days=3))
    status, body = await gateway.push({"recipient": f"wx-{USER}", "text": "您好"})
    assert status == 409 and body["error"] == "outside_window"
    assert fake_api.sent == []


async def test_wechats_own_45015_counts_as_outside_the_window(gateway, fake_api):
    await gateway.platform.text(USER, "你好")
    fake_api.outside_window.add(USER)
    status, body = await gateway.push({"recipient": f"wx-{USER}", "text": "您好"})
    assert status == 409 and body["error"] == "outside_window"


async def _delivery(gateway, engine) -> OutboxDelivery:
    return OutboxDelivery(
        gateway.gateway._deliver_outbox, prefix="wx-", engine=engine, now=lambda: NOW
    )


async def test_reminder_inside_the_window_is_sent_once(gateway, fake_api, engine):
    _seen(engine, USER, NOW - timedelta(hours=5))
    message_id = _enqueue(engine, f"wx-{USER}", REMINDER)
    delivery = await _delivery(gateway, engine)
    assert await delivery.deliver_due() == (1, 0)
    assert await delivery.deliver_due() == (0, 0)
    assert fake_api.texts_to(USER) == [REMINDER]
    assert _row(engine, message_id)[0] == outbox.SENT


async def test_reminder_outside_the_window_is_marked_for_the_console(gateway, fake_api, engine):
    _seen(engine, USER, NOW - timedelta(hours=49))
    message_id = _enqueue(engine, f"wx-{USER}", "【预约提醒】明天报到")
    delivery = await _delivery(gateway, engine)
    assert await delivery.deliver_due() == (0, 1)
    status, attempts, error = _row(engine, message_id)
    assert status == outbox.FAILED and attempts == 1
    assert error == outbox.UNDELIVERABLE_PREFIX + "outside_window"
    assert fake_api.sent == []
    with session_scope(engine) as session:
        assert [m.id for m in contacts.undeliverable_for(session, f"wx-{USER}")] == [message_id]


async def test_reminder_refused_by_wechat_is_marked_too(gateway, fake_api, engine):
    _seen(engine, USER, NOW - timedelta(hours=1))
    fake_api.outside_window.add(USER)
    message_id = _enqueue(engine, f"wx-{USER}", "【预约提醒】明天报到")
    assert await (await _delivery(gateway, engine)).deliver_due() == (0, 1)
    assert _row(engine, message_id)[0] == outbox.FAILED


async def test_reminder_to_an_unfollowed_user_is_not_sent(gateway, fake_api, engine):
    _seen(engine, USER, NOW - timedelta(hours=1))
    with session_scope(engine) as session:
        contacts.record_unsubscribed(session, f"wx-{USER}", NOW - timedelta(minutes=5))
    message_id = _enqueue(engine, f"wx-{USER}", "【预约提醒】明天报到")
    assert await (await _delivery(gateway, engine)).deliver_due() == (0, 1)
    assert _row(engine, message_id)[2].endswith("unsubscribed")
    assert fake_api.sent == []


async def test_transient_wechat_errors_are_retried_with_the_outbox_backoff(
    gateway, fake_api, engine
):
    _seen(engine, USER, NOW - timedelta(hours=1))
    fake_api.errcode_once = [-1]  # system busy
    message_id = _enqueue(engine, f"wx-{USER}", "【预约提醒】明天报到")
    assert await (await _delivery(gateway, engine)).deliver_due() == (0, 1)
    status, attempts, _ = _row(engine, message_id)
    assert (status, attempts) == (outbox.PENDING, 1)


async def test_the_gateways_own_loop_delivers_reminders(
    gateway_factory, fake_rasa, fake_api, engine
):
    harness = await gateway_factory(
        fake_rasa.url, outbox_interval=0.05, gateway_kwargs={"now": lambda: NOW}
    )
    _seen(engine, USER, NOW - timedelta(hours=1))
    message_id = _enqueue(engine, f"wx-{USER}", "【预约提醒】明天报到")
    assert await fake_api.wait_for(1, USER) == ["【预约提醒】明天报到"]
    assert harness.gateway.outbox.prefix == "wx-"
    for _ in range(20):
        if _row(engine, message_id)[0] == outbox.SENT:
            break
        await asyncio.sleep(0.05)
    assert _row(engine, message_id)[0] == outbox.SENT


async def test_a_push_right_after_the_first_message_waits_for_its_recording(engine, monkeypatch):
    """The gateway records a message in a task it starts as it answers; a push that comes
    while that write is still running must see it, not refuse the user as never seen."""
    import threading

    from bot.channels.wechat.contact_window import ContactWindow

    window = ContactWindow(engine=engine, now=lambda: NOW)
    writing, release = threading.Event(), threading.Event()
    original = contacts.record_inbound

    def slow_record(session, sender, now):
        writing.set()
        release.wait(5)
        original(session, sender, now)

    monkeypatch.setattr(contacts, "record_inbound", slow_record)
    recording = asyncio.create_task(window.seen(USER))
    while not writing.is_set():
        await asyncio.sleep(0.01)
    checking = asyncio.create_task(window.closed_reason(USER))
    await asyncio.sleep(0.1)
    release.set()
    assert await checking is None
    await recording
