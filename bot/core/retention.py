"""Deletes conversations nobody has touched for N days from Rasa's stores (``make purge``).

    python -m bot.core.retention [--days N]      # default RJ_RETENTION_DAYS (180)

A conversation is removed as a whole, from the tracker store (table ``events`` with a
``timestamp`` column) and from the SQL event broker (table ``events``, the time inside the JSON
``data``), once its newest event is older than the cut-off. SQLite files are vacuumed afterwards
so the deleted rows do not linger in free pages. In the core database, records finished more
than N days ago lose their personal values (``bot.core.records_retention``): names, mobiles and
ID numbers of past appointments, finished wishes' mobiles and raw texts, closed handoffs' first
messages; withdrawn job-seeker registrations are deleted.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, create_engine, inspect, text

from bot.core import clock, settings


@dataclass
class Purged:
    store: str
    conversations: int
    rows: int


def tracker_store_url(config: settings.Settings) -> str:
    return config.tracker_url or f"sqlite:///{config.data_dir / 'rasa_tracker.db'}"


def cutoff_timestamp(days: int, now: Callable[[], datetime] = clock.now) -> float:
    """The Unix time ``days`` before now (Rasa stores event times as Unix seconds)."""
    moment = (now() - timedelta(days=days)).replace(tzinfo=clock.local_tz())
    return moment.timestamp()


def _exists(url: str) -> bool:
    if url.startswith("sqlite:///"):
        from pathlib import Path

        return Path(url[len("sqlite:///") :]).exists()
    return True


def _delete(connection, senders: list[str]) -> int:
    if not senders:
        return 0
    statement = text("DELETE FROM events WHERE sender_id IN :senders").bindparams(
        bindparam("senders", expanding=True)
    )
    rows = 0
    for start in range(0, len(senders), 500):
        rows += connection.execute(statement, {"senders": senders[start : start + 500]}).rowcount
    return rows


def _vacuum(engine) -> None:
    if engine.url.get_backend_name() == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")


def purge_tracker_store(url: str, cutoff: float) -> Purged:
    engine = create_engine(url, future=True)
    try:
        if not inspect(engine).has_table("events"):
            return Purged("tracker store", 0, 0)
        with engine.begin() as connection:
            senders = [
                row[0]
                for row in connection.execute(
                    text(
                        "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) <"
                        " :cutoff"
                    ),
                    {"cutoff": cutoff},
                )
            ]
            rows = _delete(connection, senders)
        _vacuum(engine)
        return Purged("tracker store", len(senders), rows)
    finally:
        engine.dispose()


def purge_event_broker(url: str, cutoff: float) -> Purged:
    engine = create_engine(url, future=True)
    try:
        if not inspect(engine).has_table("events"):
            return Purged("event broker", 0, 0)
        newest: dict[str, float] = {}
        with engine.connect() as connection:
            for sender, data in connection.execute(text("SELECT sender_id, data FROM events")):
                try:
                    moment = float(json.loads(data or "{}").get("timestamp") or 0)
                except (ValueError, TypeError, AttributeError):
                    moment = 0.0
                newest[sender] = max(moment, newest.get(sender, 0.0))
        senders = [sender for sender, moment in newest.items() if moment < cutoff]
        with engine.begin() as connection:
            rows = _delete(connection, senders)
        _vacuum(engine)
        return Purged("event broker", len(senders), rows)
    finally:
        engine.dispose()


def purge(
    days: int, config: settings.Settings | None = None, now: Callable[[], datetime] = clock.now
) -> list[Purged]:
    config = config or settings.current()
    cutoff = cutoff_timestamp(days, now)
    results = []
    url = tracker_store_url(config)
    if _exists(url):
        results.append(purge_tracker_store(url, cutoff))
    if config.event_broker == "sql" and _exists(config.events_db_url):
        results.append(purge_event_broker(config.events_db_url, cutoff))
    return results


def main(argv: list[str] | None = None) -> int:
    config = settings.current()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=config.retention_days)
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    for result in purge(args.days, config):
        print(
            f"{result.store}: {result.conversations} conversations "
            f"({result.rows} events) older than {args.days} days deleted"
        )
    if _exists(config.database_url):
        done = anonymise_core(args.days, config)
        print(
            f"core database: personal data cleared from {done.appointments} appointments, "
            f"{done.wishes} wishes, {done.handoffs} handoffs; {done.job_seekers} withdrawn job "
            f"seekers deleted (finished more than {args.days} days ago)"
        )
    return 0


def anonymise_core(
    days: int, config: settings.Settings | None = None, now: Callable[[], datetime] = clock.now
):
    """Clear personal values from core records finished more than ``days`` ago
    (``bot.core.records_retention``); SQLite is vacuumed so they leave the file."""
    from bot.core import db
    from bot.core.records_retention import anonymise_finished

    config = config or settings.current()
    engine = db.make_engine(config.database_url)
    try:
        with db.session_scope(engine) as s:
            done = anonymise_finished(s, now() - timedelta(days=days))
    finally:
        engine.dispose()
    if config.database_url.startswith("sqlite"):
        plain = create_engine(config.database_url, future=True)
        try:
            _vacuum(plain)
        finally:
            plain.dispose()
    return done


if __name__ == "__main__":
    raise SystemExit(main())
