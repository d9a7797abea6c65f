"""Queueing a conversation for a human agent: crisis, a request for a human, repeated misses.

A crisis reply must never wait on the database (a SQLite write lock held by a booking under load
kept the medical emergency reply waiting 12.9 s): ``record_handoff_later`` writes the request
on a worker thread and returns at once; the reply goes out while the row is written. Writes that
fail are retried a few times and logged; the console's hub also opens a request when it sees a
crisis message, so the alert does not hang on this one write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from rasa_sdk import Tracker

from bot.core import agent_assist, clock, handoff, presence
from bot.core.db import session_scope

logger = logging.getLogger(__name__)

RETRIES = 3
RETRY_PAUSE = 0.5  # seconds between attempts (on the worker thread, never on a reply)

# One small pool: requests are written in order, off the event loop.
_writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="handoff")
_pending: set[Future] = set()


def record(sender_id: str, reason: str, text: str | None) -> bool:
    """Queue the conversation for an agent; True if it was newly queued."""
    with session_scope() as session:
        already = handoff.get_open(session, sender_id) is not None
        handoff.request(session, sender_id, reason, text or "", now=clock.now())
    return not already


def question_of(tracker: Tracker) -> str:
    """What the queue shows: the veteran's question in their words (the message before a bare
    "转人工", or the part of "转人工吧，我想问…" after the trigger), else the latest message."""
    turns = agent_assist.turns_from_events(tracker.events)
    return agent_assist.the_question(turns) or tracker.latest_message.get("text") or ""


def record_handoff(tracker: Tracker, reason: str) -> bool:
    """Queue the conversation for an agent now (the caller waits); True if newly queued."""
    return record(tracker.sender_id, reason, question_of(tracker))


def _record_with_retries(sender_id: str, reason: str, text: str | None) -> bool:
    for attempt in range(1, RETRIES + 1):
        try:
            return record(sender_id, reason, text)
        except Exception:
            if attempt == RETRIES:
                logger.exception("could not queue %s handoff for %s", reason, sender_id)
                raise
            time.sleep(RETRY_PAUSE * attempt)
    return False  # pragma: no cover - the loop returns or raises


def record_handoff_later(tracker: Tracker, reason: str) -> Future:
    """Queue the conversation for an agent on a worker thread; returns at once."""
    future = _writer.submit(_record_with_retries, tracker.sender_id, reason, question_of(tracker))
    _pending.add(future)
    future.add_done_callback(_pending.discard)
    return future


async def settle() -> None:
    """Wait until every queued write has finished (tests, shutdown)."""
    waiting = list(_pending)
    if waiting:
        await asyncio.gather(*(asyncio.wrap_future(f) for f in waiting), return_exceptions=True)


def agent_available() -> bool:
    """An agent is online now (False when that cannot be read: promise nothing)."""
    try:
        with session_scope() as session:
            return presence.available(session, clock.now())
    except Exception:
        return False
