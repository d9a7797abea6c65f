"""A message delivered twice is handled once (runs inside the Rasa process; issue #13).

The one Rasa client (``bot/channels/rasa_client.py``) gives every user message a message id —
the channel's own (Telegram update, WeChat ``MsgId``, web chat) or one it makes per send — and
sends the same id again when it retries, possibly to another Rasa server: the first server may
have died after storing the turn but before answering. Rasa 3.6 only records ``message_id`` on
the ``user`` event and does nothing else with it, so without this a retry stored the message a
second time and ran its actions again (a second booking).

:func:`handle_once` replaces ``Agent.handle_message`` for the REST channel: under the
conversation's lock (Redis in a cluster, so every server sees the same order) it looks the id up
in the stored session; when that ``user`` event is there, the bot messages stored after it are
sent again and nothing runs or is stored; otherwise the message is processed as Rasa would.
Rasa saves a turn in one go at its end (``PrivateSQLTrackerStore.save``: one transaction), so a
turn is either fully stored or not at all: a retry of a turn cut off mid-action runs it anew.
``tests/perf/test_replay.py`` checks that ``Agent.handle_message`` still is "lock, then
``processor.handle_message``", so an upgrade that changes it fails loudly.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, Event

logger = logging.getLogger(__name__)


def turn_after(events: Iterable[dict[str, Any]], message_id: str) -> list[dict[str, Any]] | None:
    """The serialised events stored after the ``user`` event ``message_id``, up to the next
    ``user`` event; None when no such ``user`` event is stored."""
    turn: list[dict[str, Any]] | None = None
    for data in events:
        if data.get("event") == "user":
            if turn is not None:
                break
            if data.get("message_id") == message_id:
                turn = []
        elif turn is not None:
            turn.append(data)
    return turn


def replies(turn: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot messages of a stored turn, as Rasa hands them to an output channel."""
    out = []
    for data in turn:
        if data.get("event") == BotUttered.type_name:
            event = Event.from_parameters(data)
            if isinstance(event, BotUttered):
                out.append(event.message())
    return out


def _innermost(store: Any) -> Any:
    """The project's store inside Rasa's ``AwaitableTrackerStore`` wrapper."""
    seen = 0
    while hasattr(store, "_tracker_store") and seen < 5:
        store, seen = store._tracker_store, seen + 1
    return store


async def stored_turn(store: Any, sender_id: str, message_id: str) -> list[dict] | None:
    """``turn_after`` on the sender's stored session (as the database holds it now)."""
    inner = _innermost(store)
    if hasattr(inner, "stored_turn"):  # PrivateSQLTrackerStore: no tracker is built
        return inner.stored_turn(sender_id, message_id)
    tracker = await store.retrieve(sender_id)
    if tracker is None:
        return None
    return turn_after((event.as_dict() for event in tracker.events), message_id)


def _holding(agent: Any, sender_id: str) -> Any:
    """The store's ``holding`` for the turn (PrivateSQLTrackerStore), else nothing."""
    inner = _innermost(agent.tracker_store)
    return inner.holding(sender_id) if hasattr(inner, "holding") else contextlib.nullcontext()


async def handle_once(agent: Any, message: UserMessage) -> Any:
    """``Agent.handle_message`` that answers a repeated message id from the stored turn."""
    if not agent.is_ready():
        logger.info("Ignoring message as there is no agent to handle it.")
        return None
    async with agent.lock_store.lock(message.sender_id):
        with _holding(agent, message.sender_id):
            turn = await stored_turn(agent.tracker_store, message.sender_id, message.message_id)
            if turn is None:
                return await agent.processor.handle_message(message)
            inner = _innermost(agent.tracker_store)
            if hasattr(inner, "log_turn_if_missing"):  # its server may have died before logging
                await inner.log_turn_if_missing(message.sender_id, message.message_id)
        logger.info(
            "message %s from %s was already handled; its replies are sent again",
            message.message_id,
            message.sender_id,
        )
        for reply in replies(turn):
            await message.output_channel.send_response(message.sender_id, reply)
        return None
