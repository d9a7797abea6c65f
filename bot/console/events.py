"""Where the live view gets Rasa's events: the SQL event broker table or a RabbitMQ queue.

Both sources call ``handler(event: dict, live: bool)`` for every event Rasa published
(``{"sender_id", "event", "timestamp", ...}``); ``live=False`` marks history replayed at start-up
(shown, but never used to raise alerts or handoff requests).
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

Handler = Callable[[dict, bool], Awaitable[None]]


class EventSource(ABC):
    @abstractmethod
    async def run(self, handler: Handler) -> None:
        """Deliver events to ``handler`` until cancelled."""


async def _call(handler: Handler, event: dict, live: bool) -> None:
    try:
        await handler(event, live)
    except Exception:  # one bad event must not stop the stream
        logger.exception("console: handling a Rasa event failed")


def _decode(raw) -> dict | None:
    try:
        event = json.loads(raw) if isinstance(raw, (str, bytes, bytearray)) else raw
    except (TypeError, ValueError):
        return None
    return event if isinstance(event, dict) else None


class SQLEventSource(EventSource):
    """Polls Rasa's SQL event broker table ``events(id, sender_id, data)`` for ``id > last_id``."""

    def __init__(
        self, url: str, *, poll_interval: float = 0.5, replay: int = 2000, batch: int = 500
    ):
        self.url = url
        self.poll_interval = poll_interval
        self.replay = replay
        self.batch = batch
        self.last_id: int | None = None
        self._replay_until = 0  # ids up to this one existed before we started: history
        self._engine: Engine | None = None

    def _sqlite_missing(self) -> bool:
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database:
            return False
        return not Path(parsed.database).exists()

    def _engine_or_none(self) -> Engine | None:
        if self._engine is None:
            if self._sqlite_missing():  # Rasa has not started yet; do not create its file
                return None
            self._engine = create_engine(self.url, future=True)
        return self._engine

    def _fetch(self) -> list[tuple[int, str]]:
        engine = self._engine_or_none()
        if engine is None:
            return []
        with engine.connect() as conn:
            if self.last_id is None:
                top = conn.execute(text("SELECT MAX(id) FROM events")).scalar() or 0
                self.last_id = max(0, top - self.replay)
                self._replay_until = top
            rows = conn.execute(
                text("SELECT id, data FROM events WHERE id > :last ORDER BY id LIMIT :n"),
                {"last": self.last_id, "n": self.batch},
            ).all()
        return [(int(r[0]), r[1]) for r in rows]

    async def poll_once(self, handler: Handler) -> int:
        """One poll; returns how many events were delivered."""
        loop = asyncio.get_running_loop()
        try:
            rows = await loop.run_in_executor(None, self._fetch)
        except SQLAlchemyError as exc:  # table not created yet, database locked …
            logger.debug("console: SQL event source not ready: %s", exc)
            return 0
        for row_id, data in rows:
            self.last_id = row_id
            event = _decode(data)
            if event is not None:
                await _call(handler, event, row_id > self._replay_until)
        return len(rows)

    async def run(self, handler: Handler) -> None:
        try:
            while True:
                delivered = await self.poll_once(handler)
                if delivered < self.batch:
                    await asyncio.sleep(self.poll_interval)
        finally:
            if self._engine is not None:
                self._engine.dispose()


class RabbitMQEventSource(EventSource):
    """Consumes the durable queue Rasa's pika broker publishes to (``queues: [rasa_events]``)."""

    def __init__(
        self, url: str, queue: str = "rasa_events", *, prefetch: int = 100, retry_delay: float = 5.0
    ):
        self.url = url
        self.queue = queue
        self.prefetch = prefetch
        self.retry_delay = retry_delay
        self.connected = asyncio.Event()

    async def run(self, handler: Handler) -> None:
        import aio_pika

        while True:
            try:
                connection = await aio_pika.connect_robust(self.url)
            except Exception as exc:  # broker down: keep trying, the console works without it
                logger.warning(
                    "console: RabbitMQ not reachable (%s); retrying", exc.__class__.__name__
                )
                await asyncio.sleep(self.retry_delay)
                continue
            try:
                async with connection:
                    channel = await connection.channel()
                    await channel.set_qos(prefetch_count=self.prefetch)
                    # Same arguments as Rasa's PikaEventBroker (durable), so either side may
                    # declare it first.
                    queue = await channel.declare_queue(self.queue, durable=True)
                    self.connected.set()
                    async with queue.iterator() as messages:
                        async for message in messages:
                            async with message.process(ignore_processed=True):
                                event = _decode(message.body.decode("utf-8", "replace"))
                                if event is not None:
                                    await _call(handler, event, True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("console: RabbitMQ consumer stopped (%s); reconnecting", exc)
                self.connected.clear()
                await asyncio.sleep(self.retry_delay)


def make_event_source(config) -> EventSource | None:
    kind = (config.event_broker or "sql").lower()
    if kind in ("rabbitmq", "pika", "amqp"):
        return RabbitMQEventSource(config.rabbitmq_url, config.rabbitmq_queue)
    if kind in ("sql", "sqlite", "postgresql"):
        return SQLEventSource(
            config.events_db_url, poll_interval=config.poll_interval, replay=config.replay_events
        )
    return None
