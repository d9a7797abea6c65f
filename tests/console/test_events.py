"""Event sources against the real things: Rasa's SQLEventBroker writing SQLite, and RabbitMQ."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from bot.console.config import ConsoleConfig
from bot.console.events import RabbitMQEventSource, SQLEventSource, make_event_source


def rasa_events(sender: str) -> list[dict]:
    """Events serialised by Rasa itself, plus sender_id — exactly what Rasa's brokers publish."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    user = UserUttered(
        "我要人工",
        intent={"name": "request_human", "confidence": 0.87},
        parse_data={
            "intent": {"name": "request_human", "confidence": 0.87},
            "entities": [],
            "intent_ranking": [{"name": "request_human", "confidence": 0.87}],
            "text": "我要人工",
        },
        input_channel="rest",
    )
    events = [
        user,
        ActionExecuted("action_handoff"),
        BotUttered("正在为您转接人工客服。", {"buttons": []}),
    ]
    return [{"sender_id": sender, **e.as_dict()} for e in events]


def sql_broker(path):
    from rasa.core.brokers.sql import SQLEventBroker

    return SQLEventBroker(dialect="sqlite", db=str(path))


async def test_sql_source_reads_what_rasas_sql_broker_writes(tmp_path):
    path = tmp_path / "rasa_events.db"
    broker = sql_broker(path)
    for event in rasa_events("web-old"):
        broker.publish(event)
    source = SQLEventSource(f"sqlite:///{path}", poll_interval=0.02, replay=2)
    got = []

    async def handler(event, live):
        got.append((event, live))

    assert await source.poll_once(handler) == 2  # only the last `replay` events of history
    assert [live for _, live in got] == [False, False]
    for event in rasa_events("tg-42"):
        broker.publish(event)
    assert await source.poll_once(handler) == 3
    user = got[2][0]
    assert got[2][1] is True
    assert user["sender_id"] == "tg-42" and user["event"] == "user" and user["text"] == "我要人工"
    assert user["parse_data"]["intent"] == {"name": "request_human", "confidence": 0.87}
    assert got[4][0]["event"] == "bot" and got[4][0]["text"] == "正在为您转接人工客服。"
    assert await source.poll_once(handler) == 0


async def test_sql_source_waits_for_rasa_to_create_the_database(tmp_path):
    path = tmp_path / "later.db"
    source = SQLEventSource(f"sqlite:///{path}", poll_interval=0.02)

    async def handler(event, live):
        raise AssertionError("no events expected")

    assert await source.poll_once(handler) == 0
    assert not path.exists()  # we never create Rasa's file
    broker = sql_broker(path)
    assert await source.poll_once(handler) == 0  # empty table: nothing, no error
    got = []

    async def keep(event, live):
        got.append(event)

    for event in rasa_events("web-1"):
        broker.publish(event)
    assert await source.poll_once(keep) == 3 and got[0]["sender_id"] == "web-1"


async def test_sql_source_survives_a_bad_row_and_a_failing_handler(tmp_path):
    path = tmp_path / "events.db"
    broker = sql_broker(path)
    with broker.session_scope() as session:
        session.add(broker.SQLBrokerEvent(sender_id="x", data="{not json"))
        session.commit()
    for event in rasa_events("web-2"):
        broker.publish(event)
    source = SQLEventSource(f"sqlite:///{path}", poll_interval=0.02, replay=0)
    seen = []

    async def handler(event, live):
        seen.append(event["event"])
        if event["event"] == "user":
            raise RuntimeError("boom")

    # replay=0 → start after the existing rows; publish more and run the loop
    task = asyncio.create_task(source.run(handler))
    await asyncio.sleep(0.1)
    with broker.session_scope() as session:
        session.add(broker.SQLBrokerEvent(sender_id="x", data="[1, 2]"))
        session.commit()
    for event in rasa_events("web-3"):
        broker.publish(event)
    for _ in range(100):
        if len(seen) >= 3:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    assert seen == ["user", "action", "bot"]


def test_factory_picks_the_configured_source(tmp_path):
    assert isinstance(
        make_event_source(ConsoleConfig(event_broker="sql", events_db_url="sqlite://")),
        SQLEventSource,
    )
    rabbit = make_event_source(ConsoleConfig(event_broker="rabbitmq", rabbitmq_queue="q1"))
    assert isinstance(rabbit, RabbitMQEventSource) and rabbit.queue == "q1"
    assert make_event_source(ConsoleConfig(event_broker="none")) is None


def rabbit_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not rabbit_up(), reason="RabbitMQ not running on 127.0.0.1:5672")
async def test_rabbitmq_source_receives_what_rasas_pika_broker_publishes():
    import aio_pika
    from rasa.core.brokers.pika import PikaEventBroker

    queue = f"rj_console_test_{uuid.uuid4().hex[:8]}"
    exchange = f"rj-test-exchange-{uuid.uuid4().hex[:8]}"
    broker = PikaEventBroker(
        "127.0.0.1",
        "guest",
        "guest",
        queues=[queue],
        exchange_name=exchange,
        event_loop=asyncio.get_running_loop(),
        connection_attempts=2,
        retry_delay_in_seconds=1,
    )
    await broker.connect()
    source = RabbitMQEventSource("amqp://guest:guest@127.0.0.1:5672/", queue, retry_delay=0.5)
    got = []

    async def handler(event, live):
        got.append((event, live))

    task = asyncio.create_task(source.run(handler))
    try:
        await asyncio.wait_for(source.connected.wait(), 10)
        for event in rasa_events("tg-777"):
            broker.publish(event)
        for _ in range(200):
            if len(got) >= 3:
                break
            await asyncio.sleep(0.05)
        assert [e["event"] for e, _ in got] == ["user", "action", "bot"]
        user, live = got[0]
        assert live is True and user["sender_id"] == "tg-777"
        assert user["parse_data"]["intent"]["confidence"] == 0.87
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await broker.close()
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)
