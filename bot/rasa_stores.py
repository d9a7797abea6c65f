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
validators still see exactly what the user typed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, TrackerEventDiffEngine
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.core import people

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
    return scrub(data, replacements)


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


class PrivateSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that stores and streams protected events (see the module docstring)."""

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return None
        old_tracker = await self.retrieve(tracker.sender_id)
        new_events = TrackerEventDiffEngine.event_difference(old_tracker, tracker)
        replacements = known_values(tracker.events)
        for event in new_events:
            body = {"sender_id": tracker.sender_id}
            body.update(protect(event.as_dict(), replacements, seal=False))
            self.event_broker.publish(body)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        replacements = known_values(tracker.events)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = protect(event.as_dict(), replacements, seal=True)
                intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [reveal(json.loads(row.data)) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None
