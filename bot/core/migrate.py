"""Bring a database schema up to date with Alembic, without an alembic.ini.

Why programmatic: the same code upgrades the SQLite file of a one-machine deployment, a
PostgreSQL server and the databases tests create, with the URL from ``settings.database_url()``
or an argument.

    python -m bot.core.migrate [--url URL] [--revision head]
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
from pathlib import Path
from typing import List, Optional, Sequence

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from bot.core import settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Modules that declare tables on ``db.Base``. Missing ones (not written yet) are skipped.
MODEL_MODULES: Sequence[str] = (
    "bot.core.workdays",
    "bot.core.appointments",
    "bot.core.outbox",
    "bot.core.handoff",
    "bot.core.wishes",
    "bot.core.jobs",
    "bot.core.entitlements",
    "bot.core.knowledge",
    "bot.console.models",
)

__all__ = ["MIGRATIONS_DIR", "MODEL_MODULES", "load_models", "alembic_config", "upgrade",
           "current_revision", "main"]


def load_models() -> List[str]:
    """Import every model module that exists so ``Base.metadata`` knows all tables."""
    loaded = []
    for name in MODEL_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:  # a parent package (e.g. bot.console) does not exist
            continue
        importlib.import_module(name)
        loaded.append(name)
    return loaded


def alembic_config(url: Optional[str] = None, connection: Optional[Connection] = None) -> Config:
    """An Alembic Config pointing at our migrations folder and ``url`` (or an open connection)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal '%' (URL-encoded passwords) must be doubled.
    config.set_main_option("sqlalchemy.url", (url or settings.database_url()).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: Optional[str] = None, revision: str = "head",
            connection: Optional[Connection] = None) -> None:
    """Upgrade the database at ``url`` (default: settings.database_url()) to ``revision``."""
    command.upgrade(alembic_config(url, connection), revision)


def current_revision(url: Optional[str] = None) -> Optional[str]:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    from bot.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Upgrade the 荣军助手 database schema.")
    parser.add_argument("--url", help="SQLAlchemy URL (default: DATABASE_URL or the SQLite file)")
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    upgrade(args.url, args.revision)
    print(f"database at revision {current_revision(args.url)}")


if __name__ == "__main__":
    main()
