"""Bring a database schema up to date with Alembic, without an alembic.ini.

Why programmatic: the same code upgrades the SQLite file of a one-machine deployment, a
PostgreSQL server and the databases tests create, with the URL from ``settings.database_url()``
or an argument.

    python -m bot.core.migrate [--url URL] [--revision head]
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from bot.core import settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Modules that declare tables on ``db.Base`` (all of them: load_models fails if one is missing).
# Imported by name when Alembic runs (env.py), since bot.console.models lives above bot.core.
MODEL_MODULES: Sequence[str] = (
    "bot.core.workdays",
    "bot.core.appointments",
    "bot.core.outbox",
    "bot.core.contacts",
    "bot.core.handoff",
    "bot.core.presence",
    "bot.core.wishes",
    "bot.core.jobs",
    "bot.core.entitlements",
    "bot.core.knowledge",
    "bot.core.lookup_limits",
    "bot.console.models",
)

__all__ = [
    "MIGRATIONS_DIR",
    "MODEL_MODULES",
    "load_models",
    "alembic_config",
    "upgrade",
    "current_revision",
    "main",
]


def load_models() -> list[str]:
    """Import every model module so ``Base.metadata`` knows all tables."""
    return [importlib.import_module(name).__name__ for name in MODEL_MODULES]


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at our migrations folder and ``url`` (or an open connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal '%' (URL-encoded passwords) must be doubled.
    config.set_main_option("sqlalchemy.url", (url or settings.database_url()).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(
    url: str | None = None, revision: str = "head", connection: Connection | None = None
) -> None:
    """Upgrade the database at ``url`` (default: settings.database_url()) to ``revision``.

    A SQLite file is vacuumed when its revision changed: migrations that encrypt or drop personal
    values (0007) must not leave the plain values behind in free pages of the file."""
    url = url or settings.database_url()
    before = current_revision(url) if connection is None else None
    command.upgrade(alembic_config(url, connection), revision)
    if connection is None and url.startswith("sqlite") and current_revision(url) != before:
        _vacuum(url)


def _vacuum(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url, future=True)  # not make_engine: its BEGIN IMMEDIATE forbids VACUUM
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
    finally:
        engine.dispose()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from bot.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Upgrade the 荣军助手 database schema.")
    parser.add_argument("--url", help="SQLAlchemy URL (default: DATABASE_URL or the SQLite file)")
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    os.umask(0o077)  # a new SQLite database file is readable by its owner only
    upgrade(args.url, args.revision)
    print(f"database at revision {current_revision(args.url)}")


if __name__ == "__main__":
    main()
