"""The gateway's HTTP server (aiohttp): WeChat's callback, ``/push`` and ``/health``.

* ``GET <path>`` (default ``/wechat``) — 服务器配置 URL check: a valid signature gets ``echostr``
  back, anything else 403.
* ``POST <path>`` — messages and events. Signature checked first (403, body not parsed), then
  decrypted in compatible/safe mode; the answer is a passive XML reply or ``success``.
* ``POST /push`` — other services (console, action server) send to a user:
  ``Authorization: Bearer <push token>``, body ``{"recipient": "wx-<openid>", "text": …,
  "buttons"?: [{"title", "payload"}]}``. Answers 200 ``{"ok": true, "messages": n}``; 409
  ``{"ok": false, "error": "outside_window" | "unsubscribed" | "never_seen"}`` when WeChat will
  not deliver until the user writes again (the console says to reach them another way); 502 for
  other WeChat errors (``retryable`` says whether a later attempt may work); 401 bad token.
* ``GET /health`` — liveness and counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from wechatpy import parse_message
from wechatpy.replies import TextReply

from bot.channels.push_endpoint import PushRequest, push_handler, refusal
from bot.channels.wechat.api import Unreachable, WeChatApiError
from bot.channels.wechat.envelope import Envelope, Refused
from bot.channels.wechat.push import Pusher, parse_recipient, sender_id
from bot.channels.wechat.relay import Relay
from bot.channels.wechat.rendering import Renderer

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # WeChat's messages are a few KB


def build_http_app(
    *,
    path: str,
    envelope: Envelope,
    relay: Relay,
    renderer: Renderer,
    pusher: Pusher,
    push_token: str,
    stats: Callable[[], dict[str, Any]] = dict,
) -> web.Application:

    async def verify(request: web.Request) -> web.Response:
        try:
            echo = envelope.verify_url(request.query)
        except Refused as exc:
            logger.warning("WeChat URL check refused: %s", exc)
            return web.Response(status=exc.status, text="forbidden")
        return web.Response(text=echo)

    async def receive(request: web.Request) -> web.Response:
        if not envelope.signed(request.query):
            logger.warning("WeChat callback refused: bad signature")
            return web.Response(status=403, text="forbidden")
        body = await request.read()
        try:
            opened = envelope.open(request.query, body)
            message = parse_message(opened.xml)
        except Refused as exc:
            logger.warning("WeChat callback refused: %s", exc)
            return web.Response(status=exc.status, text=str(exc))
        except Exception:  # XML that is not a WeChat message
            return web.Response(status=400, text="bad message")
        if message is None or not getattr(message, "source", None):
            return web.Response(status=400, text="bad message")
        reply = await relay.answer(message)
        if not reply:
            return web.Response(text="success")
        xml = TextReply(message=message, content=reply).render()
        sealed = envelope.seal(xml, opened, request.query)
        return web.Response(text=sealed, content_type="application/xml")

    async def deliver(checked: PushRequest[str]) -> web.Response:
        openid, text, buttons = checked.recipient, checked.text, checked.buttons
        rendered = renderer.plain(text or "", buttons, relay.script_of(openid))
        if not rendered.messages:
            return refusal("nothing to send")
        try:
            sent = await pusher.send(openid, rendered.messages)
        except Unreachable as exc:
            logger.info("push to %s not possible: %s", sender_id(openid), exc.reason)
            return refusal(exc.reason, status=409, retryable=False)
        except WeChatApiError as exc:
            logger.warning("push to %s failed: %s", sender_id(openid), exc)
            return refusal(str(exc), status=502, retryable=exc.retryable)
        if rendered.choices:
            relay.menus.offer(openid, rendered.choices)
        return web.json_response({"ok": True, "messages": sent})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, **stats()})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get(path, verify)
    app.router.add_post(path, receive)
    app.router.add_post(
        "/push",
        push_handler(
            push_token=push_token,
            parse_recipient=parse_recipient,
            recipient_form="wx-<openid>",
            deliver=deliver,
        ),
    )
    app.router.add_get("/health", health)
    return app
