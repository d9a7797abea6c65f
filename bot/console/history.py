"""One conversation's history for the console: from the hub, else rebuilt from Rasa's tracker
and the agents' replies kept in the database (the live view and the conversation page share it).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.channels.rasa_client import RasaError
from bot.console.hub import serialise_conversation
from bot.console.kit import HUB, RASA, db_call, local_tz
from bot.console.models import AgentMessage


def _agent_messages(s, sender_id: str, limit: int = 300) -> list[tuple]:
    """Agents' replies kept in console_agent_messages, as ``(epoch ts, agent, text)``."""
    tz = local_tz()
    rows = s.execute(
        select(AgentMessage)
        .where(AgentMessage.sender_id == sender_id)
        .order_by(AgentMessage.created_at.desc(), AgentMessage.id.desc())
        .limit(limit)
    ).scalars()
    return [(r.created_at.replace(tzinfo=tz).timestamp(), r.agent, r.text) for r in rows]


async def conversation_data(app: web.Application, sender_id: str) -> dict | None:
    """The conversation from the hub, or rebuilt from Rasa's tracker when not in memory."""
    hub = app[HUB]
    conv = hub.conversation(sender_id)
    if conv is None or not conv.messages:
        try:
            tracker = await app[RASA].tracker(sender_id)
        except RasaError:
            tracker = None
        if tracker and tracker.get("events"):
            stored = await db_call(app, _agent_messages, sender_id)
            events = [dict(e, sender_id=sender_id) for e in tracker["events"]]
            conv = hub.load_history(sender_id, events, stored)
            conv.paused = bool(tracker.get("paused", conv.paused))
    if conv is None:
        return None
    return serialise_conversation(conv, with_messages=True)
