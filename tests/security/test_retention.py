"""Finding 3 (retention): conversations stayed in Rasa's stores forever; ``make purge`` deletes
those idle for longer than RJ_RETENTION_DAYS. ``bot.core.retention`` did not exist before."""

from __future__ import annotations

import time
from datetime import datetime

from rasa.core.brokers.sql import SQLEventBroker
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.core import retention, settings
from bot.rasa_stores import PrivateSQLTrackerStore
from tests.security.test_rasa_stores import DOMAIN

DAY = 86400.0


async def test_purge_deletes_only_idle_conversations(private_data_dir):
    config = settings.current()
    config.ensure_data_dir()
    broker = SQLEventBroker(db=str(config.data_dir / "rasa_events.db"))
    store = PrivateSQLTrackerStore(
        domain=DOMAIN, db=str(config.data_dir / "rasa_tracker.db"), event_broker=broker
    )
    now = time.time()
    for sender, age_days in (("old", 200), ("recent", 10), ("old-then-active", 300)):
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        tracker.update(ActionExecuted("action_listen", timestamp=now - age_days * DAY))
        tracker.update(UserUttered("你好", timestamp=now - age_days * DAY))
        if sender == "old-then-active":
            tracker.update(UserUttered("还在吗", timestamp=now - DAY))
        await store.save(tracker)
    store.engine.dispose()
    broker.engine.dispose()

    results = retention.purge(180, config, now=lambda: datetime.now())
    assert [(r.store, r.conversations, r.rows) for r in results] == [
        ("tracker store", 1, 2),
        ("event broker", 1, 2),
    ]
    for name in ("rasa_tracker.db", "rasa_events.db"):
        engine = create_engine(f"sqlite:///{config.data_dir / name}", future=True)
        with engine.connect() as connection:
            senders = {row[0] for row in connection.execute(text("SELECT sender_id FROM events"))}
            # vacuumed: the deleted rows do not linger in free pages
            free_pages = connection.exec_driver_sql("PRAGMA freelist_count").scalar()
        engine.dispose()
        assert senders == {"recent", "old-then-active"}, name
        assert free_pages == 0


def test_purge_without_stores_does_nothing(private_data_dir):
    assert retention.purge(30) == []
    assert retention.main(["--days", "30"]) == 0


def test_cutoff_uses_the_service_clock(monkeypatch):
    monkeypatch.setenv("RJ_TZ", "Asia/Shanghai")
    fixed = datetime(2026, 12, 1, 8, 0)  # 08:00 in Qingdao is 00:00 UTC
    assert retention.cutoff_timestamp(1, now=lambda: fixed) == 1795996800.0  # 2026-11-30 UTC
