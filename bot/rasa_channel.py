"""Rasa's REST channel with the inbound limits of ``bot.core.inbound`` in front of the NLU.

Configured in credentials.yml as ``bot.rasa_channel.LimitedRestInput`` (its name stays
``rest``, so the URL stays /webhooks/rest/webhook). Every message is cleaned of surrogates and
control characters; a message longer than RJ_MAX_MESSAGE_CHARS or one over the sender's rate
limit is answered politely here and never reaches the NLU, the tracker store or the logs.
The rate limit counts per sender, never per IP: every gateway reaches Rasa from one address.
A turn runs to its end even when the caller disconnects (see ``guard``).

The body may carry a ``message_id`` (the one Rasa client always sends one): a second delivery of
the same (sender, message id) — a retry after a server died mid-turn — is answered with the first
delivery's stored replies instead of being stored and run again (``bot.rasa_replay``). The
route is this channel's own (Rasa's ``RestInput`` route has no message id); its answers are
Rasa's: a JSON list of bot messages, also when the turn failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core import inbound, settings
from bot.core.script import detect_script, to_script
from bot.rasa_replay import handle_once

logger = logging.getLogger(__name__)


class LimitedRestInput(RestInput):
    """RestInput that refuses over-long and too-frequent messages with a polite reply.

    Overload: at most ``MAX_TURNS`` turns run at once and at most ``MAX_WAITING`` messages
    wait for one; a message that finds the queue full, or cannot start within ``BUSY_WAIT``
    seconds, is answered "busy, please send again shortly" (``inbound.yml``) instead of
    waiting in an ever longer queue until the gateway gives up (issue #13: 200 users at once
    got 504s). A refused message never reaches the tracker store.
    """

    MAX_TURNS = 8
    MAX_WAITING = 16
    BUSY_WAIT = 4.0

    def __init__(self) -> None:
        super().__init__()
        self.limiter = inbound.rest_limiter()
        self.max_chars = settings.current().max_message_chars
        self._turns: asyncio.Semaphore | None = None
        self._waiting = 0

    async def _refuse(self, message: UserMessage, kind: str) -> None:
        script = detect_script(message.text[: self.max_chars])
        text = to_script(inbound.reply(kind, limit=self.max_chars), script)
        await message.output_channel.send_text_message(message.sender_id, text)

    def guard(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[UserMessage], Awaitable[Any]]:
        async def guarded(message: UserMessage) -> Any:
            message.text = inbound.clean_text(message.text).strip()
            if len(message.text) > self.max_chars:
                logger.info(
                    "refused a %d-character message from %s", len(message.text), message.sender_id
                )
                return await self._refuse(message, "too_long")
            if self.limiter is not None and not self.limiter.allow(str(message.sender_id)):
                logger.info("rate limit: refused a message from %s", message.sender_id)
                return await self._refuse(message, "too_fast")
            # A gateway that stops waiting (its read timeout) disconnects, and Sanic cancels the
            # handler: the turn would stop mid-action and drop the action's events although the
            # action server already acted (a booking made, not recorded). Shielded, the turn
            # always completes and is saved; only the reply is lost, which the gateway expects.
            if self._turns is None:
                self._turns = asyncio.Semaphore(self.MAX_TURNS)
            if self._turns.locked() and self._waiting >= self.MAX_WAITING:
                logger.info("busy: refused a message from %s", message.sender_id)
                return await self._refuse(message, "busy")
            self._waiting += 1
            try:
                await asyncio.wait_for(self._turns.acquire(), self.BUSY_WAIT)
            except asyncio.TimeoutError:
                logger.info("busy: refused a message from %s", message.sender_id)
                return await self._refuse(message, "busy")
            finally:
                self._waiting -= 1
            turn = asyncio.ensure_future(on_new_message(message))
            # Released when the turn ends, also when the caller has gone (the turn goes on).
            turn.add_done_callback(lambda _done: self._turns.release())
            return await asyncio.shield(turn)

        return guarded

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes (``GET /``, ``POST /webhook``; no ``stream`` mode), each message
        through ``guard`` and then ``handle_once`` instead of Rasa's ``on_new_message`` (which
        is ``agent.handle_message``: the same, without the message-id check)."""
        hook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # Sanic raises on a body that is not JSON
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("message"), str):
                return response.json({"error": "expected {sender, message}"}, status=400)
            sender = body.get("sender")
            metadata = body.get("metadata")
            collector = CollectingOutputChannel()
            message = UserMessage(
                body["message"],
                collector,
                str(sender) if sender is not None else None,
                input_channel=self._extract_input_channel(request),
                metadata=metadata if isinstance(metadata, dict) else None,
                message_id=inbound.message_id(body.get("message_id")),
            )
            agent = request.app.ctx.agent
            try:
                await self.guard(lambda m: handle_once(agent, m))(message)
            except asyncio.CancelledError:
                logger.error("turn of %s cancelled", message.sender_id)
            except Exception:
                logger.exception("turn of %s failed", message.sender_id)
            return response.json(collector.messages)

        return hook
