"""Wiring and lifecycle: one :class:`Gateway` owns the HTTP server, the Rasa and WeChat API
sessions and the outbox loop, so ``start()`` / ``stop()`` are all ``__main__`` and tests need."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.channels.lifecycle import finish_tasks, serve, stop_on_signals
from bot.channels.rasa_client import RasaClient
from bot.channels.rate_limit import RateLimiter
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.config import WeChatConfig
from bot.channels.wechat.contact_window import ContactWindow
from bot.channels.wechat.envelope import Envelope
from bot.channels.wechat.menu import MenuStore
from bot.channels.wechat.push import Pusher
from bot.channels.wechat.relay import Relay
from bot.channels.wechat.rendering import Renderer
from bot.channels.wechat.server import build_http_app
from bot.channels.wechat.texts import Texts, default_texts
from bot.core import clock
from bot.core.outbox_delivery import OutboxDelivery

logger = logging.getLogger(__name__)


class Gateway:
    """The running WeChat Official Account channel."""

    def __init__(
        self,
        config: WeChatConfig,
        *,
        texts: Texts | None = None,
        engine: Any = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.config = config
        self.texts = texts or default_texts()
        self.api = WeChatApi(
            config.api_base_url,
            config.appid,
            config.secret,
            refresh_margin=config.token_refresh_margin,
            timeout=config.api_timeout,
        )
        self.rasa = RasaClient(
            config.rasa_url,
            attempts=config.rasa_attempts,
            backoff=config.rasa_backoff,
            connect_timeout=config.rasa_connect_timeout,
            timeout=config.rasa_timeout,
        )
        self.window = ContactWindow(
            engine=engine,
            window=config.push_window,
            record_every=config.contact_record_every,
            now=now,
        )
        self.renderer = Renderer(self.texts, config.message_bytes)
        self.pusher = Pusher(self.api, self.window)
        self.menus = MenuStore(config.menu_ttl, config.menu_users)
        self.relay = Relay(
            config,
            rasa=self.rasa,
            renderer=self.renderer,
            texts=self.texts,
            menus=self.menus,
            limiter=RateLimiter(config.rate_capacity, config.rate_window),
            pusher=self.pusher,
            window=self.window,
        )
        self.envelope = Envelope(config)
        self.outbox = OutboxDelivery(
            self._deliver_outbox, prefix=config.outbox_prefix, engine=engine, now=now
        )
        self.http_port: int | None = None
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def _deliver_outbox(self, recipient: str, text: str) -> None:
        await self.pusher.deliver_outbox(recipient, self.renderer.plain(text).messages)

    def stats(self) -> dict[str, Any]:
        return {
            "mode": self.config.encrypt_mode,
            "turns": len(self.relay.turns),
            "menus": len(self.menus),
            "token_fetches": self.api.token_fetches,
        }

    def _push_token(self) -> str:
        if self.config.push_token:
            return self.config.push_token
        from bot.core import settings

        return settings.push_token()

    async def start(self) -> None:
        cfg = self.config
        self._stop.clear()
        await self.rasa.start()
        await self.api.start()
        http_app = build_http_app(
            path=cfg.path,
            envelope=self.envelope,
            relay=self.relay,
            renderer=self.renderer,
            pusher=self.pusher,
            push_token=self._push_token(),
            stats=self.stats,
        )
        self._runner, self.http_port = await serve(http_app, cfg.host, cfg.port)
        if cfg.outbox_interval is not None:
            self._tasks.append(
                asyncio.create_task(
                    self.outbox.run(self._stop, cfg.outbox_interval), name="wx-outbox"
                )
            )
        logger.info(
            "WeChat gateway up (%s mode) on http://%s:%s%s, Rasa at %s",
            cfg.encrypt_mode,
            cfg.host,
            self.http_port,
            cfg.path,
            cfg.rasa_url,
        )

    async def stop(self) -> None:
        """Stop receiving, let follow-ups and the outbox loop finish, close sessions."""
        self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.relay.drain()
        await finish_tasks(self._tasks)
        await self.rasa.close()
        await self.api.close()

    async def run_until_signal(self) -> None:
        stop = stop_on_signals()
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
