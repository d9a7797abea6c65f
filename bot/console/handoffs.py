"""The console side of handoff: queue snapshots, take-over (pause Rasa) and hand-back (resume).

The queue itself is ``bot.core.handoff`` (one source of truth, also written by the
Rasa actions). The hub adds requests for conversations it sees asking for a human, in crisis, or
falling back twice (``on_trigger``), unless one is already open for that sender.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from aiohttp import web

from bot.channels.rasa_client import RasaError
from bot.console.hub import channel_of
from bot.console.kit import CONFIG, HUB, RASA, STATE, db_call, now
from bot.console.texts import t
from bot.core import agent_assist, handoff, people, presence

logger = logging.getLogger(__name__)


class HandoffError(RuntimeError):
    """Carries a messages.yml ``errors.<code>`` key."""

    def __init__(self, code: str, status: int = 409):
        super().__init__(code)
        self.code = code
        self.status = status


ERROR_CODES = {  # handoff.HandoffError.code → (messages.yml errors.<key>, HTTP status)
    "not_found": ("not_found", 404),
    "already_taken": ("already_taken", 409),
    "closed": ("handoff_closed", 409),
    "not_owner": ("not_your_handoff", 403),
    "bad_reason": ("bad_request", 400),
}


def _translate(exc: handoff.HandoffError) -> HandoffError:
    code, status = ERROR_CODES.get(exc.code, ("bad_request", 400))
    return HandoffError(code, status)


def serialise(item: handoff.HandoffRequest, moment: datetime | None = None) -> dict:
    created = item.created_at
    waited = None
    if created is not None and moment is not None:
        waited = max(0, int((moment - created).total_seconds() // 60))
    channel = channel_of(item.sender_id)
    return {
        "id": item.id,
        "sender_id": item.sender_id,
        "channel": channel,
        "channel_label": t(f"channels.{channel}"),
        "reason": item.reason,
        "reason_label": t(f"reasons.{item.reason}", item.reason),
        "text": people.mask_text(item.first_text or ""),  # stored masked already; mask again anyway
        "status": item.status,
        "status_label": t(f"handoff_status.{item.status}", item.status),
        "agent": item.agent,
        "taken": item.status == handoff.ACTIVE,
        "created": _when(created, moment),
        "waited_minutes": waited,
    }


def _when(created: datetime | None, moment: datetime | None) -> str:
    """HH:MM today, MM-DD HH:MM on another day (a stale request shows its date)."""
    if created is None:
        return ""
    if moment is not None and created.date() == moment.date():
        return created.strftime("%H:%M")
    return created.strftime("%m-%d %H:%M")


def snapshot(s, moment: datetime) -> list[dict]:
    """Waiting and active requests: crisis first, then by priority and age (handoff.queue order)."""
    return [serialise(h, moment) for h in handoff.queue(s, include_active=True)]


def open_for(s, sender_id: str, moment: datetime) -> dict | None:
    item = handoff.get_open(s, sender_id)
    return serialise(item, moment) if item is not None else None


async def queue_items(app: web.Application) -> list[dict]:
    moment = now(app)
    return await db_call(app, snapshot, moment)


async def publish_queue(app: web.Application, items: list[dict] | None = None) -> list[dict]:
    """Broadcast the queue to agents when it changed; ``alert`` lists new crisis requests."""
    items = items if items is not None else await queue_items(app)
    signature = [(i["id"], i["status"], i["agent"]) for i in items]
    previous = app[STATE].get("last_queue")
    if previous is not None and previous["signature"] == signature:
        return items
    known = previous["ids"] if previous is not None else set()
    alert = [
        i["id"]
        for i in items
        if i["reason"] == "crisis" and i["id"] not in known and not i["taken"]
    ]
    app[STATE]["last_queue"] = {"signature": signature, "ids": {i["id"] for i in items}}
    await app[HUB].broadcast({"type": "queue", "items": items, "alert": alert})
    return items


async def mark_agents_seen(app: web.Application) -> None:
    """Agents with an open console page are there: refresh their presence (the bot reads it)."""
    from sqlalchemy import select

    from bot.console.models import ConsoleUser
    from bot.console.security import agent_sockets

    ids = [uid for uid, sockets in agent_sockets(app).items() if any(not w.closed for w in sockets)]
    if not ids:
        return
    moment = now(app)

    def touch(s):
        names = s.execute(select(ConsoleUser.username).where(ConsoleUser.id.in_(ids))).scalars()
        presence.seen(s, list(names), moment)

    await db_call(app, touch)


async def queue_watch_loop(app: web.Application) -> None:
    """Requests also come from the action server, so poll the queue and push changes to agents."""
    interval = app[CONFIG].queue_interval
    while True:
        try:
            await publish_queue(app)
            await mark_agents_seen(app)
        except Exception:
            logger.exception("console: queue refresh failed")
        await asyncio.sleep(interval)


async def tell_veteran(app: web.Application, sender_id: str, agent: str, key: str) -> None:
    """Tell the veteran a person joined / left (agent_assist.yml ``notices``); never fails the
    take-over or hand-back."""
    from bot.console import delivery

    text = agent_assist.notice(key)
    if not text or channel_of(sender_id) == "other":
        return
    try:
        status = await delivery.send_to_user(app, sender_id, text)
        await app[HUB].add_agent_message(sender_id, agent, text, status)
    except Exception:
        logger.warning("console: could not tell %s that an agent %s", sender_id, key)


async def on_trigger(app: web.Application, sender_id: str, reason: str, text: str) -> None:
    """The hub saw a crisis / request for a human / two fallbacks: make sure a request is open.

    ``handoff.request`` is idempotent per sender (and upgrades to crisis), so a request the
    action server already opened for the same turn is not duplicated.
    """
    moment = now(app)
    await db_call(app, lambda s: handoff.request(s, sender_id, reason, text, moment) and None)
    await publish_queue(app)


async def take(app: web.Application, handoff_id: int, agent: str) -> dict:
    """Claim the request, then pause Rasa; if Rasa cannot be paused the claim is undone."""
    moment = now(app)

    def claim(s):
        try:
            return serialise(handoff.take(s, handoff_id, agent, moment), moment)
        except handoff.HandoffError as exc:
            raise _translate(exc) from exc

    item = await db_call(app, claim)
    try:
        await app[RASA].pause(item["sender_id"])
    except RasaError as exc:
        logger.warning("console: pausing Rasa failed for handoff %s", handoff_id)

        def undo(s):
            found = handoff.get(s, handoff_id)
            found.status, found.agent, found.taken_at = handoff.WAITING, None, None

        await db_call(app, undo)
        await publish_queue(app)
        raise HandoffError("pause_failed", 502) from exc
    await publish_queue(app)
    await tell_veteran(app, item["sender_id"], agent, "joined")
    return item


async def release(
    app: web.Application, handoff_id: int, agent: str, sender_id: str, *, force: bool = False
) -> None:
    """Resume Rasa first (the bot must answer again), then close the request."""
    try:
        await app[RASA].resume(sender_id)
    except RasaError as exc:
        raise HandoffError("resume_failed", 502) from exc

    def close(s):
        try:
            handoff.release(s, handoff_id, agent, now(app), force=force)
        except handoff.HandoffError as exc:
            raise _translate(exc) from exc

    await db_call(app, close)
    await publish_queue(app)
    await tell_veteran(app, sender_id, agent, "left")


async def close_stale(app: web.Application, hours: int, reason: str, agent: str) -> int:
    """Close waiting (non-crisis) requests older than ``hours`` with ``reason``; how many."""
    moment = now(app)

    def close(s):
        try:
            found = handoff.close_stale(s, moment - timedelta(hours=hours), reason, agent, moment)
        except handoff.HandoffError as exc:
            raise _translate(exc) from exc
        return len(found)

    count = await db_call(app, close)
    await publish_queue(app)
    return count


async def transfer(
    app: web.Application, handoff_id: int, agent: str, to_agent: str, *, force: bool = False
) -> dict:
    """Give an active request to another active console user (Rasa stays paused)."""
    from sqlalchemy import select

    from bot.console.models import ConsoleUser

    moment = now(app)

    def move(s):
        target = s.execute(
            select(ConsoleUser).where(
                ConsoleUser.username == to_agent, ConsoleUser.active.is_(True)
            )
        ).scalar_one_or_none()
        if target is None or to_agent == agent:
            raise HandoffError("transfer_target", 400)
        try:
            return serialise(
                handoff.transfer(s, handoff_id, agent, to_agent, moment, force), moment
            )
        except handoff.HandoffError as exc:
            raise _translate(exc) from exc

    item = await db_call(app, move)
    await publish_queue(app)
    return item
