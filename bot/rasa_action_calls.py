"""The body of a custom action call, built for speed (installed by ``bot.rasa_speedups``).

Every custom action call carries the conversation (``RemoteAction._action_call_format``:
``as_dict`` of every event, then ``json.dumps`` of it all) and the domain. What is built here
decodes to what Rasa sends, except that a long conversation's oldest events are left out:

* **Each past event serialised once.** Its JSON is kept on the event; the current turn's events
  (from its ``user`` message on, which Rasa can still change, e.g. ``EntitiesAdded``) are
  serialised afresh each call.
* **The domain encoded once per loaded domain** (67 KB, built with ``as_dict`` and encoded on
  every call otherwise).
* **UTF-8 rather than ``\\u`` escapes**: a conversation's call is ~45 % smaller and decodes ~3
  times faster on the action server.
* **The last ``WINDOW_TURNS`` user turns.** The action server decodes the whole body on every
  call: ~10 ms at 120 turns (1,269 events, 575 KB), several calls a turn — what made a long
  conversation's turns slower. The actions read the current slots (sent in full, as always),
  the latest message, and events of the last few turns (the topic just discussed, repeated
  misunderstandings, the script of recent messages, a handoff's question, what this message
  changed). Older events are replaced by the last ``slot`` event of each slot before the window
  (after the session's last reset, which is kept too), so "what did this slot hold before"
  still has its answer. ``tests/actions`` check those readers on windowed and full trackers.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

# User turns of the conversation sent to the action server (with the current one).
WINDOW_TURNS = 20
# Events after which earlier slot events no longer hold (Rasa resets slots there).
_RESETS = ("session_started", "restart", "reset_slots")

_FRAGMENT = "_rj_json"


class Encoded:
    """A part of an action call already encoded as JSON text (the tracker's events, the domain),
    for ``encoded_action_call`` to splice in (plain ``json.dumps`` of a body holding one raises
    TypeError: it is never sent as something else)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _event_json(event: Any, past: bool) -> str:
    """``json.dumps(event.as_dict())``, kept on past events (a ``user`` event with its entity
    count, since Rasa appends entities to the latest message in place)."""
    stamp = len(getattr(event, "entities", ()) or ())
    kept = event.__dict__.get(_FRAGMENT)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    text = json.dumps(event.as_dict(), ensure_ascii=False)
    if past:
        event.__dict__[_FRAGMENT] = (stamp, text)
    return text


def window(events: list[Any], turns: int = WINDOW_TURNS) -> tuple[list[Any], int]:
    """(the events to send, the index in them of the current turn's ``user`` event, or their
    length when there is none): the last ``turns`` user turns, preceded — when older events
    are left out — by the last reset before them and each slot's last event since."""
    from rasa.shared.core.events import SlotSet, UserUttered

    users = [index for index, event in enumerate(events) if isinstance(event, UserUttered)]
    if len(users) <= turns:
        return events, (users[-1] if users else len(events))
    start = users[-turns]
    kept: dict[str, Any] = {}
    reset = None
    for event in reversed(events[:start]):
        if event.type_name in _RESETS:
            reset = event
            break
        if isinstance(event, SlotSet) and event.key not in kept:
            kept[event.key] = event
    prefix = ([reset] if reset is not None else []) + list(reversed(kept.values()))
    return prefix + events[start:], len(prefix) + users[-1] - start


def events_json(tracker: Any) -> Encoded:
    sent, current = window(list(tracker.events))
    parts = [_event_json(event, index < current) for index, event in enumerate(sent)]
    return Encoded("[" + ",".join(parts) + "]")


def domain_json(domain: Any) -> Encoded:
    """``json.dumps(domain.as_dict())``, once per domain (Rasa never changes a loaded domain;
    a new model brings a new one): 67 KB encoded on every action call otherwise."""
    kept = domain.__dict__.get(_FRAGMENT)
    if kept is None:
        kept = domain.__dict__[_FRAGMENT] = Encoded(
            json.dumps(domain.as_dict(), ensure_ascii=False)
        )
    return kept


def action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """Drop-in for ``RemoteAction._action_call_format`` with the events and the domain
    ``Encoded``."""
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = events_json(tracker)
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    ):
        result["domain"] = domain_json(domain)
    return result


_SLOT = f"rj-encoded-{secrets.token_hex(16)}"


def has_encoded(body: dict[str, Any]) -> bool:
    tracker = body.get("tracker")
    events = tracker.get("events") if isinstance(tracker, dict) else None
    return isinstance(events, Encoded) or isinstance(body.get("domain"), Encoded)


def encoded_action_call(body: dict[str, Any]) -> bytes:
    """The JSON bytes of an action call with ``Encoded`` events and domain spliced in."""
    shallow = dict(body)
    parts: list[tuple[str, str]] = []
    tracker = body.get("tracker")
    if isinstance(tracker, dict) and isinstance(tracker.get("events"), Encoded):
        shallow["tracker"] = {**tracker, "events": f"{_SLOT}-events"}
        parts.append((f"{_SLOT}-events", tracker["events"].text))
    if isinstance(body.get("domain"), Encoded):
        shallow["domain"] = f"{_SLOT}-domain"
        parts.append((f"{_SLOT}-domain", body["domain"].text))
    text = json.dumps(shallow, ensure_ascii=False)
    for slot, part in parts:
        text = text.replace(json.dumps(slot), part, 1)
    return text.encode()
