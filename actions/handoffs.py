"""Queueing a conversation for a human agent: crisis, a request for a human, repeated misses."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.core import agent_assist, clock, handoff, presence
from bot.core.db import session_scope


def question_of(tracker: Tracker) -> str:
    """What the queue shows: the veteran's question in their words (the message before a bare
    "转人工", or the part of "转人工吧，我想问…" after the trigger), else the latest message."""
    turns = agent_assist.turns_from_events(tracker.events)
    return agent_assist.the_question(turns) or tracker.latest_message.get("text") or ""


def record_handoff(tracker: Tracker, reason: str) -> bool:
    """Queue the conversation for an agent; True if it was newly queued."""
    with session_scope() as session:
        already = handoff.get_open(session, tracker.sender_id) is not None
        handoff.request(session, tracker.sender_id, reason, question_of(tracker), now=clock.now())
    return not already


def agent_available() -> bool:
    """An agent is online now (False when that cannot be read: promise nothing)."""
    try:
        with session_scope() as session:
            return presence.available(session, clock.now())
    except Exception:
        return False
