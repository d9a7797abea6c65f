"""Shared fixtures for capability tests (reuse them in any test module).

Fixtures
--------
``engine``
    Function-scoped SQLAlchemy engine on an EMPTY database, parametrised over
    ``["sqlite", "postgresql"]`` (test ids ``test_x[sqlite]`` / ``test_x[postgresql]``).

    * sqlite: a file ``tmp_path/test.db`` made by ``db.make_engine`` (WAL, BEGIN IMMEDIATE).
    * postgresql: one database ``rj_test_<random>`` per test session, created with psycopg2 via
      ``postgresql://root@127.0.0.1:5432/postgres`` and dropped at the end; every test gets its
      own schema in it (the engine's ``search_path`` points there), dropped after the test.
      If PostgreSQL is unreachable the PG tests FAIL, unless ``RJ_SKIP_PG=1`` (then they skip).

``engine_url``
    The engine's URL as a string (includes the PG ``search_path`` option), for code that builds
    its own engine or runs Alembic: ``migrate.upgrade(engine_url)``,
    ``db.make_engine(engine_url, pool_size=20)``.

``session``
    A ``Session`` on ``engine`` after ``Base.metadata.create_all`` (every model module listed in
    ``migrate.MODEL_MODULES`` that exists is imported first). Not committed for you; rolled back
    and closed after the test. Call ``session.commit()`` when a test needs committed data.

``make_session``
    Factory for more sessions on the same (already created) schema, e.g. one per thread. Every
    session it made is rolled back and closed after the test (so a failing test cannot leave a
    lock behind); threads that build their own engine must clean up themselves.

``now``
    ``datetime(2026, 12, 1, 10, 0)``: a Tuesday, naive local (Asia/Shanghai) time. Pass it as
    ``now=`` to services.

Autouse: ``RJ_DATA_DIR`` points at ``tmp_path/data`` and ``RJ_ID_KEY`` is a fixed test Fernet key,
so tests never touch the repository's ``.data`` directory.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.db import Base, make_engine

PG_ADMIN_DSN = "postgresql://root@127.0.0.1:5432/postgres"
PG_HOST = "127.0.0.1:5432"
TEST_ID_KEY = "dGVzdC1rZXktZm9yLXJvbmdqdW4tdGVzdHMtMzJieXQ="  # Fernet-valid, tests only


@pytest.fixture(autouse=True)
def _pii_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RJ_ID_KEY", TEST_ID_KEY)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 12, 1, 10, 0)


def _pg_admin(dbname: str = "postgres"):
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + dbname, connect_timeout=5)
    connection.autocommit = True
    return connection


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """Name of a fresh PostgreSQL database for this test session (dropped afterwards)."""
    try:
        admin = _pg_admin()
    except Exception as exc:  # psycopg2.OperationalError and friends
        if os.environ.get("RJ_SKIP_PG") == "1":
            pytest.skip(f"PostgreSQL unreachable and RJ_SKIP_PG=1: {exc}")
        pytest.fail(
            f"PostgreSQL at {PG_HOST} is unreachable ({exc}); start it or set RJ_SKIP_PG=1",
            pytrace=False,
        )
    name = f"rj_test_{secrets.token_hex(4)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    database = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    admin = _pg_admin(database)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (f"postgresql+psycopg2://root@{PG_HOST}/{database}?options=-csearch_path%3D{schema}")
    finally:
        with admin.cursor() as cursor:
            # Connections leaked by a failed test (a traceback keeps them alive) would hold locks
            # and make DROP SCHEMA wait forever; tests run one at a time, so end them all.
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def engine(engine_url) -> Iterator[Engine]:
    created = make_engine(engine_url)
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def make_session(engine) -> Iterator[Callable[[], Session]]:
    from bot.core.migrate import load_models

    load_models()
    Base.metadata.create_all(engine)
    made: list = []

    def factory() -> Session:
        s = Session(engine, future=True, expire_on_commit=False)
        made.append(s)
        return s

    yield factory
    # A failing test may leave a transaction open; close it so it cannot block teardown.
    for s in made:
        try:
            s.rollback()
            s.close()
        except Exception:  # pragma: no cover - best effort cleanup
            pass


@pytest.fixture
def session(make_session) -> Session:
    return make_session()
