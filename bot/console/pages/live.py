"""Live conversations (from Rasa's event stream) and the agents' websocket /ws."""

from __future__ import annotations

from aiohttp import WSMsgType, web

from bot.console import handoffs
from bot.console.history import conversation_data
from bot.console.kit import HUB, current_user, error, json_response, register_nav, render
from bot.console.security import agent_sockets, same_origin


async def live_page(request: web.Request) -> web.Response:
    return render(request, "live.html", {"conversations": request.app[HUB].summaries()})


async def api_conversations(request: web.Request) -> web.Response:
    return json_response({"conversations": request.app[HUB].summaries()})


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
        await ws.send_json(
            {
                "type": "hello",
                "conversations": hub.summaries(),
                "queue": await handoffs.queue_items(request.app),
            }
        )
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
