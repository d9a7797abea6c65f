"""Public web chat for veterans (/chat) and the push endpoint for web users (/push).

Browser → POST /chat/api/message → Rasa REST channel (sender ``web-<id kept in the session
cookie>``, metadata channel=web) → replies returned as JSON. Agent replies, reminders and
pushes reach the page over /chat/ws. Limits (ratelimit.py): new chat sessions per IP, messages
and /chat/ws connections per IP and per session, open sockets and ping frames per session, and
messages waiting for Rasa at once; over them, or when Rasa is
down or too slow, the page gets a polite "busy" message instead of an error.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp_session import get_session

from bot.channels.rasa_client import RasaError, RasaTimeout, RasaUnavailable
from bot.console import delivery
from bot.console.kit import (
    CONFIG,
    HUB,
    LIMITER,
    RASA,
    BadInput,
    clean_text,
    client_ip,
    csrf_exempt,
    error,
    json_object,
    json_response,
    public,
    render,
    text_field,
)
from bot.console.ratelimit import SlidingWindow
from bot.console.security import csrf_token, same_origin
from bot.core import inbound

MAX_TEXT = 500
MAX_BODY = 8 * 1024  # 500 Chinese characters are 1.5 KB of UTF-8; room for JSON escapes
BUSY_RETRY = 10  # seconds (Retry-After) when Rasa is overloaded or down
MAX_SOCKETS_PER_SESSION = 4  # open /chat/ws connections of one chat (a few browser tabs)
MAX_FRAMES_PER_MINUTE = 30  # the page pings every 25 s; more is a flood


def new_web_id() -> str:
    return "web-" + secrets.token_hex(12)


async def web_id(request: web.Request, *, create: bool) -> str | None:
    """The web-chat user id kept in the session; ``create`` mints one (limited per client IP).
    Returns None when there is none and none may be minted now."""
    session = await get_session(request)
    value = session.get("web_id")
    if not value and create:
        if not request.app[LIMITER].chat_new_session.hit(client_ip(request)):
            return None
        value = new_web_id()
        session["web_id"] = value
    return value


def _refuse(request: web.Request, status: int, key: str, retry_after: int) -> web.Response:
    response = error(request, status, key)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _too_many_chats(request: web.Request) -> web.Response:
    ip = client_ip(request)
    window = request.app[LIMITER].chat_new_session
    return _refuse(request, 429, "too_many_chats", window.retry_after(ip))


def normalise_reply(reply: dict) -> dict:
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", b.get("title", "")))}
        for b in reply.get("buttons") or []
        if isinstance(b, dict)
    ]
    out = {"text": reply.get("text") or "", "buttons": buttons}
    if reply.get("image"):
        out["image"] = reply["image"]
    return out


@public
async def chat_page(request: web.Request) -> web.Response:
    if await web_id(request, create=True) is None:
        return _too_many_chats(request)
    session = await get_session(request)
    return render(request, "chat.html", {"csrf_token": csrf_token(session)})


@public
async def chat_message(request: web.Request) -> web.Response:
    """One user message → Rasa's replies. Every failure is a JSON ``{"error", "message"}`` whose
    message the page shows: 400 bad input, 429 too fast, 503 busy (Rasa down or too slow)."""
    limits, ip = request.app[LIMITER], client_ip(request)
    sender = await web_id(request, create=True)
    if sender is None:
        return _too_many_chats(request)
    for window, key in ((limits.chat_ip, ip), (limits.chat_session, sender)):
        if not window.hit(key):
            return _refuse(request, 429, "chat_rate_limited", window.retry_after(key))
    try:
        body = await json_object(request, MAX_BODY)
        text = text_field(body, "text")
    except BadInput:
        return error(request, 400, "bad_request")
    if not text:
        return error(request, 400, "empty_message")
    if len(text) > MAX_TEXT:
        return error(request, 400, "chat_too_long", limit=MAX_TEXT)
    if not await limits.rasa_inflight.acquire():
        return _refuse(request, 503, "busy", BUSY_RETRY)
    try:
        # The page's id for this message: a resend of it is answered, not handled twice.
        page_id = body.get("id")
        message_id = inbound.message_id(f"web:{page_id}") if isinstance(page_id, str) else None
        replies = await request.app[RASA].send(
            sender, text, {"channel": "web"}, message_id=message_id
        )
    except RasaTimeout:  # Rasa may still act on it: say so rather than invite a blind resend
        return _refuse(request, 503, "busy_timeout", BUSY_RETRY)
    except RasaUnavailable:
        return _refuse(request, 503, "busy", BUSY_RETRY)
    except RasaError:
        return error(request, 502, "rasa_unavailable")
    finally:
        limits.rasa_inflight.release()
    return json_response({"messages": [normalise_reply(r) for r in replies if isinstance(r, dict)]})


@public
async def chat_ws(request: web.Request) -> web.StreamResponse:
    sender = await web_id(request, create=False)
    if not sender:
        return error(request, 401, "unauthorized")
    if not same_origin(request):
        return error(request, 403, "forbidden")
    limits, ip, hub = request.app[LIMITER], client_ip(request), request.app[HUB]
    for window, key in ((limits.chat_ws_ip, ip), (limits.chat_ws_session, sender)):
        if not window.hit(key):
            return _refuse(request, 429, "chat_rate_limited", window.retry_after(key))
    open_sockets = [ws for ws in hub.web_sockets.get(sender, ()) if not ws.closed]
    if limits.chat_ws_session.enabled and len(open_sockets) >= MAX_SOCKETS_PER_SESSION:
        return _refuse(request, 429, "chat_rate_limited", BUSY_RETRY)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1024)
    await ws.prepare(request)
    # frames from the page are only keep-alive pings: a flood of them closes the socket
    frames = SlidingWindow(MAX_FRAMES_PER_MINUTE, 60.0, enabled=limits.chat_ws_session.enabled)
    hub.add_web_socket(sender, ws)
    try:
        await ws.send_json({"type": "hello"})
        await delivery.flush_outbox(request.app, sender)
        async for msg in ws:
            if not frames.hit("ws"):
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                break
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str("pong")
    finally:
        hub.remove_web_socket(sender, ws)
    return ws


@public
@csrf_exempt
async def push(request: web.Request) -> web.Response:
    """POST /push — ``Authorization: Bearer <push token>``, ``{"recipient": "web-…", "text": "…",
    "buttons"?: [{"title", "payload"}]}``; mirrors the Telegram gateway's endpoint. An offline
    user gets the text from the outbox when the chat page connects again (buttons are dropped)."""
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    expected = request.app[CONFIG].push_token
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        supplied.strip().encode(), expected.encode()
    ):
        return json_response({"ok": False, "error": "unauthorized"}, status=401)
    try:
        body = await json_object(request)
    except BadInput:
        return json_response({"ok": False, "error": "body must be a JSON object"}, status=400)
    recipient, text, buttons = body.get("recipient"), body.get("text"), body.get("buttons")
    if not isinstance(recipient, str) or not recipient.startswith("web-"):
        return json_response({"ok": False, "error": "recipient must be web-<id>"}, status=400)
    if text is not None and not isinstance(text, str):
        return json_response({"ok": False, "error": "text must be a string"}, status=400)
    if buttons is not None and not isinstance(buttons, list):
        return json_response({"ok": False, "error": "buttons must be a list"}, status=400)
    text = clean_text(text or "")
    if not text and not buttons:
        return json_response({"ok": False, "error": "nothing to send"}, status=400)
    buttons = normalise_reply({"buttons": buttons})["buttons"]
    status = await delivery.deliver_web(
        request.app, recipient, (text or "").strip(), source="bot", buttons=buttons
    )
    return json_response({"ok": True, "status": status})


def setup(app: web.Application) -> None:
    app.router.add_get("/chat", chat_page, name="chat")
    app.router.add_post("/chat/api/message", chat_message)
    app.router.add_get("/chat/ws", chat_ws)
    app.router.add_post("/push", push)
