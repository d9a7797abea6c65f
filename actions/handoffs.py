"""Queueing a conversation for a human agent: crisis, a request for a human, repeated misses."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.core import clock, handoff
from bot.core.db import session_scope


def record_handoff(tracker: Tracker, reason: str) -> bool:
    """Queue the conversation for an agent; True if it was newly queued."""
    with session_scope() as session:
        already = handoff.get_open(session, tracker.sender_id) is not None
        handoff.request(
            session,
            tracker.sender_id,
            reason,
            tracker.latest_message.get("text") or "",
            now=clock.now(),
        )
    return not already
