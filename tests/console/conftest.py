"""Fixtures for console tests: the real console app on a temp SQLite DB, a fake Rasa over HTTP.

* ``engine``      temp SQLite with every capability table + console tables (create_all)
* ``fake_rasa``   tests/console/fake_rasa.FakeRasa (events written to ``events_db`` like Rasa's
                  SQL broker); ``rasa_server`` serves it
* ``gateway``     a fake Telegram gateway ``/push`` recording what it receives
* ``make_client`` ``await make_client(**config_overrides, event_source=...)`` → logged-out client
* ``login`` / ``csrf_of`` helpers; ``accounts`` creates ``sup`` (supervisor) and
``agent1``/``agent2``
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web

from bot.core import db
from bot.core.db import Base
from tests.console.fake_rasa import FakeRasa

TEST_ID_KEY = "dGVzdC1rZXktZm9yLXJvbmdqdW4tdGVzdHMtMzJieXQ="
PUSH_TOKEN = "test-push-token"
PASSWORD = "correct-horse-42"
NOW = datetime(2026, 12, 1, 10, 0)
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RJ_ID_KEY", TEST_ID_KEY)
    monkeypatch.setenv("GATEWAY_PUSH_TOKEN", PUSH_TOKEN)


@pytest.fixture
def engine(tmp_path):
    from bot.core.migrate import load_models

    load_models()
    import bot.console.models  # noqa: F401 - registers the console tables

    eng = db.make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def events_db(tmp_path) -> Path:
    return tmp_path / "rasa_events.db"


@pytest.fixture
def fake_rasa(events_db) -> FakeRasa:
    return FakeRasa(events_db)


@pytest.fixture
async def rasa_server(aiohttp_server, fake_rasa):
    return await aiohttp_server(fake_rasa.app())


class Gateway:
    def __init__(self):
        self.pushes: list[tuple[str, dict]] = []  # (authorization, body)
        self.status = 200

    def app(self) -> web.Application:
        async def push(request):
            self.pushes.append((request.headers.get("Authorization", ""), await request.json()))
            return web.json_response({"ok": self.status == 200}, status=self.status)

        app = web.Application()
        app.router.add_post("/push", push)
        return app


@pytest.fixture
async def gateway(aiohttp_server):
    gw = Gateway()
    gw.server = await aiohttp_server(gw.app())
    return gw


class Clock:
    def __init__(self, moment: datetime = NOW):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_config(rasa_server, gateway, events_db):
    from bot.console.config import ConsoleConfig

    def make(**overrides):
        values = {
            "secret": "test-secret",
            "rasa_url": str(rasa_server.make_url("")).rstrip("/"),
            "telegram_push_url": str(gateway.server.make_url("/push")),
            "push_token": PUSH_TOKEN,
            "event_broker": "sql",
            "events_db_url": f"sqlite:///{events_db}",
            "poll_interval": 0.05,
            "outbox_interval": 0.1,
            "queue_interval": 0.1,
            "rasa_timeout": 5.0,
        }
        values.update(overrides)
        return ConsoleConfig(**values)

    return make


@pytest.fixture
def make_client(aiohttp_client, engine, make_config, clock):
    from bot.console.app import create_app

    async def make(event_source=None, app_hook=None, **overrides):
        app = create_app(
            make_config(**overrides), engine=engine, event_source=event_source, clock=clock
        )
        if app_hook is not None:
            app_hook(app)
        client = await aiohttp_client(app)
        return client

    return make


@pytest.fixture
async def client(make_client):
    return await make_client()


@pytest.fixture
def accounts(engine):
    from bot.console import accounts as acc

    with db.session_scope(engine) as s:
        acc.create_user(s, "sup", PASSWORD, "supervisor", now=NOW)
        acc.create_user(s, "agent1", PASSWORD, "agent", now=NOW)
        acc.create_user(s, "agent2", PASSWORD, "agent", now=NOW)
    return {"sup": "supervisor", "agent1": "agent", "agent2": "agent"}


async def csrf_of(client, path: str = "/login") -> str:
    resp = await client.get(path)
    html = await resp.text()
    match = CSRF_RE.search(html)
    assert match, f"no CSRF meta on {path} ({resp.status})"
    return match.group(1)


async def login(client, username: str, password: str = PASSWORD) -> str:
    """Log in and return the CSRF token of the new session."""
    token = await csrf_of(client, "/login")
    resp = await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf": token},
        allow_redirects=False,
    )
    assert resp.status == 302, await resp.text()
    return await csrf_of(client, "/live")


async def json_post(client, path: str, body: dict, token: str, **kwargs):
    return await client.post(path, json=body, headers={"X-CSRF-Token": token}, **kwargs)


async def eventually(check, timeout: float = 3.0, interval: float = 0.05):
    """Await until ``check()`` (sync or async) returns a truthy value; return it."""
    import asyncio
    import inspect

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@pytest.fixture
async def browser():
    """``await browser(client)``: another browser (own cookies) on the same running console."""
    from aiohttp.test_utils import TestClient

    made = []

    async def make(client):
        other = TestClient(client.server)
        await other.start_server()  # no-op: the server is already running
        made.append(other)
        return other

    yield make
    for other in made:
        await other.session.close()  # not other.close(): that would stop the shared server
