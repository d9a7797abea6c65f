"""The real Alembic migrations on SQLite and PostgreSQL (bot/core/migrate.py).

After ``upgrade`` the schema must match the SQLAlchemy models of every module (no drift, as
``alembic check`` would report), so ``Base.metadata.create_all`` in other tests is honest.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.core import migrate
from bot.core.db import Base, make_engine

CORE_TABLES = {
    "centre_closures",
    "appointment_slots",
    "appointments",
    "appointment_events",
    "outbox_messages",
    "handoff_requests",
}


def _head() -> str:
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


def test_revision_chain_starts_with_core():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    base = script.get_revision("0001_core")
    assert base.down_revision is None
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001_core"
    assert len(script.get_heads()) == 1  # a single line of history


def test_upgrade_creates_tables_without_drift(engine_url):
    migrate.upgrade(engine_url)
    assert migrate.current_revision(engine_url) == _head()
    migrate.load_models()
    engine = make_engine(engine_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert tables >= CORE_TABLES
        assert set(Base.metadata.tables) <= tables
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_removes_core_tables(engine_url):
    migrate.upgrade(engine_url)
    migrate.upgrade(engine_url)
    assert migrate.current_revision(engine_url) == _head()
    command.downgrade(migrate.alembic_config(engine_url), "base")
    engine = make_engine(engine_url)
    try:
        assert not CORE_TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert migrate.current_revision(engine_url) is None


def test_migrated_schema_enforces_capacity_and_uniqueness(engine_url):
    """Constraints autogenerate cannot compare (CHECK) are present in the migration itself."""
    migrate.upgrade(engine_url)
    engine = make_engine(engine_url)
    stamp = datetime(2026, 12, 2, 9, 0)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO appointment_slots (centre_id, start, capacity, booked) "
                    "VALUES ('licang', :start, 1, 1)"
                ),
                {"start": stamp},
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE appointment_slots SET booked = booked + 1"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO appointment_slots (centre_id, start, capacity, booked) "
                    "VALUES ('licang', :start, 3, 0)"
                ),
                {"start": stamp},
            )
    finally:
        engine.dispose()


def test_command_line_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.core.migrate", "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(migrate.MIGRATIONS_DIR.parents[2]),
    )
    assert result.returncode == 0, result.stderr
    assert _head() in result.stdout
    assert migrate.current_revision(url) == _head()


def test_default_url_comes_from_settings(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'default.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    migrate.upgrade()
    assert migrate.current_revision(url) == _head()


def test_percent_in_url_survives_configparser():
    config = migrate.alembic_config("postgresql+psycopg2://u:p%40ss@h/db")
    assert config.get_main_option("sqlalchemy.url") == "postgresql+psycopg2://u:p%40ss@h/db"
