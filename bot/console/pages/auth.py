"""Login / logout and the start page."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot.console import accounts, sessions
from bot.console.kit import CONFIG, LIMITER, client_ip, current_user, db_call, now, public, render
from bot.console.security import SESSION_TOKEN, csrf_token, end_live_connections
from bot.console.texts import t

HOME = "/live"


def _safe_next(value: str | None) -> str:
    """A path on this site, else the start page. Browsers drop tabs and newlines from URLs and
    read a backslash as a slash, so ``/%09/evil.example`` (a tab) would lead to
    ``//evil.example``: any control or space character, backslash or leading ``//`` is refused."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return HOME
    if any(unicodedata.category(ch)[0] in "CZ" for ch in value):  # controls, spaces, surrogates
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value


@public
async def login_page(request: web.Request) -> web.Response:
    if current_user(request) is not None:
        raise web.HTTPFound(_safe_next(request.query.get("next")))
    return render(
        request, "login.html", {"next": _safe_next(request.query.get("next")), "error": ""}
    )


@public
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    limits = request.app[LIMITER]
    ip = client_ip(request)
    key = f"{username.lower()}|{ip}"
    context = {"next": target, "username": username}
    if limits.login_user_ip.blocked(key) or limits.login_ip.blocked(ip):
        refused = dict(context, error=t("errors.rate_limited"))
        return render(request, "login.html", refused, status=429)
    moment = now(request)

    def check(s):
        user = accounts.authenticate(s, username, password, now=moment)
        return None if user is None else (user.id, user.role)

    found = await db_call(request, check)
    if found is None:
        limits.login_user_ip.record(key)
        limits.login_ip.record(ip)
        status = 429 if limits.login_user_ip.blocked(key) or limits.login_ip.blocked(ip) else 401
        message = t("errors.rate_limited") if status == 429 else t("errors.login_failed")
        return render(request, "login.html", dict(context, error=message), status=status)
    limits.login_user_ip.reset(key)
    lifetime = request.app[CONFIG].login_max_age
    token = await db_call(
        request, lambda s: sessions.start(s, found[0], now=moment, lifetime=lifetime)
    )
    old = await get_session(request)
    web_id = old.get("web_id")
    session = await new_session(request)  # fresh session id/content: no fixation
    session[SESSION_TOKEN] = token
    if web_id:
        session["web_id"] = web_id
    csrf_token(session)
    raise web.HTTPFound(target)


async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    token = session.get(SESSION_TOKEN)
    if token:
        await db_call(request, sessions.end, str(token))
    user = current_user(request)
    if user is not None:
        await end_live_connections(request.app, user.id)
    session.invalidate()
    raise web.HTTPFound("/login")


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/live")


def setup(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/", home, name="home")
