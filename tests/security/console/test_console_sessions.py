"""Finding 7: a console login lives on the server (``console_sessions``), so logging out or
deactivating the account ends it at once, even for a saved copy of the cookie."""

from __future__ import annotations

from sqlalchemy import inspect, select

from bot.console import sessions
from bot.console.models import ConsoleSession, ConsoleUser
from bot.core import db, migrate
from tests.console.conftest import csrf_of, login

COOKIE = "rj_console"


def saved_cookie(client) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value


async def replay(browser, client, cookie: str):
    """A browser that only has the stolen/saved cookie."""
    other = await browser(client)
    other.session.cookie_jar.update_cookies({COOKIE: cookie}, client.make_url("/"))
    return await other.get("/live", allow_redirects=False)


def user_id(engine, name: str) -> int:
    with db.session_scope(engine) as s:
        return s.execute(select(ConsoleUser.id).where(ConsoleUser.username == name)).scalar_one()


async def test_logout_ends_the_session_for_a_saved_cookie(client, accounts, browser, engine):
    token = await login(client, "agent1")
    cookie = saved_cookie(client)
    assert (await replay(browser, client, cookie)).status == 200  # the copy works while logged in
    resp = await client.post("/logout", data={"_csrf": token}, allow_redirects=False)
    assert resp.status == 302
    resp = await replay(browser, client, cookie)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    with db.session_scope(engine) as s:
        assert sessions.count(s, user_id(engine, "agent1")) == 0


async def test_deactivation_ends_every_open_session_at_once(make_client, accounts, browser, engine):
    agent = await make_client()
    await login(agent, "agent1")
    second = await browser(agent)
    await login(second, "agent1")
    cookie = saved_cookie(agent)
    with db.session_scope(engine) as s:
        assert sessions.count(s, user_id(engine, "agent1")) == 2
    sup = await browser(agent)
    token = await login(sup, "sup")
    resp = await sup.post(
        f"/users/{user_id(engine, 'agent1')}/active",
        data={"_csrf": token, "active": "0"},
        allow_redirects=False,
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        assert sessions.count(s, user_id(engine, "agent1")) == 0
    for who in (agent, second):
        resp = await who.get("/live", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    assert (await replay(browser, agent, cookie)).status == 302
    assert (await sup.get("/live")).status == 200  # the supervisor's own session is untouched


async def test_only_a_hash_of_the_token_is_stored(client, accounts, engine):
    await login(client, "agent1")
    with db.session_scope(engine) as s:
        row = s.execute(select(ConsoleSession)).scalar_one()
        assert len(row.id) == 64 and row.id not in saved_cookie(client)


async def test_an_expired_session_is_refused_and_removed(make_client, accounts, engine):
    client = await make_client(login_max_age=0)
    token = await csrf_of(client)
    await client.post(
        "/login",
        data={"username": "agent1", "password": "correct-horse-42", "_csrf": token},
        allow_redirects=False,
    )
    assert (await client.get("/live", allow_redirects=False)).status == 302
    with db.session_scope(engine) as s:
        assert s.execute(select(ConsoleSession)).first() is None


def test_the_migration_creates_the_session_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrate.upgrade(url, "head")
    engine = db.make_engine(url)
    try:
        inspector = inspect(engine)
        assert "console_sessions" in inspector.get_table_names()
        assert {c["name"] for c in inspector.get_columns("console_sessions")} == {
            "id",
            "user_id",
            "created_at",
            "expires_at",
        }
    finally:
        engine.dispose()


async def closed_within(ws, seconds: float = 3.0) -> bool:
    from aiohttp import WSMsgType

    while True:
        msg = await ws.receive(timeout=seconds)
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return True


async def test_logout_and_deactivation_also_close_the_live_websocket(
    make_client, accounts, browser, engine
):
    agent = await make_client()
    token = await login(agent, "agent1")
    ws = await agent.ws_connect("/ws")
    assert (await ws.receive_json(timeout=3))["type"] == "hello"
    await agent.post("/logout", data={"_csrf": token}, allow_redirects=False)
    assert await closed_within(ws)

    await login(agent, "agent1")
    ws = await agent.ws_connect("/ws")
    assert (await ws.receive_json(timeout=3))["type"] == "hello"
    sup = await browser(agent)
    sup_token = await login(sup, "sup")
    await sup.post(
        f"/users/{user_id(engine, 'agent1')}/active",
        data={"_csrf": sup_token, "active": "0"},
        allow_redirects=False,
    )
    assert await closed_within(ws)
