"""Accounts, password hashing, sessions, login rate limit, CLI."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.console import accounts
from bot.console.models import ConsoleUser
from bot.console.ratelimit import SlidingWindow
from bot.core import db
from tests.console.conftest import NOW, PASSWORD, csrf_of, login


def test_passwords_are_salted_scrypt_hashes(engine):
    with db.session_scope(engine) as s:
        a = accounts.create_user(s, "alice", PASSWORD, "agent", now=NOW)
        b = accounts.create_user(s, "bob", PASSWORD, "agent", now=NOW)
        assert a.password_hash.startswith("scrypt$") and PASSWORD not in a.password_hash
        assert a.password_hash != b.password_hash  # per-user salt
        assert accounts.verify_password(PASSWORD, a.password_hash)
        assert not accounts.verify_password(PASSWORD + "x", a.password_hash)
        assert not accounts.verify_password(PASSWORD, "garbage")


def test_account_validation(engine):
    with db.session_scope(engine) as s:
        for username, password, code in (
            ("ab", PASSWORD, "username_invalid"),
            ("x y z", PASSWORD, "username_invalid"),
            ("carol", "short", "password_weak"),
        ):
            try:
                accounts.create_user(s, username, password, "agent", now=NOW)
            except accounts.AccountError as exc:
                assert exc.code == code
            else:
                raise AssertionError(username)
        accounts.create_user(s, "carol", PASSWORD, "agent", now=NOW)
        try:
            accounts.create_user(s, "carol", PASSWORD, "agent", now=NOW)
        except accounts.AccountError as exc:
            assert exc.code == "username_taken"


def test_limiter_window():
    clock = [0.0]
    limiter = SlidingWindow(5, 300, clock=lambda: clock[0])
    for _ in range(4):
        limiter.record("u|ip")
    assert not limiter.blocked("u|ip")
    limiter.record("u|ip")
    assert limiter.blocked("u|ip") and not limiter.blocked("v|ip")
    clock[0] = 301
    assert not limiter.blocked("u|ip")


async def test_login_sets_a_hardened_cookie_and_rotates_the_session(client, accounts):
    await csrf_of(client)
    before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["rj_console"].value
    token = await csrf_of(client)
    resp = await client.post(
        "/login",
        data={"username": "agent1", "password": PASSWORD, "_csrf": token},
        allow_redirects=False,
    )
    assert resp.status == 302 and resp.headers["Location"] == "/live"
    header = resp.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["rj_console"].value
    assert after != before
    page = await (await client.get("/live")).text()
    assert "agent1" in page and "实时会话" in page


async def test_secure_cookie_when_configured(make_client, accounts):
    client = await make_client(cookie_secure=True)
    resp = await client.get("/login")
    assert "Secure" in resp.headers["Set-Cookie"]


async def test_wrong_password_then_rate_limit(client, accounts):
    token = await csrf_of(client)
    for attempt in range(5):
        resp = await client.post(
            "/login", data={"username": "agent1", "password": "wrong-password", "_csrf": token}
        )
        assert resp.status == (401 if attempt < 4 else 429)
    assert "用户名或密码不正确" not in await resp.text() and "5 分钟" in await resp.text()
    resp = await client.post(
        "/login", data={"username": "agent1", "password": PASSWORD, "_csrf": token}
    )
    assert resp.status == 429 and "登录失败次数过多" in await resp.text()
    # another account from the same address is not blocked
    resp = await client.post(
        "/login",
        data={"username": "agent2", "password": PASSWORD, "_csrf": token},
        allow_redirects=False,
    )
    assert resp.status == 302


async def test_unknown_user_gets_the_same_answer(client, accounts):
    token = await csrf_of(client)
    resp = await client.post(
        "/login", data={"username": "nobody", "password": PASSWORD, "_csrf": token}
    )
    assert resp.status == 401 and "用户名或密码不正确" in await resp.text()


async def test_deactivated_user_loses_access(client, accounts, engine):
    await login(client, "agent1")
    with db.session_scope(engine) as s:
        user = s.execute(select(ConsoleUser).where(ConsoleUser.username == "agent1")).scalar_one()
        user.active = False
    resp = await client.get("/live", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    token = await csrf_of(client)
    resp = await client.post(
        "/login", data={"username": "agent1", "password": PASSWORD, "_csrf": token}
    )
    assert resp.status == 401


async def test_login_expires_after_a_shift(make_client, accounts):
    client = await make_client(login_max_age=0)
    token = await csrf_of(client)
    await client.post(
        "/login",
        data={"username": "agent1", "password": PASSWORD, "_csrf": token},
        allow_redirects=False,
    )
    resp = await client.get("/live", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")


async def test_next_parameter_is_local_only(client, accounts):
    for target, expected in (
        ("/queue", "/queue"),
        ("//evil.example/x", "/live"),
        ("http://evil.example", "/live"),
    ):
        token = await csrf_of(client)
        resp = await client.post(
            "/login",
            data={"username": "agent1", "password": PASSWORD, "_csrf": token, "next": target},
            allow_redirects=False,
        )
        assert resp.headers["Location"] == expected
        await client.post(
            "/logout", data={"_csrf": await csrf_of(client, "/live")}, allow_redirects=False
        )


async def test_logout(client, accounts):
    token = await login(client, "agent1")
    resp = await client.post("/logout", data={"_csrf": token}, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/login"
    assert (await client.get("/live", allow_redirects=False)).status == 302


def test_create_supervisor_cli(engine, tmp_path, monkeypatch, capsys):
    from bot.console.__main__ import main

    url = str(engine.url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    main(["create-supervisor", "chief", "--url", url])
    assert "created supervisor chief" in capsys.readouterr().out
    with db.session_scope(engine) as s:
        user = s.execute(select(ConsoleUser).where(ConsoleUser.username == "chief")).scalar_one()
        assert (
            user.role == "supervisor"
            and user.active
            and accounts.verify_password(PASSWORD, user.password_hash)
        )
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    try:
        main(["create-supervisor", "chief2", "--url", url])
    except SystemExit as exc:
        assert "至少 10 位" in str(exc)
    else:
        raise AssertionError("weak password accepted")
