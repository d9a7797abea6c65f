"""The gateway's own HTTP server (aiohttp): Telegram webhook, ``/push`` and ``/health``.

* ``POST <webhook path>`` — updates from Telegram (webhook mode). Telegram sends the
  ``secret_token`` given to setWebhook in ``X-Telegram-Bot-Api-Secret-Token`` on every request;
  a missing or wrong header gets 403 and the body is not even read. In polling mode no secret is
  configured, so the route refuses everything.
* ``POST /push`` — other services (action server, console) send a message to a chat:
  ``Authorization: Bearer <push token>``, body ``{"recipient": "tg-<chat_id>", "text": ...,
  "buttons"?: [{"title", "payload"}]}``. Wrong token → 401.
* ``GET /health`` — liveness plus a few counters, for monitoring.

Secrets are compared in constant time (:mod:`bot.channels.push_endpoint`). The
server listens on 127.0.0.1 by default; in production a TLS reverse proxy forwards the webhook.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.push_endpoint import PushRequest, push_handler, refusal, same_secret
from bot.channels.telegram.rendering import Renderer

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RECIPIENT_RE = re.compile(r"^tg-(-?\d{1,20})$")


def parse_recipient(recipient: Any) -> int | None:
    """``tg-<chat_id>`` → chat id (negative for groups); None for anything else."""
    match = RECIPIENT_RE.match(recipient) if isinstance(recipient, str) else None
    return int(match.group(1)) if match else None


def build_http_app(
    *,
    application: Any,
    renderer: Renderer,
    push_token: str,
    webhook_path: str,
    webhook_secret: str | None,
    stats: Callable[[], dict[str, Any]] = dict,
) -> web.Application:
    """The aiohttp application; ``application`` is the PTB Application receiving updates."""

    async def webhook(request: web.Request) -> web.Response:
        if not same_secret(request.headers.get(SECRET_HEADER), webhook_secret):
            logger.warning("webhook request refused: missing or wrong secret token")
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except Exception:  # malformed JSON or not an Update
            return web.Response(status=400, text="bad update")
        if update is None:
            return web.Response(status=400, text="bad update")
        # Answer Telegram at once; the Application processes the queue in the background.
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def deliver(checked: PushRequest[int]) -> web.Response:
        chat_id, text, buttons = checked.recipient, checked.text, checked.buttons
        if not (text and text.strip()) and not buttons:
            return refusal("nothing to send")
        try:
            sent = await renderer.send_text(chat_id, text or "", buttons)
        except TelegramError as exc:
            retryable = isinstance(exc, (NetworkError, TimedOut, RetryAfter)) and not isinstance(
                exc, BadRequest
            )
            status = 410 if isinstance(exc, Forbidden) else 502
            logger.warning("push to %s failed: %s", chat_id, exc)
            return refusal(str(exc), status=status, retryable=retryable)
        return web.json_response({"ok": True, "messages": sent})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, **stats()})

    app = web.Application(client_max_size=256 * 1024)
    app.router.add_post(webhook_path, webhook)
    app.router.add_post(
        "/push",
        push_handler(
            push_token=push_token,
            parse_recipient=parse_recipient,
            recipient_form="tg-<chat_id>",
            deliver=deliver,
        ),
    )
    app.router.add_get("/health", health)
    return app
