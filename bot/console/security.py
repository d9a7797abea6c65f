"""Sessions, CSRF and access control for every console route.

* Session: aiohttp-session ``EncryptedCookieStorage`` (Fernet; key derived from CONSOLE_SECRET),
  cookie HttpOnly + SameSite=Lax (+ Secure when CONSOLE_COOKIE_SECURE=1). A login is a row in
  ``console_sessions`` (sessions.py) named by the cookie's token: logout and deactivation
  delete it, so a copied cookie stops working at once.
* Input: a form post whose fields hold control characters (NUL …, not tab/newline) is refused
  with 400 before any page sees it; JSON bodies are checked by the pages (kit.json_object).
* Headers: every response carries a Content-Security-Policy (own origin only, no framing),
  X-Frame-Options, X-Content-Type-Options and Referrer-Policy.
* Access: every route needs a logged-in, active user unless its handler is marked ``@public``;
  ``@require_role`` narrows it further. Anonymous → 302 /login (pages) or 401 (APIs, POST, ws).
* CSRF: a session-bound token; every non-GET request must send it as form field ``_csrf`` or
  header ``X-CSRF-Token`` (except ``@csrf_exempt`` handlers, i.e. the Bearer-token /push).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.console import sessions
from bot.console.kit import (
    STATE,
    USER,
    db_call,
    error,
    has_control_chars,
    is_public,
    route_roles,
    wants_json,
)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
COOKIE_NAME = "rj_console"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SESSION_TOKEN = "sid"  # session key holding the login token (see sessions.py)
SECURITY_HEADERS = {
    # Inline styles are allowed for the odd style attribute; scripts only from our own files.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class UserInfo:
    """A detached snapshot of the logged-in user (safe to use outside a DB session)."""

    __slots__ = ("id", "username", "role")

    def __init__(self, id: int, username: str, role: str):
        self.id, self.username, self.role = id, username, role

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def session_storage(config) -> EncryptedCookieStorage:
    key = hashlib.sha256(
        b"rj-console-session:" + config.secret.encode("utf-8")
    ).digest()  # 32 raw bytes
    return EncryptedCookieStorage(
        key,
        cookie_name=COOKIE_NAME,
        max_age=config.session_max_age,
        httponly=True,
        samesite="Lax",
        secure=config.cookie_secure or None,
        path="/",
    )


def csrf_token(session) -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def _submitted_token(request: web.Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    if request.content_type in FORM_TYPES:
        form = await request.post()  # cached by aiohttp; handlers can read it again
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _load_user(request: web.Request, session) -> UserInfo | None:
    token = session.get(SESSION_TOKEN)
    if not token:
        return None

    def fetch(s):
        user = sessions.user_of(s, str(token))
        return None if user is None else UserInfo(user.id, user.username, user.role)

    user = await db_call(request, fetch)
    if user is None:  # logged out elsewhere, expired or deactivated: keep the web-chat id
        session.pop(SESSION_TOKEN, None)
    return user


def _anonymous(request: web.Request) -> web.StreamResponse:
    if wants_json(request):
        return error(request, 401, "unauthorized")
    target = request.path_qs
    raise web.HTTPFound(f"/login?next={quote(target, safe='')}")


def same_origin(request: web.Request) -> bool:
    """Reject cross-site websocket handshakes (browsers always send Origin on websockets)."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    from yarl import URL

    try:
        url = URL(origin)
        netloc = url.host or ""
        if url.port and not url.is_default_port():
            netloc = f"{netloc}:{url.port}"
    except (ValueError, TypeError):
        return False
    return netloc == request.host


@web.middleware
async def access_middleware(request: web.Request, handler):
    route_handler = request.match_info.handler
    if request.match_info.http_exception is not None:  # 404 / 405: no route to protect
        return await handler(request)
    if isinstance(request.match_info.route.resource, web.StaticResource):
        return await handler(request)  # CSS/JS: public, GET only, no session work
    session = await get_session(request)
    request[USER] = await _load_user(request, session)
    if not is_public(route_handler):
        user = request[USER]
        if user is None:
            return _anonymous(request)
        if user.role not in route_roles(route_handler):
            return error(request, 403, "forbidden")
    if request.method not in SAFE_METHODS and not getattr(route_handler, "_rj_csrf_exempt", False):
        expected = session.get("csrf")
        submitted = await _submitted_token(request)
        if not expected or not submitted or not hmac.compare_digest(str(expected), str(submitted)):
            return error(request, 403, "csrf")
    if request.method not in SAFE_METHODS and request.content_type in FORM_TYPES:
        form = await request.post()  # cached: the handler reads the same values
        if any(isinstance(value, str) and has_control_chars(value) for value in form.values()):
            return error(request, 400, "bad_request")
    return await handler(request)


def agent_sockets(app: web.Application) -> dict[int, set]:
    """Open agent websockets (/ws) by console user id."""
    return app[STATE].setdefault("agent_sockets_by_user", {})


async def end_live_connections(app: web.Application, user_id: int) -> None:
    """Close the websockets of a user whose login just ended, so live updates stop at once too
    (a page still logged in reconnects; one that is not gets 401)."""
    for ws in list(agent_sockets(app).pop(user_id, ())):
        await ws.close(code=1008, message=b"session ended")


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def setup(app: web.Application, config) -> None:
    app.middlewares.append(session_middleware(session_storage(config)))
    app.middlewares.append(access_middleware)
    app.on_response_prepare.append(_security_headers)
