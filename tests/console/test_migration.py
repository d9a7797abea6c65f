"""Migration 0003_console creates exactly the console tables the models describe (SQLite and PG)."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from bot.console.models import CONSOLE_TABLES
from bot.core import db, migrate

CONSOLE_NAMES = {t.name for t in CONSOLE_TABLES}


def console_metadata() -> MetaData:
    meta = MetaData()
    for table in CONSOLE_TABLES:
        table.to_metadata(meta)
    return meta


def check(url: str) -> None:
    migrate.upgrade(url, "0003_console")
    assert migrate.current_revision(url) == "0003_console"
    engine = db.make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= CONSOLE_NAMES
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), console_metadata()
            )
        diff = [
            d
            for d in diff
            if not (
                d[0] == "remove_table"
                or (d[0] == "remove_index" and d[1].table.name not in CONSOLE_NAMES)
            )
        ]
        assert diff == []
    finally:
        engine.dispose()
    # and back down: our downgrade removes only our tables
    from alembic import command

    command.downgrade(migrate.alembic_config(url), "0002_wishes_jobs")
    engine = db.make_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
        assert not (CONSOLE_NAMES & names) and "handoff_requests" in names
    finally:
        engine.dispose()


def test_migration_on_sqlite(tmp_path):
    check(f"sqlite:///{tmp_path / 'migrated.db'}")


@pytest.mark.pg
def test_migration_on_postgresql():
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"rj_console_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect("postgresql://root@127.0.0.1:5432/postgres", connect_timeout=3)
    except psycopg2.OperationalError:
        pytest.skip("PostgreSQL not reachable")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        check(f"postgresql+psycopg2://root@127.0.0.1:5432/{name}")
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
