"""Getting a text to a user: web-chat sockets, the outbox, and the Telegram gateway's /push.

* ``deliver_web``: an open ``/chat/ws`` socket gets it now; otherwise it becomes an outbox row
  (kind ``push``) that ``outbox_loop`` hands over as soon as the user connects again.
* ``outbox_loop``: every ``outbox_interval`` seconds claims due outbox rows for each connected
  web user (prefix = that user's full sender id) and delivers them (reminders included).
* ``send_to_user``: agent replies — ``tg-`` and ``wx-`` via their gateway's /push (outbox on
  failure so the gateway's own outbox worker retries), ``web-`` via ``deliver_web``. WeChat
  refuses pushes 48 hours after the user's last message (gateway answers 409): the agent is
  told to reach the user another way (UNREACHABLE) instead of queueing.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from bot.console.hub import channel_of
from bot.console.kit import CONFIG, ENGINE, HUB, db_call, http_session, now
from bot.core import outbox
from bot.core.outbox_delivery import DeliveryFailed, OutboxDelivery

logger = logging.getLogger(__name__)

DELIVERED, QUEUED, PUSHED, FAILED = "delivered", "queued", "pushed", "failed"
UNREACHABLE = "unreachable"


def _payload(text: str, source: str, buttons: list | None = None) -> dict:
    return {"type": "message", "from": source, "text": text, "buttons": buttons or []}


async def deliver_web(
    app: web.Application,
    recipient: str,
    text: str,
    *,
    source: str = "agent",
    kind: str = "push",
    buttons: list | None = None,
) -> str:
    if await app[HUB].send_web(recipient, _payload(text, source, buttons)):
        return DELIVERED
    due = now(app)
    await db_call(app, lambda s: outbox.enqueue(s, recipient, text, due_at=due, kind=kind))
    return QUEUED


async def flush_outbox(app: web.Application, sender_id: str) -> int:
    """Deliver every due outbox row for one connected web user; returns how many were sent."""
    hub = app[HUB]
    if not hub.web_connected(sender_id):
        return 0

    async def send(recipient: str, text: str) -> None:
        if not await hub.send_web(recipient, _payload(text, "bot")):
            raise DeliveryFailed("web user not connected")

    delivery = OutboxDelivery(send, prefix=sender_id, engine=app[ENGINE], now=lambda: now(app))
    sent, _failed = await delivery.deliver_due()
    return sent


async def outbox_loop(app: web.Application) -> None:
    interval = app[CONFIG].outbox_interval
    while True:
        for sender_id in app[HUB].connected_web_ids():
            try:
                await flush_outbox(app, sender_id)
            except Exception:
                logger.exception("console: outbox delivery failed")
        await asyncio.sleep(interval)


async def _gateway_status(
    app: web.Application, push_url: str, recipient: str, text: str, timeout: float
) -> int | None:
    """POST the text to a gateway's /push; its HTTP status, or None when it did not answer."""
    try:
        async with http_session(app).post(
            push_url,
            json={"recipient": recipient, "text": text},
            headers={"Authorization": f"Bearer {app[CONFIG].push_token}"},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            return resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None


async def push_telegram(app: web.Application, recipient: str, text: str) -> bool:
    status = await _gateway_status(app, app[CONFIG].telegram_push_url, recipient, text, 10)
    return status is not None and 200 <= status < 300


async def push_wechat(app: web.Application, recipient: str, text: str) -> str:
    """PUSHED, UNREACHABLE (the gateway's 409: outside the 48-hour window) or FAILED."""
    status = await _gateway_status(app, app[CONFIG].wechat_push_url, recipient, text, 15)
    if status is not None and 200 <= status < 300:
        return PUSHED
    return UNREACHABLE if status == 409 else FAILED


async def send_to_user(app: web.Application, sender_id: str, text: str) -> str:
    """Deliver an agent's text on the user's own channel; returns a delivery status."""
    channel = channel_of(sender_id)
    if channel == "web":
        return await deliver_web(app, sender_id, text, source="agent")
    if channel == "tg":
        if await push_telegram(app, sender_id, text):
            return PUSHED
        due = now(app)
        await db_call(app, lambda s: outbox.enqueue(s, sender_id, text, due_at=due, kind="push"))
        return QUEUED
    if channel == "wx":
        status = await push_wechat(app, sender_id, text)
        if status != FAILED:
            return status
        due = now(app)
        await db_call(app, lambda s: outbox.enqueue(s, sender_id, text, due_at=due, kind="push"))
        return QUEUED
    return FAILED
