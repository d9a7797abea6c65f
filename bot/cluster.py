"""``make run-cluster``: several Rasa servers behind the one Rasa client, sharing their state.

    RJ_RASA_SERVERS=2 python -m bot.cluster serve

Starts ``RJ_RASA_SERVERS`` (default 2) Rasa servers, each with its own (stateless) action
server, and the agent console. The servers share

* the tracker store: PostgreSQL (``RASA_TRACKER_URL``, default
  ``postgresql://root@127.0.0.1:5432/rongjun_rasa``, created if missing);
* the lock store: Redis (``REDIS_HOST``/``REDIS_PORT``), so one conversation is never handled by
  two servers at once;
* the event broker: RabbitMQ (``RABBITMQ_URL``), read by the console's live view;
* the core database (``DATABASE_URL``; use PostgreSQL when the servers are on several machines).

Routing: the gateways and the console reach the servers through ``bot/channels/rasa_client.py``
with ``RASA_URL`` listing them all (comma-separated, printed at start). The client keeps each
sender on one server (rendezvous hashing) and moves a sender to its next server when its server
stops answering; the shared stores carry the conversation over. On several machines run
``RJ_RASA_SERVERS=1 python -m bot.cluster serve`` on each with the same shared URLs, and give every
gateway the full list in ``RASA_URL``.

A server killed while holding a conversation's lock leaves it in Redis until it expires; the
cluster sets ``TICKET_LOCK_LIFETIME`` (Rasa's lock lifetime) to 20 s instead of Rasa's 60 s, so a
moved user waits at most that long once.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.core import settings
from bot.run import Stack, migrate

DEFAULT_TRACKER_URL = "postgresql://root@127.0.0.1:5432/rongjun_rasa"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist."""
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        return
    import psycopg2

    name = parsed.path.lstrip("/")
    admin = parsed._replace(scheme="postgresql", path="/postgres").geturl()
    connection = psycopg2.connect(admin, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def cluster_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the shared stores switched on (defaults for one machine)."""
    env = dict(env)
    env.setdefault("RASA_TRACKER_URL", DEFAULT_TRACKER_URL)
    env.setdefault("RASA_LOCK_STORE", "redis")
    env.setdefault("RASA_EVENT_BROKER", "rabbitmq")
    env.setdefault("TICKET_LOCK_LIFETIME", "20")
    return env


@dataclass
class Cluster:
    """``servers`` Rasa servers (ports ``rasa_ports``), each with its own action server."""

    rasa_ports: list[int]
    action_ports: list[int]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log_dir: Path | None = None
    stacks: list[Stack] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = cluster_env(self.env)
        for number, (rasa_port, action_port) in enumerate(
            zip(self.rasa_ports, self.action_ports, strict=True)
        ):
            env = dict(self.env)
            env.pop("ACTION_ENDPOINT_URL", None)
            self.stacks.append(
                Stack(
                    rasa_port=rasa_port,
                    action_port=action_port,
                    env=env,
                    log_dir=self.log_dir and self.log_dir / f"server{number}",
                    endpoints_name=f"server{number}",
                )
            )

    @property
    def urls(self) -> list[str]:
        return [f"http://{stack.local}:{stack.rasa_port}" for stack in self.stacks]

    @property
    def rasa_url(self) -> str:
        """``RASA_URL`` for the gateways and the console: every server, comma-separated."""
        return ",".join(self.urls)

    def start(self) -> None:
        ensure_database(self.env["RASA_TRACKER_URL"])
        for stack in self.stacks:
            stack.start_actions()
        # The servers load their models at the same time.
        with ThreadPoolExecutor(len(self.stacks)) as pool:
            for future in [pool.submit(stack.start_rasa) for stack in self.stacks]:
                future.result()

    def kill(self, number: int) -> None:
        """Kill server ``number``'s Rasa process outright (SIGKILL), as a crash would."""
        process = self.stacks[number].processes["rasa"]
        process.kill()
        process.wait()

    def stop(self) -> None:
        for stack in self.stacks:
            stack.stop()


def serve() -> int:
    os.umask(0o077)
    config = settings.current()
    servers = int(os.environ.get("RJ_RASA_SERVERS", "2"))
    log_dir = config.ensure_data_dir() / "logs"
    cluster = Cluster(
        rasa_ports=[5005 + n for n in range(servers)],
        action_ports=[config.action_port + n for n in range(servers)],
        log_dir=log_dir,
    )
    stopping = False

    def _stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    console = Stack(env=dict(cluster.env, RASA_URL=cluster.rasa_url), log_dir=log_dir)
    try:
        migrate()
        print(f"启动 {servers} 个 Rasa 服务器 / starting {servers} Rasa servers …", flush=True)
        cluster.start()
        console.start_console()
        print(
            f"荣军助手集群已启动 / cluster running: RASA_URL={cluster.rasa_url}\n"
            f"  console and web chat: http://{console.local}:{console.console_port}/\n"
            f"  tracker store {cluster.env['RASA_TRACKER_URL'].split('@')[-1]}, lock store Redis, "
            "events RabbitMQ. Ctrl-C stops everything.",
            flush=True,
        )
        while not stopping:
            for stack in [*cluster.stacks, console]:
                for name, process in stack.processes.items():
                    if process.poll() is not None:
                        print(
                            f"{name} on port {stack.rasa_port} exited; still serving with the rest"
                        )
                        stack.processes.pop(name)
                        break
            time.sleep(0.5)
    finally:
        console.stop()
        cluster.stop()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        sys.exit("usage: python -m bot.cluster serve")
    sys.exit(serve())
