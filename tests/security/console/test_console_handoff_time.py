"""Finding 9: a handoff the action server records carries the service's time (Asia/Shanghai),
not the host's — here a host whose clock is UTC, as most servers are."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.core import clock, db, handoff


@pytest.fixture
def utc_host(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("RJ_TZ", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def core_db(tmp_path, monkeypatch):
    from bot.core.migrate import load_models

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'core.db'}")
    db._engine_for.cache_clear()
    load_models()
    engine = db.get_engine()
    db.Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    db._engine_for.cache_clear()


def test_record_handoff_stores_shanghai_time_on_a_utc_host(utc_host, core_db):
    from actions.safety import record_handoff
    from tests.actions.trackers import tracker

    host_now = datetime.now()  # naive host time: UTC here
    shanghai_now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(shanghai_now - host_now - timedelta(hours=8)) < timedelta(minutes=1)

    assert record_handoff(tracker("我要人工", "request_human", {}), "human") is True
    with db.session_scope(core_db) as s:
        stored = s.execute(select(handoff.HandoffRequest)).scalar_one().created_at
    assert abs(stored - clock.now()) < timedelta(minutes=1)
    assert abs(stored - shanghai_now) < timedelta(minutes=1)
    assert abs(stored - host_now) > timedelta(hours=7)  # not the host's UTC wall time
