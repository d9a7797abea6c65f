"""A two-server cluster on throw-away stores, and the bookkeeping of a kill-one-server run.

Used by tests/perf/test_cluster.py (correctness) and ``bench_load --cluster`` (speed). Every
message carries ``metadata.seq`` (its number in its sender's conversation); afterwards the
tracker store is read back and each sender's stored user messages must be exactly 0, 1, 2, …
— nothing lost, nothing twice, in order — and the event broker must hold the same events.

A server can be killed between turns (``Cluster.kill``) or in the middle of them: its action
server frozen (``freeze_actions``, SIGSTOP) holds its turns in an action call, ``play`` waits
until given users have a request outstanding there, and ``kill_server`` SIGKILLs the Rasa
server and its action server, as a machine dying would. ``post`` delivers one message to one
server directly and drops nothing: a caller that ignores its answer stands for a server that
stored a turn and died before the answer left.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from bot.channels.rasa_client import REST_PATH, RasaClient, RasaError
from bot.cluster import Cluster, ensure_database
from bot.core import inbound
from bot.run import _sql_store_from_url
from tests.conftest import free_port

PG = "postgresql://root@127.0.0.1:5432"


@contextmanager
def cluster(workdir: Path, servers: int = 2, lock_lifetime: int | None = None) -> Iterator[Cluster]:
    """``servers`` Rasa servers on a fresh PostgreSQL tracker database, Redis locks and a shared
    SQL event log (countable), all dropped afterwards. ``lock_lifetime`` (seconds) bounds how
    long a killed server's conversation locks hold up its users' next turns."""
    database = f"rj_cluster_{secrets.token_hex(4)}"
    tracker_url = f"{PG}/{database}"
    env = {
        **os.environ,
        "RJ_DATA_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'rongjun.db'}",
        "RJ_RATE_LIMITS": "off",
        "RASA_TRACKER_URL": tracker_url,
        "RASA_EVENT_BROKER": "sql",
    }
    if lock_lifetime is not None:
        env["TICKET_LOCK_LIFETIME"] = str(lock_lifetime)
    subprocess.run([sys.executable, "-m", "bot.core.migrate"], env=env, check=True)
    create_tables(tracker_url, workdir / "rasa_events.db")
    running = Cluster(
        rasa_ports=[free_port() for _ in range(servers)],
        action_ports=[free_port() for _ in range(servers)],
        env=env,
        log_dir=workdir / "logs",
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
        engine = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def create_tables(tracker_url: str, broker_db: Path) -> None:
    """Create the shared tracker store's and event log's tables before the servers start: two
    servers starting at once both create them, and one then fails ("table events already
    exists")."""
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore

    ensure_database(tracker_url)
    store = {k: v for k, v in _sql_store_from_url(tracker_url).items() if k != "type"}
    SQLTrackerStore(**store).engine.dispose()
    SQLEventBroker(db=str(broker_db)).engine.dispose()


@dataclass
class Played:
    sent: dict[str, int] = field(default_factory=dict)  # sender → messages answered
    failed: dict[str, list[int]] = field(default_factory=dict)  # sender → seqs not answered
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    replies: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # (sender, seq) →
    in_flight: dict[str, tuple[int, float]] = field(default_factory=dict)  # sender → (seq, since)
    cut: dict[str, int] = field(default_factory=dict)  # sender → seq in flight at the kill


def stuck(senders: list[str], seconds: float) -> Callable[[Played], bool]:
    """A ``kill`` condition: every one of ``senders`` has waited ``seconds`` for an answer."""

    def condition(played: Played) -> bool:
        now = time.monotonic()
        return all(
            s in played.in_flight and now - played.in_flight[s][1] >= seconds for s in senders
        )

    return condition


async def play(
    urls: str,
    senders: list[str],
    messages: list[str],
    kill: tuple[float | Callable[[Played], bool], Callable[[], None]] | None = None,
    first_seq: int = 0,
    ids: dict[tuple[str, int], str] | None = None,
) -> Played:
    """Each sender sends ``messages`` in order (numbered from ``first_seq``) through one
    RasaClient over ``urls``; with ``kill=(when, function)`` the function runs (in a thread)
    ``when`` seconds in, or once ``when(played)`` holds (at most 60 s in), and ``played.cut``
    records the requests then outstanding. ``ids[(sender, seq)]`` is sent as that message's
    id (as a channel's own id would be); other messages get the client's."""
    played = Played()
    client = RasaClient(urls, attempts=4, backoff=0.5, timeout=60)
    ids = ids or {}

    async def user(sender: str) -> None:
        for seq, text in enumerate(messages, start=first_seq):
            started = time.monotonic()
            played.in_flight[sender] = (seq, started)
            try:
                replies = await client.send(
                    sender, text, {"seq": seq}, message_id=ids.get((sender, seq))
                )
            except RasaError:
                played.failed.setdefault(sender, []).append(seq)
                continue
            finally:
                played.in_flight.pop(sender, None)
            played.replies[(sender, seq)] = replies
            if any(r.get("text") == inbound.reply("busy") for r in replies):
                played.failed.setdefault(sender, []).append(seq)  # refused, never stored
                continue
            played.latencies.append(time.monotonic() - started)
            played.sent[sender] = played.sent.get(sender, 0) + 1

    async def killer() -> None:
        when, function = kill
        if callable(when):
            deadline = time.monotonic() + 60
            while not when(played) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(when)
        played.cut = {sender: seq for sender, (seq, _) in played.in_flight.items()}
        await asyncio.to_thread(function)

    started = time.monotonic()
    try:
        await asyncio.gather(*(user(s) for s in senders), *([killer()] if kill else []))
    finally:
        await client.close()
    played.elapsed = time.monotonic() - started
    return played


async def post(url: str, sender: str, text: str, seq: int, message_id: str) -> list[dict]:
    """One message straight to the Rasa server at ``url``; its replies."""
    body = {"sender": sender, "message": text, "metadata": {"seq": seq}, "message_id": message_id}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + REST_PATH, json=body) as resp,
    ):
        assert resp.status == 200, resp.status
        return await resp.json()


def freeze_actions(running: Cluster, number: int) -> None:
    """Stop server ``number``'s action server (SIGSTOP): its Rasa's turns hang in action calls."""
    running.stacks[number].processes["actions"].send_signal(signal.SIGSTOP)


def kill_server(running: Cluster, number: int) -> None:
    """SIGKILL server ``number``'s Rasa and action server, as a machine dying would."""
    for name in ("rasa", "actions"):
        process = running.stacks[number].processes[name]
        process.kill()
        process.wait()


def stored_seqs(tracker_url: str, broker_db: Path) -> tuple[dict, dict]:
    """sender → list of ``seq`` of its stored user messages, in the tracker store (id order)
    and in the SQL event log."""
    tracker: dict[str, list] = {}
    engine = sa.create_engine(tracker_url)
    with engine.connect() as connection:
        for sender, data in connection.execute(
            sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")
        ):
            tracker.setdefault(sender, []).append(
                (json.loads(data).get("metadata") or {}).get("seq")
            )
    engine.dispose()
    broker: dict[str, list] = {}
    engine = sa.create_engine(f"sqlite:///{broker_db}")
    with engine.connect() as connection:
        for sender, data in connection.execute(
            sa.text("SELECT sender_id, data FROM events ORDER BY id")
        ):
            event = json.loads(data)
            if event.get("event") == "user":
                broker.setdefault(sender, []).append((event.get("metadata") or {}).get("seq"))
    engine.dispose()
    return tracker, broker


def check(played: Played, senders: list[str], count: int, tracker: dict, broker: dict) -> list[str]:
    """Problems found: a sender whose stored messages are not exactly 0 … count-1 in order
    (an unanswered message may be missing, never doubled), or whose event log differs."""
    problems = []
    for sender in senders:
        seqs = tracker.get(sender, [])
        failed = set(played.failed.get(sender, []))
        expected = [n for n in range(count) if n not in failed]
        if [n for n in seqs if n not in failed] != expected or len(seqs) != len(set(seqs)):
            problems.append(f"{sender}: stored {seqs}, answered {expected}")
        if broker.get(sender, []) != seqs:
            problems.append(f"{sender}: event log {broker.get(sender)} ≠ tracker store {seqs}")
    return problems
