"""A message delivered twice (same sender and message id) is stored and run once; the retry is
answered with the first delivery's replies (``bot/rasa_replay.py``).

Store level: two ``PrivateSQLTrackerStore`` objects on one database stand for two Rasa servers
(as in test_tracker_cache.py); the retry may reach the one whose memory is older. Stack level:
the real Rasa server and action server, the same message posted twice.
"""

from __future__ import annotations

import inspect
import json
import uuid

import aiohttp
import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sqlalchemy import create_engine, text

from bot import rasa_replay
from bot.core import inbound
from bot.rasa_stores import PrivateSQLTrackerStore
from tests.perf.test_tracker_cache import DOMAIN, stored


def user_turn(tracker, number: int, message_id: str) -> None:
    for event in (
        UserUttered(
            f"第{number}句",
            parse_data={"intent": {"name": "inform", "confidence": 1.0}},
            message_id=message_id,
        ),
        BotUttered(f"回答{number}", {"buttons": [{"title": "是", "payload": "/affirm"}]}),
        BotUttered(f"再答{number}"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)


def test_the_turn_after_a_message_id_ends_at_the_next_user_message():
    events = [
        {"event": "user", "message_id": "a", "text": "一"},
        {"event": "bot", "text": "答一"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "message_id": "b", "text": "二"},
        {"event": "bot", "text": "答二"},
    ]
    assert [e.get("text") for e in rasa_replay.turn_after(events, "a")] == ["答一", None]
    assert [e.get("text") for e in rasa_replay.turn_after(events, "b")] == ["答二"]
    assert rasa_replay.turn_after(events, "c") is None
    assert rasa_replay.turn_after(events[:1], "a") == []  # stored, no reply (paused): []


def test_only_short_plain_ids_are_taken():
    assert inbound.message_id("tg:123456789") == "tg:123456789"
    assert inbound.message_id(6012345678901234567) == "6012345678901234567"
    for bad in ("", "a b", "x" * 65, "你好", None, True, 1.5, {"id": 1}):
        assert inbound.message_id(bad) is None


async def test_a_retry_on_another_server_finds_the_stored_turn(tmp_path):
    db = str(tmp_path / "tracker.db")
    a = PrivateSQLTrackerStore(domain=DOMAIN, db=db)
    b = PrivateSQLTrackerStore(domain=DOMAIN, db=db)
    tracker = await b.get_or_create_tracker("u1")
    user_turn(tracker, 1, "wx:6012345678901234567")
    await b.save(tracker)  # b's memory now holds turn 1
    tracker = await a.retrieve("u1")
    user_turn(tracker, 2, "13812345678")  # an id that looks like a mobile is kept as it is
    await a.save(tracker)
    # a dies before answering; the retry of message 2 reaches b, whose memory is older
    turn = b.stored_turn("u1", "13812345678")
    assert [r["text"] for r in rasa_replay.replies(turn)] == ["回答2", "再答2"]
    assert rasa_replay.replies(turn)[0]["buttons"] == [{"title": "是", "payload": "/affirm"}]
    assert [r["text"] for r in rasa_replay.replies(b.stored_turn("u1", "wx:6012345678901234567"))]
    assert b.stored_turn("u1", "never-sent") is None
    assert [r["message_id"] for r in stored(a, "u1") if r["event"] == "user"] == [
        "wx:6012345678901234567",
        "13812345678",
    ]


async def test_a_turn_stored_by_a_server_that_died_before_logging_it_is_logged_on_retry(
    tmp_path,
):
    """Found by ``bench-load --cluster``: a server killed between storing a turn and writing it
    to the event log; the retry on the other server was answered from the store, and the log
    never got the turn."""
    from rasa.core.brokers.sql import SQLEventBroker

    db = str(tmp_path / "tracker.db")
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    dying = PrivateSQLTrackerStore(domain=DOMAIN, db=db, event_broker=broker)
    other = PrivateSQLTrackerStore(domain=DOMAIN, db=db, event_broker=broker)
    tracker = await dying.get_or_create_tracker("u1")
    user_turn(tracker, 1, "m1")
    await dying.save(tracker)
    dying.publish = lambda sender_id, masked: None  # stored, then killed before the log write
    tracker = await dying.retrieve("u1")
    user_turn(tracker, 2, "m2")
    await dying.save(tracker)

    def logged_texts() -> list:
        with broker.session_scope() as session:
            rows = session.query(broker.SQLBrokerEvent).order_by(broker.SQLBrokerEvent.id).all()
            return [json.loads(row.data).get("text") for row in rows]

    assert "第2句" not in logged_texts()
    assert other.stored_turn("u1", "m2") is not None  # the retry is answered from the store
    assert await other.log_turn_if_missing("u1", "m2") is True
    assert await other.log_turn_if_missing("u1", "m2") is False  # never twice
    assert await other.log_turn_if_missing("u1", "m1") is False  # logged when it was stored
    assert logged_texts() == [
        None,
        "第1句",
        "回答1",
        "再答1",
        None,
        "第2句",
        "回答2",
        "再答2",
        None,
    ]


def test_agent_handle_message_is_still_lock_then_processor():
    """``handle_once`` stands in for ``Agent.handle_message``: fail loudly if Rasa changes it."""
    source = inspect.getsource(Agent.handle_message)
    assert "async with self.lock_store.lock(message.sender_id):" in source
    assert "return await self.processor.handle_message(" in source
    assert source.count("await") == 1


async def post(session, url: str, sender: str, message: str, message_id: str) -> list[dict]:
    body = {"sender": sender, "message": message, "message_id": message_id}
    async with session.post(url, json=body) as resp:
        assert resp.status == 200
        return await resp.json()


def user_rows(stack_env, sender: str) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{stack_env['RJ_DATA_DIR']}/rasa_tracker.db")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    engine.dispose()
    return [(kind, json.loads(data).get("message_id")) for kind, data in rows]


@pytest.mark.stack
async def test_the_same_message_posted_twice_is_stored_and_run_once(stack, stack_env):
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook"
    sender = f"dup-{uuid.uuid4().hex[:10]}"
    async with aiohttp.ClientSession() as session:
        first = await post(session, url, sender, "你好", "m-1")
        booking = await post(session, url, sender, "我想预约报到", "m-2")
        after_first = user_rows(stack_env, sender)
        again = await post(session, url, sender, "我想预约报到", "m-2")
        assert user_rows(stack_env, sender) == after_first  # nothing stored, no action run
        assert again == booking and booking
        assert first != booking
        # a new id is a new message, although its text is the same
        await post(session, url, sender, "我想预约报到", "m-3")
    ids = [mid for kind, mid in user_rows(stack_env, sender) if kind == "user"]
    assert ids == ["m-1", "m-2", "m-3"]
