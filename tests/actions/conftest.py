"""Fixtures for action tests: real capabilities on a temporary SQLite database, a fixed clock,
the real domain, and rasa_sdk Trackers built from small fixture dicts (see trackers.py).

Financial-demo style: a tracker state → run the action with a CollectingDispatcher → assert the
returned events and the responses sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from actions import forms_common
from bot.core import db

REPO = Path(__file__).resolve().parents[2]
TEST_ID_KEY = "dGVzdC1rZXktZm9yLXJvbmdqdW4tdGVzdHMtMzJieXQ="  # Fernet-valid, tests only
NOW = datetime(2026, 12, 1, 10, 0)  # a Tuesday, naive Asia/Shanghai


def _forget_engines() -> None:
    """Drop cached engines (db caches one per URL) so each test starts on its own database."""
    for function in (getattr(db, "_engine_for", None), db.get_engine):
        clear = getattr(function, "cache_clear", None)
        if clear is not None:
            clear()


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch) -> Iterator[str]:
    """Every test gets its own SQLite file with all tables, and its own data dir and ID key."""
    data_dir = tmp_path / "data"
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("RJ_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RJ_ID_KEY", TEST_ID_KEY)
    _forget_engines()
    from bot.core.migrate import load_models

    load_models()
    engine = db.get_engine()
    db.Base.metadata.create_all(engine)
    try:
        yield url
    finally:
        engine.dispose()
        _forget_engines()


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> datetime:
    """The actions' notion of now (forms_common.local_now), fixed; tests may re-patch it."""
    monkeypatch.setattr(forms_common, "local_now", lambda: NOW)
    return NOW


@pytest.fixture
def session() -> Iterator[Session]:
    """A session on the test database (commit to make data visible to the actions)."""
    s = Session(db.get_engine(), future=True, expire_on_commit=False)
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture(scope="session")
def domain() -> dict:
    """domain.yml as the action server receives it (responses, forms, slots)."""
    return yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
