"""Live conversations (from Rasa's event stream) and the agents' websocket /ws."""
from __future__ import annotations

from aiohttp import WSMsgType, web

from sqlalchemy import select

from bot.console import handoffs
from bot.console.models import AgentMessage
from bot.console.kit import (
    HUB, RASA, current_user, db_call, error, json_response, local_tz, register_nav, render,
)
from bot.console.hub import serialise_conversation
from bot.channels.rasa_client import RasaError
from bot.console.security import agent_sockets, same_origin


async def live_page(request: web.Request) -> web.Response:
    return render(request, "live.html", {"conversations": request.app[HUB].summaries()})


async def api_conversations(request: web.Request) -> web.Response:
    return json_response({"conversations": request.app[HUB].summaries()})


def _agent_messages(s, sender_id: str, limit: int = 300) -> list[tuple]:
    """Agents' replies kept in console_agent_messages, as ``(epoch ts, agent, text)``."""
    tz = local_tz()
    rows = s.execute(
        select(AgentMessage).where(AgentMessage.sender_id == sender_id)
        .order_by(AgentMessage.created_at.desc(), AgentMessage.id.desc()).limit(limit)
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
            conv = hub.load_history(sender_id, [dict(e, sender_id=sender_id) for e in tracker["events"]], stored)
            conv.paused = bool(tracker.get("paused", conv.paused))
    if conv is None:
        return None
    return serialise_conversation(conv, with_messages=True)


async def api_conversation(request: web.Request) -> web.Response:
    data = await conversation_data(request.app, request.match_info["sender_id"])
    if data is None:
        return error(request, 404, "not_found")
    return json_response(data)


async def agent_ws(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        return error(request, 403, "forbidden")
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    hub = request.app[HUB]
    hub.agent_sockets.add(ws)
    mine = agent_sockets(request.app).setdefault(current_user(request).id, set())
    mine.add(ws)  # closed when this user logs out or is deactivated
    try:
        await ws.send_json({
            "type": "hello",
            "conversations": hub.summaries(),
            "queue": await handoffs.queue_items(request.app),
        })
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str("pong")
    finally:
        hub.agent_sockets.discard(ws)
        mine.discard(ws)
    return ws


def setup(app: web.Application) -> None:
    app.router.add_get("/live", live_page, name="live")
    app.router.add_get("/ws", agent_ws)
    app.router.add_get("/api/conversations", api_conversations)
    app.router.add_get("/api/conversations/{sender_id}", api_conversation)
    register_nav(app, "/live", "nav.live", order=10)
