"""Application factory: ``create_app()`` wires config, DB, session/CSRF, templates and pages."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
from collections.abc import Callable
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.channels.rasa_client import RasaClient
from bot.console import security
from bot.console.config import ConsoleConfig
from bot.console.events import EventSource, make_event_source
from bot.console.hub import Hub
from bot.console.kit import (
    CLOCK,
    CONFIG,
    ENGINE,
    EVENT_SOURCE,
    HUB,
    LIMITER,
    NAV,
    RASA,
    STATE,
    SUGGESTIONS,
    base_context,
    local_now,
)
from bot.console.ratelimit import build_limits
from bot.core import db

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
_DEFAULT = object()


async def _template_context(request: web.Request) -> dict:
    return base_context(request)


def load_pages(app: web.Application, package: str = "bot.console.pages") -> list[str]:
    """Import every module in ``bot/console/pages`` (sorted by name) and call its ``setup(app)``."""
    pkg = importlib.import_module(package)
    loaded = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "setup"):
            module.setup(app)
            loaded.append(info.name)
    return loaded


async def _background(app: web.Application):
    from bot.console import delivery, handoffs

    app[STATE]["http"] = aiohttp.ClientSession()  # the app is frozen by now: keep it in STATE
    tasks = []
    source: EventSource | None = app[EVENT_SOURCE]
    if source is not None:
        tasks.append(asyncio.create_task(source.run(app[HUB].handle_event), name="rj-events"))
    tasks.append(asyncio.create_task(delivery.outbox_loop(app), name="rj-outbox"))
    tasks.append(asyncio.create_task(handoffs.queue_watch_loop(app), name="rj-queue"))
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await app[HUB].close_all()
    await app[RASA].close()
    await app[STATE]["http"].close()


def create_app(
    config: ConsoleConfig | None = None,
    *,
    engine: Engine | None = None,
    event_source=_DEFAULT,
    clock: Callable | None = None,
) -> web.Application:
    """Build the console. Tests pass ``engine``, ``event_source=None`` and a ``clock``."""
    from bot.console import handoffs

    config = config or ConsoleConfig.from_env()
    app = web.Application(client_max_size=1024 * 1024)
    app[CONFIG] = config
    app[ENGINE] = engine or db.get_engine()
    app[CLOCK] = clock or local_now
    app[NAV] = []
    app[SUGGESTIONS] = {}
    app[STATE] = {}
    app[LIMITER] = build_limits(config)  # ratelimit.Limits (all no-ops with RJ_RATE_LIMITS=off)
    app[RASA] = RasaClient(config.rasa_url, config.rasa_token, timeout=config.rasa_timeout)
    app[HUB] = Hub(on_trigger=lambda sid, reason, text: handoffs.on_trigger(app, sid, reason, text))
    app[EVENT_SOURCE] = make_event_source(config) if event_source is _DEFAULT else event_source

    security.setup(app, config)  # session + access middlewares run before the template context one
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[_template_context],
    )
    static = app.router.add_static("/static/", HERE / "static", name="static", append_version=True)
    env.policies["json.dumps_kwargs"] = {
        "ensure_ascii": False,
        "sort_keys": False,
    }  # tojson: readable Chinese
    env.globals["asset"] = lambda name: str(static.url_for(filename=name))
    load_pages(app)
    app.cleanup_ctx.append(_background)
    return app
