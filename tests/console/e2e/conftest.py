"""Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium (installed by
`make test`), driven by Playwright; screenshots go to test-output/screenshots/."""

from __future__ import annotations

import asyncio
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

TEST_ID_KEY = "dGVzdC1rZXktZm9yLXJvbmdqdW4tdGVzdHMtMzJieXQ="
SHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
# Without the background-networking flags Chromium keeps dialling out on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CONSOLE_E2E_CHROMIUM", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


def save_shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@contextmanager
def console_database(tmp_path_factory, name: str):
    """(data dir, engine) of a fresh core + console database; RJ_ID_KEY and RJ_DATA_DIR point at
    it until the block ends."""
    from bot.core import db
    from bot.core.db import Base
    from bot.core.migrate import load_models

    data = tmp_path_factory.mktemp(name)
    saved = {k: os.environ.get(k) for k in ("RJ_ID_KEY", "RJ_DATA_DIR")}
    os.environ.setdefault("RJ_ID_KEY", TEST_ID_KEY)
    os.environ["RJ_DATA_DIR"] = str(data)
    load_models()
    import bot.console.models  # noqa: F401

    engine = db.make_engine(f"sqlite:///{data / 'rongjun.db'}")
    Base.metadata.create_all(engine)
    try:
        yield data, engine
    finally:
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def serving(app):
    """Base URL of ``app`` (an aiohttp application) served on a free port from its own thread."""
    from aiohttp import web

    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder = {}

    def serve():
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        holder["port"] = site._server.sockets[0].getsockname()[1]
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(20)
    try:
        yield f"http://127.0.0.1:{holder['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
