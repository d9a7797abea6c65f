"""PrivateSQLTrackerStore's session cache: exact with several Rasa servers on one database.

Two store objects on one database stand for two Rasa servers; a conversation moves between
them (as when one server dies). Nothing may be lost, duplicated or reordered, and a warm
server reads only the rows it has not seen.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot import rasa_stores
from bot.rasa_stores import PrivateSQLTrackerStore

DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "slots": {
            name: {
                "type": "text",
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            }
            for name in ("person_name", "mobile", "district")
        },
    }
)


def turn(tracker, number: int) -> None:
    for event in (
        UserUttered(f"第{number}句", parse_data={"intent": {"name": "inform", "confidence": 1.0}}),
        SlotSet("district", f"区{number}"),
        BotUttered(f"回答{number}"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)


def two_servers(tmp_path) -> tuple[PrivateSQLTrackerStore, PrivateSQLTrackerStore]:
    """Two stores on one database, as two Rasa servers."""
    db = str(tmp_path / "tracker.db")
    return PrivateSQLTrackerStore(domain=DOMAIN, db=db), PrivateSQLTrackerStore(
        domain=DOMAIN, db=db
    )


def stored(store, sender: str) -> list[dict]:
    with store.session_scope() as session:
        rows = (
            session.query(store.SQLEvent)
            .filter_by(sender_id=sender)
            .order_by(store.SQLEvent.id)
            .all()
        )
        return [json.loads(row.data) for row in rows]


async def test_conversation_moves_between_servers_without_loss_or_duplicates(tmp_path):
    a, b = two_servers(tmp_path)
    tracker = await a.get_or_create_tracker("u1")
    turn(tracker, 1)
    await a.save(tracker)
    # server a dies: the user's next turns go to b, which has never seen the conversation
    tracker = await b.retrieve("u1")
    turn(tracker, 2)
    await b.save(tracker)
    turn(tracker, 3)
    await b.save(tracker)
    # and back to a, whose memory still holds turn 1 only
    tracker = await a.retrieve("u1")
    assert tracker.get_slot("district") == "区3"
    turn(tracker, 4)
    await a.save(tracker)
    rows = stored(a, "u1")
    texts = [row["text"] for row in rows if row["event"] == "user"]
    assert texts == ["第1句", "第2句", "第3句", "第4句"]
    assert len(rows) == len(tracker.events)
    assert [r["event"] for r in rows] == [e.as_dict()["event"] for e in tracker.events]
    fresh = await two_servers(tmp_path)[0].retrieve("u1")  # a third server, never used
    assert [e.as_dict() for e in fresh.events] == [e.as_dict() for e in tracker.events]


async def test_warm_store_reads_no_old_rows(tmp_path, monkeypatch):
    store = PrivateSQLTrackerStore(domain=DOMAIN, db=str(tmp_path / "tracker.db"))
    tracker = await store.get_or_create_tracker("u2")
    for number in range(20):
        turn(tracker, number)
        await store.save(tracker)
        tracker = await store.retrieve("u2")
    revealed = []
    original = rasa_stores.reveal
    monkeypatch.setattr(rasa_stores, "reveal", lambda data: revealed.append(data) or original(data))
    tracker = await store.retrieve("u2")
    assert revealed == []  # nothing new in the database: no row decoded again
    turn(tracker, 99)
    await store.save(tracker)
    assert len(revealed) == 4  # only this turn's rows, once, to mirror what was stored
    assert len(stored(store, "u2")) == len(tracker.events)


async def test_a_new_session_starts_from_its_session_started(tmp_path):
    store = PrivateSQLTrackerStore(domain=DOMAIN, db=str(tmp_path / "tracker.db"))
    tracker = await store.get_or_create_tracker("u3")
    turn(tracker, 1)
    await store.save(tracker)
    tracker = await store.retrieve("u3")
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, 2)
    await store.save(tracker)
    again = await store.retrieve("u3")
    cold = await PrivateSQLTrackerStore(domain=DOMAIN, db=str(tmp_path / "tracker.db")).retrieve(
        "u3"
    )
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in cold.events]
    assert [e.as_dict()["event"] for e in again.events][0] == "session_started"
    assert "第1句" not in [getattr(e, "text", None) for e in again.events]


async def test_cached_slots_stay_sealed_at_rest_and_clear_in_the_tracker(tmp_path):
    store = PrivateSQLTrackerStore(domain=DOMAIN, db=str(tmp_path / "tracker.db"))
    tracker = await store.get_or_create_tracker("u4")
    tracker.update(SlotSet("person_name", "王建国"))
    tracker.update(UserUttered("我叫王建国", parse_data={"intent": {"name": "inform"}}))
    await store.save(tracker)
    assert (await store.retrieve("u4")).get_slot("person_name") == "王建国"
    rows = json.dumps(stored(store, "u4"), ensure_ascii=False)
    assert "王建国" not in rows and rasa_stores.SEALED in rows


async def test_sql_event_log_gets_every_event_once_in_order(tmp_path):
    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = PrivateSQLTrackerStore(
        domain=DOMAIN, db=str(tmp_path / "tracker.db"), event_broker=broker
    )
    tracker = await store.get_or_create_tracker("u5")
    for number in range(15):
        turn(tracker, number)
        await store.save(tracker)
    store.flush_events()
    with broker.session_scope() as session:
        rows = session.query(broker.SQLBrokerEvent).order_by(broker.SQLBrokerEvent.id).all()
        logged = [json.loads(row.data) for row in rows]
    assert [e["event"] for e in logged] == [r["event"] for r in stored(store, "u5")]
    assert [e["text"] for e in logged if e["event"] == "user"] == [f"第{n}句" for n in range(15)]


async def test_a_turn_is_streamed_once_stored_and_before_save_returns(tmp_path):
    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = PrivateSQLTrackerStore(
        domain=DOMAIN, db=str(tmp_path / "tracker.db"), event_broker=broker
    )
    tracker = await store.get_or_create_tracker("u6")
    turn(tracker, 1)
    await store.save(tracker)
    # logged before save returns (the reply follows it): a server killed then loses nothing
    with broker.session_scope() as session:
        assert session.query(broker.SQLBrokerEvent).count() == len(tracker.events)
    with store.engine.begin() as connection:  # reads still work, the next write fails
        connection.exec_driver_sql(
            "CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
    turn(tracker, 2)
    try:
        await store.save(tracker)
    except Exception:
        pass
    else:
        raise AssertionError("the write should have failed")
    store.flush_events()
    with broker.session_scope() as session:
        logged = [json.loads(row.data) for row in session.query(broker.SQLBrokerEvent).all()]
    assert [e["text"] for e in logged if e["event"] == "user"] == ["第1句"]


async def test_sqlite_files_use_wal_without_fsync_per_commit_and_keep_connections(tmp_path):
    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = PrivateSQLTrackerStore(
        domain=DOMAIN, db=str(tmp_path / "tracker.db"), event_broker=broker
    )
    for owner in (store, broker):
        with owner.engine.connect() as connection:
            first = connection.connection.dbapi_connection
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        with owner.engine.connect() as connection:
            assert connection.connection.dbapi_connection is first, "connection not kept"
    tracker = await store.get_or_create_tracker("u1")
    turn(tracker, 1)
    await store.save(tracker)
    store.flush_events()
    assert [e["event"] for e in stored(store, "u1")][-4:] == ["user", "slot", "bot", "action"]
    with broker.session_scope() as session:
        assert session.query(broker.SQLBrokerEvent).filter_by(sender_id="u1").count() >= 4


async def test_the_saved_tracker_is_handed_out_again_until_something_else_changes_it(tmp_path):
    db = str(tmp_path / "tracker.db")
    store = PrivateSQLTrackerStore(domain=DOMAIN, db=db)
    tracker = await store.get_or_create_tracker("u6")
    turn(tracker, 1)
    await store.save(tracker)
    assert await store.retrieve("u6") is tracker  # what it worked out carries over
    # a turn that failed before it was saved: its events are not handed out
    turn(tracker, 2)
    fresh = await store.retrieve("u6")
    assert fresh is not tracker
    assert [getattr(e, "text", None) for e in fresh.events].count("第2句") == 0
    assert len(fresh.events) == len(stored(store, "u6"))
    # another server goes on with the conversation: rebuilt from the database
    other = PrivateSQLTrackerStore(domain=DOMAIN, db=db)
    theirs = await other.retrieve("u6")
    turn(theirs, 3)
    await other.save(theirs)
    mine = await store.retrieve("u6")
    assert mine is not fresh and mine.get_slot("district") == "区3"
    # a new model (domain) is never given a tracker built for the old one
    await store.save(mine)
    store.domain = Domain.from_dict(DOMAIN.as_dict())
    assert await store.retrieve("u6") is not mine


async def test_a_held_turn_reads_the_database_once_and_an_unheld_one_each_time(tmp_path):
    store, other_server = two_servers(tmp_path)
    tracker = await store.get_or_create_tracker("u9")
    turn(tracker, 1)
    await store.save(tracker)
    reads = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "events" in statement:
            reads.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    with store.holding("u9"):  # as bot.rasa_replay.handle_once does under the lock
        tracker = await store.retrieve("u9")
        assert store.stored_turn("u9", "no-such-id") is None
        turn(tracker, 2)
        await store.save(tracker)
    held = len(reads)
    assert held == 2  # the first read of the turn, and the saved turn's last id
    # another server then goes on with the conversation: the next turn sees its rows
    moved = await other_server.retrieve("u9")
    turn(moved, 3)
    await other_server.save(moved)
    reads.clear()
    tracker = await store.retrieve("u9")
    assert tracker.get_slot("district") == "区3" and len(reads) == 1
    await store.retrieve("u9")
    assert len(reads) == 2  # not held: every read asks the database for newer rows
