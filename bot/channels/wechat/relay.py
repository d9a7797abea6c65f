"""The heart of the channel: one WeChat message → Rasa → a passive reply, then 客服 messages.

The 5-second window. WeChat waits 5 s for the HTTP answer to a message. The message is handled
in its own task; the request waits up to ``passive_timeout`` (4 s) for it. When the answer is
ready, the first message (or all of them, joined, when they fit in 2048 bytes) becomes the
passive XML reply and the rest follow as customer-service messages. When Rasa is slower, the
request answers ``success`` at once and the whole answer goes out as customer-service messages
when it is ready — the user just wrote, so the 48-hour window is open.

Order. A user's messages reach Rasa one after another, in the order received (a FIFO lock per
user), as in the Telegram gateway. Duplicates (WeChat's retries) are found by :mod:`dedupe`.

What goes to Rasa: text as typed; a voice message's ``Recognition`` (WeChat's own speech
recognition, switched on in the account's settings); a menu number or title as that button's
payload; ``/greet`` when the user follows the account (the bot's own first-contact greeting); a
custom-menu CLICK whose key is a Rasa payload (``/intent``). Message text is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from bot.channels.keyed_lock import KeyedLocks
from bot.channels.rasa_client import RasaClient, RasaRejected, RasaTimeout, RasaUnavailable
from bot.channels.rate_limit import RateLimiter
from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.contact_window import ContactWindow
from bot.channels.wechat.dedupe import Turn, TurnRegistry, message_key, wechat_message_id
from bot.channels.wechat.menu import MenuStore
from bot.channels.wechat.push import Pusher, sender_id
from bot.channels.wechat.rendering import Renderer
from bot.channels.wechat.texts import Texts
from bot.core import script as scripts

logger = logging.getLogger(__name__)

GREETING = "/greet"
#: Events by which the user reaches out (they reopen the 48-hour push window).
USER_EVENTS = {"subscribe", "subscribe_scan", "scan", "click", "scancode_push", "scancode_waitmsg"}
FOLLOW_EVENTS = {"subscribe", "subscribe_scan"}


class Relay:
    def __init__(
        self,
        config: WeChatConfig,
        *,
        rasa: RasaClient,
        renderer: Renderer,
        texts: Texts,
        menus: MenuStore,
        limiter: RateLimiter,
        pusher: Pusher,
        window: ContactWindow,
    ) -> None:
        self.config = config
        self.rasa = rasa
        self.renderer = renderer
        self.texts = texts
        self.menus = menus
        self.limiter = limiter
        self.pusher = pusher
        self.window = window
        self.turns = TurnRegistry(config.dedupe_ttl, config.dedupe_size)
        self._locks = KeyedLocks()  # by openid
        self._scripts: OrderedDict[str, str] = OrderedDict()
        self._background: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ the HTTP request's side
    async def answer(self, message: Any) -> str | None:
        """The passive reply text for ``message`` (None: answer ``success``)."""
        key = message_key(message)
        turn = self.turns.get(key)
        if turn is None:
            turn = Turn(asyncio.create_task(self._handle(message), name=f"wx-turn-{key}"))
            self.turns.add(key, turn)
        else:
            logger.info("WeChat resent message %s; not handled again", key)
        if turn.answered or turn.deferred:
            return turn.passive
        try:
            messages = await asyncio.wait_for(
                asyncio.shield(turn.task), self.config.passive_timeout
            )
        except asyncio.TimeoutError:
            self._defer(turn, message.source)
            return None
        except asyncio.CancelledError:
            # The request went away while waiting (server shutdown, or handler cancellation on
            # a client hang-up): the answer must not be lost, so it follows as 客服 messages.
            if not turn.answered:
                self._defer(turn, message.source)
            raise
        except Exception:
            logger.exception("handling a WeChat message failed")
            turn.answered = True
            return None
        if turn.answered or turn.deferred:  # a concurrent retry chose first
            return turn.passive
        turn.answered = True
        turn.passive, rest = self.renderer.passive_and_rest(messages)
        if rest:
            self.spawn(self._follow_up(message.source, rest))
        return turn.passive

    def _defer(self, turn: Turn, openid: str) -> None:
        if not turn.deferred:
            turn.deferred = True
            self.spawn(self._deliver_late(turn, openid))

    async def _deliver_late(self, turn: Turn, openid: str) -> None:
        try:
            messages = await turn.task
        except Exception:
            logger.exception("handling a WeChat message failed")
            return
        if messages:
            await self.pusher.send_quietly(openid, messages)

    async def _follow_up(self, openid: str, messages: list[str]) -> None:
        await asyncio.sleep(self.config.followup_delay)
        await self.pusher.send_quietly(openid, messages)

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout: float = 5.0) -> None:
        """Let pending follow-ups finish (used at shutdown)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)

    # ------------------------------------------------------------------ one message, handled once
    def script_of(self, openid: str, text: str | None = None) -> str | None:
        detected = scripts.detect_script(text)
        if detected:
            self._scripts[openid] = detected
            self._scripts.move_to_end(openid)
            while len(self._scripts) > self.config.menu_users:
                self._scripts.popitem(last=False)
            return detected
        return self._scripts.get(openid)

    async def _handle(self, message: Any) -> list[str]:
        openid, kind = message.source, message.type
        sender = sender_id(openid)
        if kind == "event":
            return await self._handle_event(message, sender)
        self.spawn(self.window.seen(sender))
        if kind == "text":
            text = message.content or ""
        elif kind == "voice":
            text = (message.recognition or "").strip()
            if not text:
                return [self.texts.get("voice_unrecognised", self.script_of(openid))]
        else:
            refused = self._limited(openid, None)
            if refused is not None:
                return refused
            return [self.texts.get("unsupported_media", self.script_of(openid))]
        script = self.script_of(openid, text)
        refused = self._limited(openid, script)
        if refused is not None:
            return refused
        if len(text) > self.config.max_message_chars:
            return [
                self.texts.get(
                    "too_long", script, length=len(text), limit=self.config.max_message_chars
                )
            ]
        metadata: dict[str, Any] = {"channel": "wechat", "msg_type": kind}
        choice = self.menus.choose(openid, text)
        if choice is not None:
            metadata["button_title"] = choice.title
            text = choice.payload
        return await self.converse(openid, text, metadata, script, wechat_message_id(message))

    async def _handle_event(self, message: Any, sender: str) -> list[str]:
        event = (getattr(message, "event", "") or "").lower()
        openid = message.source
        if event == "unsubscribe":
            self.menus.withdraw(openid)
            await self.window.left(sender)
            return []
        if event in USER_EVENTS:
            self.spawn(self.window.seen(sender))
        if event in FOLLOW_EVENTS:
            return await self.converse(
                openid,
                GREETING,
                {"channel": "wechat", "event": event},
                self.script_of(openid),
                wechat_message_id(message),
            )
        key = str(getattr(message, "key", "") or "")
        if event == "click" and key.startswith("/"):
            return await self.converse(
                openid,
                key,
                {"channel": "wechat", "event": event},
                self.script_of(openid),
                wechat_message_id(message),
            )
        return []

    def _limited(self, openid: str, script: str | None) -> list[str] | None:
        """None when the user may send now; else what to answer (once per window, then nothing)."""
        decision = self.limiter.check(openid)
        if decision.allowed:
            return None
        logger.info("rate limit hit by %s", sender_id(openid))
        if decision.notify:
            return [self.texts.get("rate_limited", script or self.script_of(openid))]
        return []

    async def converse(
        self,
        openid: str,
        text: str,
        metadata: dict[str, Any],
        script: str | None,
        message_id: str | None = None,
    ) -> list[str]:
        """``text`` to Rasa as this user, in order; the answer rendered as WeChat texts.
        ``message_id`` lets Rasa answer a resent message without handling it twice."""
        sender = sender_id(openid)
        async with self._locks.hold(openid):
            try:
                items = await self.rasa.send(sender, text, metadata, message_id=message_id)
            except RasaUnavailable as exc:
                logger.warning("Rasa unavailable for %s: %s", sender, exc)
                return [self.texts.get("rasa_down", script)]
            except RasaTimeout as exc:
                logger.warning("Rasa timeout for %s: %s", sender, exc)
                return [self.texts.get("rasa_timeout", script)]
            except RasaRejected as exc:
                logger.error("Rasa rejected a message from %s: %s", sender, exc)
                return [self.texts.get("rasa_error", script)]
            rendered = self.renderer.render(items, script)
            self.menus.offer(openid, rendered.choices)
            return rendered.messages
