"""Wiring: builds the PTB Application and the gateway's services, starts and stops them.

One :class:`Gateway` owns everything with a lifetime — the PTB Application (polling or webhook),
the aiohttp server, the Rasa client session and the background loops (pending resend, outbox
delivery) — so that ``start()`` / ``stop()`` are the only two things ``__main__`` and the tests
need. Background loops are plain asyncio tasks rather than PTB's JobQueue: the APScheduler that
Rasa pins (3.9) is not the version PTB's job-queue extra expects, and two loops do not need a
scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.channels.lifecycle import finish_tasks, serve, stop_on_signals
from bot.channels.rasa_client import RasaClient
from bot.channels.rate_limit import RateLimiter
from bot.channels.telegram.callback_store import CallbackStore
from bot.channels.telegram.config import GatewayConfig
from bot.channels.telegram.handlers import COMMAND_INTENTS, MEDIA, Handlers
from bot.channels.telegram.pending import PendingQueue
from bot.channels.telegram.push import build_http_app
from bot.channels.telegram.relay import Relay
from bot.channels.telegram.rendering import Renderer
from bot.channels.telegram.texts import Texts, default_texts

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def build_application(config: GatewayConfig) -> Application:
    """The PTB Application: outgoing calls paced by AIORateLimiter, no JobQueue, concurrent
    update processing (per-chat order is kept by the relay's chat locks)."""
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.file_url)
        .concurrent_updates(config.concurrent_updates)
        .job_queue(None)
        .connection_pool_size(64)
        .pool_timeout(10.0)
    )
    if config.outgoing_rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=config.outgoing_retries))
    if config.webhook_mode:
        builder = builder.updater(None)  # updates arrive through our own aiohttp server
    return builder.build()


class Gateway:
    """The running Telegram channel."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        texts: Texts | None = None,
        outbox_engine: Any = None,
        outbox_now: Any = None,
    ) -> None:
        self.config = config
        self.texts = texts or default_texts()
        self.application = build_application(config)
        self.store = CallbackStore(config.callback_store_size, config.callback_ttl)
        self.limiter = RateLimiter(config.rate_capacity, config.rate_window)
        self.rasa = RasaClient(
            config.rasa_url,
            attempts=config.rasa_attempts,
            backoff=config.rasa_backoff,
            connect_timeout=config.rasa_connect_timeout,
            timeout=config.rasa_timeout,
        )
        self.renderer = Renderer(self.application.bot, self.store, self.texts)
        self.pending = PendingQueue(config.pending_per_chat, config.pending_chats)
        self.relay = Relay(
            self.rasa,
            self.renderer,
            self.texts,
            self.pending,
            retry_interval=config.pending_retry_interval,
            retry_max_interval=config.pending_retry_max_interval,
        )
        self.handlers = Handlers(
            self.relay,
            self.texts,
            self.limiter,
            self.store,
            max_message_chars=config.max_message_chars,
        )
        # Webhook mode always has a secret: a random one when TELEGRAM_WEBHOOK_SECRET is unset
        # (Telegram learns it from setWebhook; the route refuses requests without it).
        self.webhook_secret: str | None = None
        if config.webhook_mode:
            self.webhook_secret = config.webhook_secret or secrets.token_urlsafe(32)
        self.outbox_engine = outbox_engine
        self.outbox_now = outbox_now
        self.outbox: Any = None
        self.http_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._register_handlers()

    def _register_handlers(self) -> None:
        app, h = self.application, self.handlers
        only_new = filters.UpdateType.MESSAGE  # edited messages are not re-sent to Rasa
        app.add_handler(CallbackQueryHandler(h.on_callback))
        app.add_handler(CommandHandler(list(COMMAND_INTENTS), h.on_command, filters=only_new))
        app.add_handler(MessageHandler(only_new & filters.TEXT, h.on_text))
        app.add_handler(MessageHandler(only_new & MEDIA, h.on_media))
        app.add_error_handler(h.on_error)

    def stats(self) -> dict[str, Any]:
        return {
            "mode": "webhook" if self.config.webhook_mode else "polling",
            "pending_messages": len(self.pending),
            "callback_tokens": len(self.store),
        }

    async def _register_commands(self) -> None:
        commands = [
            BotCommand(name, desc) for name, desc in self.texts.command_descriptions().items()
        ]
        try:
            await self.application.bot.set_my_commands(commands)
        except TelegramError as exc:  # cosmetic: the bot works without the menu
            logger.warning("setMyCommands failed: %s", exc)

    def _start_outbox(self) -> None:
        if self.config.outbox_interval is None:
            return
        try:
            from bot.channels.telegram.outbox_delivery import OutboxDelivery

            kwargs: dict[str, Any] = {
                "prefix": self.config.outbox_prefix,
                "engine": self.outbox_engine,
            }
            if self.outbox_now is not None:
                kwargs["now"] = self.outbox_now
            self.outbox = OutboxDelivery(self.renderer, **kwargs)
        except ImportError as exc:
            logger.warning("outbox delivery disabled: %s", exc)
            return
        self._tasks.append(
            asyncio.create_task(
                self.outbox.run(self._stop, self.config.outbox_interval), name="tg-outbox"
            )
        )

    async def start(self) -> None:
        """Connect to Telegram, register commands, start receiving updates and the HTTP server."""
        cfg, app = self.config, self.application
        self._stop.clear()
        await self.rasa.start()
        await app.initialize()  # getMe: fails fast on a wrong token
        await self._register_commands()
        await app.start()
        if cfg.webhook_mode:
            await app.bot.set_webhook(
                url=cfg.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await app.bot.delete_webhook()
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=cfg.poll_timeout, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1
            )
        http_app = build_http_app(
            application=app,
            renderer=self.renderer,
            push_token=self._push_token(),
            webhook_path=cfg.webhook_path,
            webhook_secret=self.webhook_secret,
            stats=self.stats,
        )
        self._runner, self.http_port = await serve(http_app, cfg.host, cfg.port)
        self._tasks.append(
            asyncio.create_task(self.relay.run_retry_loop(self._stop), name="tg-pending")
        )
        self._start_outbox()
        logger.info(
            "Telegram gateway up as @%s (%s), HTTP on %s:%s, Rasa at %s",
            app.bot.username,
            self.stats()["mode"],
            cfg.host,
            self.http_port,
            cfg.rasa_url,
        )

    def _push_token(self) -> str:
        if self.config.push_token:
            return self.config.push_token
        from bot.core import settings

        return settings.push_token()

    async def stop(self) -> None:
        """Stop receiving, let background loops end, close connections. Safe to call twice."""
        self._stop.set()
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await finish_tasks(self._tasks)
        if app.running:
            await app.stop()
        await app.shutdown()
        await self.rasa.close()

    async def run_until_signal(self) -> None:
        """Production entry point: run until SIGINT/SIGTERM."""
        stop = stop_on_signals()
        await self.run(stop)

    async def run(self, stop: asyncio.Event) -> None:
        """Start (retrying while Telegram is unreachable), serve until ``stop`` is set, stop."""
        delay = 1.0
        while True:
            try:
                await self.start()
                break
            except (NetworkError, TimedOut) as exc:
                if isinstance(exc, BadRequest):  # e.g. a bad webhook URL: retrying cannot help
                    await self._abort_start()
                    raise
                # Telegram unreachable at boot (network not up yet): keep trying, do not exit.
                logger.warning("cannot reach Telegram (%s); retrying in %.0f s", exc, delay)
                await self._abort_start()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return
                except asyncio.TimeoutError:
                    delay = min(delay * 2, 60.0)
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def _abort_start(self) -> None:
        """Undo a half-done start so that ``start()`` can be tried again."""
        try:
            await self.stop()
            # A failed getMe leaves the bot uninitialised but its HTTP clients open.
            for request in getattr(self.application.bot, "_request", ()):
                await request.shutdown()
        except Exception:
            logger.debug("cleanup after a failed start", exc_info=True)
        self.application = build_application(self.config)
        self.renderer.bot = self.application.bot
        self._register_handlers()
