"""Login / logout and the start page."""
from __future__ import annotations

import time

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot.console import accounts
from bot.console.kit import LIMITER, client_ip, current_user, db_call, now, public, render
from bot.console.security import csrf_token
from bot.console.texts import t


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/live"


@public
async def login_page(request: web.Request) -> web.Response:
    if current_user(request) is not None:
        raise web.HTTPFound(_safe_next(request.query.get("next")))
    return render(request, "login.html", {"next": _safe_next(request.query.get("next")), "error": ""})


@public
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    limiter = request.app[LIMITER]
    key = f"{username.lower()}|{client_ip(request)}"
    context = {"next": target, "username": username}
    if limiter.blocked(key):
        return render(request, "login.html", dict(context, error=t("errors.rate_limited")), status=429)
    moment = now(request)

    def check(s):
        user = accounts.authenticate(s, username, password, now=moment)
        return None if user is None else (user.id, user.role)

    found = await db_call(request, check)
    if found is None:
        limiter.failed(key)
        status = 429 if limiter.blocked(key) else 401
        message = t("errors.rate_limited") if status == 429 else t("errors.login_failed")
        return render(request, "login.html", dict(context, error=message), status=status)
    limiter.reset(key)
    old = await get_session(request)
    web_id = old.get("web_id")
    session = await new_session(request)  # fresh session id/content: no fixation
    session["uid"] = found[0]
    session["login_at"] = time.time()
    if web_id:
        session["web_id"] = web_id
    csrf_token(session)
    raise web.HTTPFound(target)


async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPFound("/login")


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/live")


def setup(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/", home, name="home")
