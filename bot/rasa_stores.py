"""Rasa's SQL tracker store without personal data at rest (runs inside the Rasa process).

Configured by bot/run.py as the tracker store ``type: bot.rasa_stores.PrivateSQLTrackerStore``
for SQLite and PostgreSQL alike. Before an event is written:

* the slots ``person_name`` and ``mobile`` are encrypted (Fernet, the key of ID numbers) and
  decrypted again when the tracker is read back, so a form still has them on the next turn;
  ``id_number`` is already a Fernet token made by the action server;
* every other string in the event (the user's text, entity values, bot replies, metadata) has
  ID numbers, mobiles and long digit runs masked (``people.mask_text``) and the names and
  mobiles this conversation's slots hold replaced by their masked forms.

Events streamed to the event broker (SQL or RabbitMQ, whichever is configured) are masked the
same way, with the slot values masked rather than encrypted: nothing reads them back. The
in-memory tracker of the current turn is never changed, so the action server and the form
validators still see exactly what the user typed. A ``user`` event's ``message_id`` is kept as
it is: a retried message is recognised by it (``stored_turn``, ``bot.rasa_replay``).

Speed (issue #13): each recent conversation's session is kept in memory with the highest row id
applied, so a turn reads only rows above it and writes only its new events (Rasa's own store
re-reads the whole session three times per turn); the SQL event log is written by one
background thread, one transaction per turn, once the turn is stored and before its reply (the
event loop goes on with other turns meanwhile). See the class docstrings.

SQLite (the single-machine default): Rasa opens both files with SQLAlchemy's defaults — a new
connection per session (``NullPool``, the schema re-read each time) and a rollback journal
synced twice per commit. Both engines are replaced by ones that keep their connections and use
write-ahead logging with ``synchronous=NORMAL``: a commit is one append to the log, no fsync;
what is committed survives a crash or kill of the process (the cluster kill test), and only a
power cut can lose the last turns (``sqlite_tuned``). PostgreSQL is left as Rasa configures it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.core import people
from bot.core.inbound import message_id as valid_message_id
from bot.rasa_replay import turn_after

logger = logging.getLogger(__name__)

SEALED = "sealed:v1:"
# Slots whose values survive turns in clear inside the conversation and so must be encrypted.
SEALED_SLOTS: dict[str, Callable[[str], str]] = {
    "person_name": people.mask_name,
    "mobile": people.mask_phone,
}
ALREADY_ENCRYPTED_SLOTS = {"id_number"}


def known_values(events: Iterable[Event | dict]) -> dict[str, str]:
    """Raw → masked for every name and mobile this conversation's slots have held."""
    replacements: dict[str, str] = {}
    for event in events:
        data = event if isinstance(event, dict) else event.as_dict()
        name, value = data.get("name"), data.get("value")
        if data.get("event") != "slot" or name not in SEALED_SLOTS:
            continue
        if isinstance(value, str) and len(value.strip()) >= 2 and not value.startswith(SEALED):
            replacements[value.strip()] = SEALED_SLOTS[name](value.strip())
    return replacements


def scrub(value: Any, replacements: dict[str, str]) -> Any:
    """``value`` (any JSON) with personal data masked in every string."""
    if isinstance(value, str):
        # Longest first, so a full name is masked before a shorter name inside it.
        for raw in sorted(replacements, key=len, reverse=True):
            if raw in value:
                value = value.replace(raw, replacements[raw])
        return people.mask_text(value)
    if isinstance(value, dict):
        return {key: scrub(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, replacements) for item in value]
    return value


def protect(data: dict[str, Any], replacements: dict[str, str], seal: bool) -> dict[str, Any]:
    """One serialised event made safe to store (``seal``) or to publish (masked)."""
    if data.get("event") == "slot" and data.get("name") in ALREADY_ENCRYPTED_SLOTS:
        return data
    if data.get("event") == "slot" and data.get("name") in SEALED_SLOTS:
        value = data.get("value")
        if not isinstance(value, str) or not value or value.startswith(SEALED):
            return data
        mask = SEALED_SLOTS[data["name"]]
        hidden = (SEALED + people.encrypt_value(value)) if seal else mask(value)
        return {
            **scrub({k: v for k, v in data.items() if k != "value"}, replacements),
            "value": hidden,
        }
    safe = scrub(data, replacements)
    # A message id is no personal data, and a retry is recognised by it exactly (a Telegram
    # update id or WeChat MsgId is a long digit run that ``mask_text`` would otherwise mask).
    if valid_message_id(data.get("message_id")):
        safe["message_id"] = data["message_id"]
    return safe


def protect_for_store_and_log(
    data: dict[str, Any], replacements: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``protect`` for the tracker store (sealed) and for the event log (masked): the same dict
    twice unless ``data`` sets a sealed slot, the only event the two protect differently."""
    stored = protect(data, replacements, seal=True)
    if data.get("event") == "slot" and data.get("name") in SEALED_SLOTS and stored is not data:
        return stored, protect(data, replacements, seal=False)
    return stored, stored


def reveal(data: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``protect(..., seal=True)`` for the sealed slots."""
    value = data.get("value")
    if data.get("event") == "slot" and isinstance(value, str) and value.startswith(SEALED):
        try:
            return {**data, "value": people.decrypt_value(value[len(SEALED) :])}
        except Exception:  # a rotated key: the form asks again rather than failing the turn
            logger.warning("could not decrypt slot %s; it is left empty", data.get("name"))
            return {**data, "value": None}
    return data


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)


def sqlite_tuned(owner: Any) -> None:
    """Give ``owner`` (Rasa's SQL tracker store or SQL event broker) a pooled SQLite engine in
    WAL mode with ``synchronous=NORMAL`` (module docstring); other databases are left alone."""
    engine = getattr(owner, "engine", None)
    if (
        engine is None
        or engine.dialect.name != "sqlite"
        or engine.url.database in (None, "", ":memory:")
    ):
        return
    tuned = sa.create_engine(
        engine.url,
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @sa.event.listens_for(tuned, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    engine.dispose()
    owner.engine = tuned
    owner.sessionmaker = sa.orm.sessionmaker(bind=tuned)


def write_events(broker: SQLEventBroker, bodies: list[dict[str, Any]], attempts: int = 3) -> None:
    """Write one turn's events to the SQL event log in one transaction (retried when busy)."""
    for attempt in range(1, attempts + 1):
        try:
            with broker.session_scope() as session:
                session.execute(
                    broker.SQLBrokerEvent.__table__.insert(),
                    [
                        {"sender_id": body.get("sender_id"), "data": json.dumps(body)}
                        for body in bodies
                    ],
                )
                session.commit()
            return
        except Exception:
            if attempt == attempts:
                logger.exception("could not write %d events to the event log", len(bodies))
                return
            time.sleep(0.2 * attempt)


@dataclass
class _Cached:
    """One conversation's current session as the database holds it (revealed, as JSON)."""

    last_id: int = 0  # highest event row id of this sender already applied
    events: list[str] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)
    used: float = 0.0
    # The tracker last handed out or saved, while it holds exactly ``events``: handed out again
    # instead of being rebuilt, so what it has worked out (bot.rasa_history) carries over.
    tracker: DialogueStateTracker | None = None
    domain: Any = None
    # Where each user message id's event is in ``events`` (the first, as ``turn_after`` finds).
    user_messages: dict[str, int] = field(default_factory=dict)

    def live_tracker(self, domain: Any) -> DialogueStateTracker | None:
        tracker = self.tracker
        if tracker is None or self.domain is not domain or len(tracker.events) != len(self.events):
            return None
        return tracker

    def append(self, data: dict[str, Any]) -> None:
        """Add one event read back from (or just written to) the database."""
        if data.get("event") == "session_started":
            self.events, self.replacements, self.user_messages = [], {}, {}
        message_id = data.get("message_id") if data.get("event") == "user" else None
        if isinstance(message_id, str):
            self.user_messages.setdefault(message_id, len(self.events))
        self.events.append(json.dumps(data))
        self.replacements.update(known_values([data]))


class PrivateSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that stores and streams protected events (see the module docstring).

    Rasa's own store reads the whole session on every retrieve and reads it twice more on every
    save (to diff for the event broker and to count what is stored), so a turn's cost grows with
    the conversation. This store keeps each recent conversation's session in memory together
    with the highest row id it has applied, and per call asks the database only for rows above
    that id (none, unless another Rasa server wrote them). Rows are only ever appended per
    sender under Rasa's lock store, so this is exact across several servers; a conversation
    whose entry is older than ``CACHE_SECONDS`` or evicted is read in full again.

    The tracker a turn saved is handed to the next turn as it is (not rebuilt from its events)
    while it holds exactly the stored session and the model is the same, so the history it has
    replayed (``bot.rasa_history``) carries over. It lives in this process's memory only, like
    the turn itself; what is stored and streamed is protected as above.
    """

    # A cached conversation of ~14 turns holds ~300 KB (its session's JSON, the live tracker, its
    # replayed history and serialised events): 256 of them ~75 MB (``make bench-load --soak``).
    CACHE_SENDERS = 256
    CACHE_SECONDS = 600.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sqlite_tuned(self)
        if isinstance(self.event_broker, SQLEventBroker):
            sqlite_tuned(self.event_broker)
        self._sessions: OrderedDict[str, _Cached] = OrderedDict()
        # Senders whose turn this server is handling under their lock (``holding``), with their
        # entry brought up to date once in it: nobody else can write their rows meanwhile.
        self._held: dict[str, bool] = {}
        self._writer: ThreadPoolExecutor | None = None
        self._published: Future | None = None

    def _session_of(self, session: Any, sender_id: str) -> _Cached:
        """The sender's current session, brought up to date with the database.

        The entry is taken out of the cache; the caller puts it back (``_keep``) only when
        what it did succeeded."""
        entry = self._sessions.pop(sender_id, None)
        if entry is not None and self._held.get(sender_id):
            return entry  # already read in this turn, under the lock
        if sender_id in self._held:
            self._held[sender_id] = True
        if entry is None or time.monotonic() - entry.used > self.CACHE_SECONDS:
            entry = _Cached()
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        else:
            # Core, not ORM: this runs twice a turn and almost always finds nothing.
            table = self.SQLEvent.__table__
            query = session.execute(
                sa.select(table.c.id, table.c.data)
                .where(table.c.sender_id == sender_id, table.c.id > entry.last_id)
                .order_by(table.c.id)
            )
        for row in query.all():
            entry.append(reveal(json.loads(row.data)))
            entry.last_id = max(entry.last_id, row.id)
            entry.tracker = None  # another server went on with the conversation
        return entry

    @contextlib.contextmanager
    def holding(self, sender_id: str) -> Iterator[None]:
        """While the caller holds ``sender_id``'s conversation lock: the sender's rows are read
        from the database once, not again by every retrieve and save of the turn."""
        self._held[sender_id] = False
        try:
            yield
        finally:
            self._held.pop(sender_id, None)

    def _keep(self, sender_id: str, entry: _Cached) -> None:
        entry.used = time.monotonic()
        self._sessions[sender_id] = entry
        while len(self._sessions) > self.CACHE_SENDERS:
            self._sessions.popitem(last=False)

    def publish(self, sender_id: str, masked: list[dict[str, Any]]) -> Future | None:
        """Stream a turn's events (``masked``: as ``protect(..., seal=False)`` made them) to the
        event broker, if one is configured.

        Rasa's SQL broker commits each event on its own, on the event loop (a fifth of a
        turn's time under load). Here a turn's events go to one writer thread and are written
        in one transaction; the single thread keeps their order. The returned future is done
        when they are written (``save`` awaits it, so the event loop runs other turns
        meanwhile, and a server killed after answering has logged every answered turn). Other
        brokers (RabbitMQ: Rasa's pika broker publishes asynchronously already) get them as
        usual."""
        if self.event_broker is None:
            return None
        bodies = [{"sender_id": sender_id, **data} for data in masked]
        if isinstance(self.event_broker, SQLEventBroker):
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="rasa-events")
            self._published = self._writer.submit(write_events, self.event_broker, bodies)
            return self._published
        for body in bodies:
            self.event_broker.publish(body)
        return None

    def flush_events(self, timeout: float = 30.0) -> None:
        """Wait until every event handed to the SQL broker's writer is written."""
        if self._published is not None:
            self._published.result(timeout)

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            entry = self._session_of(session, sender_id)
            new_events = list(itertools.islice(tracker.events, len(entry.events), None))
            if not new_events:
                self._keep(sender_id, entry)
                return
            replacements = {**entry.replacements, **known_values(new_events)}
            rows, texts, masked = [], [], []
            for event in new_events:
                data, logged = protect_for_store_and_log(event.as_dict(), replacements)
                intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
                text = json.dumps(data)
                rows.append(
                    {
                        "sender_id": sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": intent,
                        "action_name": data.get("name"),
                        "data": text,
                    }
                )
                texts.append(text)
                masked.append(logged)
            # One statement for the turn's events; the sender's highest id is then its last
            # row: rows are appended per sender only under Rasa's lock, by the turn holding it.
            table = self.SQLEvent.__table__
            session.execute(table.insert(), rows)
            last_id = session.execute(
                sa.select(sa.func.max(table.c.id)).where(table.c.sender_id == sender_id)
            ).scalar_one()
            session.commit()
        for text in texts:
            entry.append(reveal(json.loads(text)))
        entry.last_id = max(entry.last_id, last_id)
        entry.tracker, entry.domain = tracker, self.domain
        self._keep(sender_id, entry)
        # Streamed only once stored: a turn whose write fails (or whose server dies first) is
        # handled again on a retry, and the event log must not then hold it twice. Waited for
        # (off the event loop) before the reply, so an answered turn is in the log too.
        logged = self.publish(sender_id, masked)
        if logged is not None:
            await asyncio.wrap_future(logged)

    def stored_turn(self, sender_id: str, message_id: str) -> list[dict[str, Any]] | None:
        """What was stored after the user message ``message_id`` of the sender's current session
        (None if it is not stored), read as ``retrieve`` reads, without building a tracker: a
        retried message is answered from here (``bot.rasa_replay``)."""
        with self.session_scope() as session:
            entry = self._session_of(session, sender_id)
            self._keep(sender_id, entry)
        # Found by its index, and only the turn parsed (a session holds hundreds of events).
        index = entry.user_messages.get(message_id)
        if index is None:
            return None
        return turn_after((json.loads(text) for text in entry.events[index:]), message_id)

    async def log_turn_if_missing(self, sender_id: str, message_id: str) -> bool:
        """A retried message about to be answered from the store (``bot.rasa_replay``): if the
        server that stored its turn died before the turn reached the SQL event log, log it now
        (the store is the record; the log follows it). True when it was logged now. Only the
        SQL log can be asked what it holds; a queue broker (RabbitMQ) is not sent it again."""
        entry = self._sessions.get(sender_id)
        index = entry.user_messages.get(message_id) if entry is not None else None
        if not isinstance(self.event_broker, SQLEventBroker) or index is None:
            return False
        table = self.event_broker.SQLBrokerEvent.__table__
        marker = f'"message_id": {json.dumps(message_id)}'
        with self.event_broker.session_scope() as session:
            logged_before = session.execute(
                sa.select(table.c.id)
                .where(
                    table.c.sender_id == sender_id, table.c.data.contains(marker, autoescape=True)
                )
                .limit(1)
            ).first()
        if logged_before is not None:
            return False
        events = [json.loads(text) for text in entry.events[index:]]
        turn = [events[0], *(turn_after(events, message_id) or [])]  # the message and its turn
        turn = [protect(data, entry.replacements, seal=False) for data in turn]
        logger.warning(
            "turn of message %s of %s was stored but not logged; logging it now",
            message_id,
            sender_id,
        )
        written = self.publish(sender_id, turn)
        if written is not None:
            await asyncio.wrap_future(written)
        return True

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            if fetch_events_from_all_sessions:
                rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=True)
                events = [reveal(json.loads(row.data)) for row in rows.all()]
            else:
                entry = self._session_of(session, sender_id)
                self._keep(sender_id, entry)
                live = entry.live_tracker(self.domain)
                if live is not None:
                    return live
                events = [json.loads(text) for text in entry.events]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if not fetch_events_from_all_sessions:
                entry.tracker, entry.domain = tracker, self.domain
            return tracker
        return None
