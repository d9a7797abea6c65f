"""Building blocks every console page uses: app keys, decorators, DB calls, rendering, errors.

Page modules import from here (see the guide in ``bot/console/__init__.py``).
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.console.texts import t
from bot.core import client_address, clock, db

T = TypeVar("T")

# ---------------------------------------------------------------- application state keys
CONFIG = web.AppKey("rj_config", object)
ENGINE = web.AppKey("rj_engine", Engine)
HUB = web.AppKey("rj_hub", object)
RASA = web.AppKey("rj_rasa", object)
LIMITER = web.AppKey("rj_limiter", object)  # ratelimit.Limits
CLOCK = web.AppKey("rj_clock", object)  # () -> naive local datetime; tests replace it
NAV = web.AppKey("rj_nav", list)
SUGGESTIONS = web.AppKey("rj_suggestions", dict)
EVENT_SOURCE = web.AppKey("rj_event_source", object)
STATE = web.AppKey(
    "rj_state", dict
)  # mutable runtime state (the app itself is frozen once started)

ROLES = ("agent", "supervisor")
USER = "rj_user"  # request key: the logged-in ConsoleUser snapshot (or None)


local_tz = clock.local_tz
local_now = clock.now


def now(request_or_app) -> datetime:
    app = request_or_app.app if isinstance(request_or_app, web.Request) else request_or_app
    return app[CLOCK]()


def http_session(app: web.Application):
    """The shared aiohttp.ClientSession for outgoing calls (opened at start-up)."""
    return app[STATE]["http"]


# ---------------------------------------------------------------- route decorators
def public(handler: Callable) -> Callable:
    """Allow anonymous access (the default for every route is: logged-in users only)."""
    handler._rj_public = True
    return handler


def csrf_exempt(handler: Callable) -> Callable:
    """Skip the CSRF check (only for token-authenticated machine endpoints such as /push)."""
    handler._rj_csrf_exempt = True
    return handler


def require_role(*roles: str) -> Callable[[Callable], Callable]:
    """Restrict a route to the given roles, e.g. ``@require_role("supervisor")``."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(handler: Callable) -> Callable:
        handler._rj_roles = tuple(roles)
        return handler

    return decorate


def route_roles(handler: Callable) -> tuple[str, ...]:
    return getattr(handler, "_rj_roles", ROLES)


def is_public(handler: Callable) -> bool:
    return bool(getattr(handler, "_rj_public", False))


# ---------------------------------------------------------------- navigation
def register_nav(
    app: web.Application,
    path: str,
    label_key: str,
    *,
    roles: Iterable[str] = ROLES,
    order: int = 50,
) -> None:
    """Add a top-bar link; ``label_key`` is a messages.yml key such as ``nav.queue``."""
    app[NAV].append({"path": path, "label_key": label_key, "roles": tuple(roles), "order": order})
    app[NAV].sort(key=lambda item: item["order"])


# ---------------------------------------------------------------- database
async def db_call(request_or_app, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in a worker thread inside one transaction."""
    app = request_or_app.app if isinstance(request_or_app, web.Request) else request_or_app
    engine = app[ENGINE]

    def work() -> T:
        with db.session_scope(engine) as s:
            return fn(s, *args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(None, work)


# ---------------------------------------------------------------- responses
def current_user(request: web.Request):
    return request.get(USER)


def wants_json(request: web.Request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return True
    if request.path.startswith("/api/") or request.path.endswith("/ws"):
        return True
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def json_response(data: Any, *, status: int = 200, **kwargs: Any) -> web.Response:
    """JSON with Chinese kept readable (UTF-8, not \\u escapes)."""
    return web.json_response(data, status=status, dumps=_dumps, **kwargs)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def base_context(request: web.Request) -> dict:
    """What every template gets: user, csrf_token, T (messages.yml), nav, path, flash."""
    from aiohttp_session import SESSION_KEY

    from bot.console.security import csrf_token
    from bot.console.texts import all_texts

    session = request.get(SESSION_KEY)
    user = request.get(USER)
    flashed = session.pop("flash", None) if session is not None else None
    return {
        "T": all_texts(),
        "user": user,
        "csrf_token": csrf_token(session) if session is not None else "",
        "nav": [
            dict(item, label=t(item["label_key"]))
            for item in request.app[NAV]
            if user is not None and user.role in item["roles"]
        ],
        "path": request.path,
        "flash": _flash_text(flashed),
    }


def error(request: web.Request, status: int, key: str, **extra: Any) -> web.Response:
    """A Chinese error as JSON (APIs) or as the error page (browsers)."""
    message = t(f"errors.{key}")
    if wants_json(request):
        return json_response({"error": key, "message": message, **extra}, status=status)
    context = {"status": status, "message": message}
    if (
        aiohttp_jinja2.REQUEST_CONTEXT_KEY not in request
    ):  # raised before the context middleware ran
        context = {**base_context(request), **context}
    return aiohttp_jinja2.render_template("error.html", request, context, status=status)


def render(
    request: web.Request, template: str, context: dict | None = None, *, status: int = 200
) -> web.Response:
    context = dict(context or {})
    # A flash set while handling this request (after base_context ran) shows on this page.
    from aiohttp_session import SESSION_KEY

    session = request.get(SESSION_KEY)
    if session is not None and session.get("flash"):
        context.setdefault("flash", _flash_text(session.pop("flash")))
    return aiohttp_jinja2.render_template(template, request, context, status=status)


async def flash(request: web.Request, key: str, **values: Any) -> None:
    """Show a one-off notice on the next rendered page: the text under ``flash.<key>`` in
    messages.yml, formatted with ``values`` (e.g. ``centre=…``)."""
    from aiohttp_session import get_session

    session = await get_session(request)
    session["flash"] = {"key": key, "values": values}


def _flash_text(stored: Any) -> str:
    """The notice text for what ``flash`` stored in the session ('' when nothing or unknown)."""
    if not stored:
        return ""
    key, values = (
        (stored, {}) if isinstance(stored, str) else (stored.get("key"), stored.get("values"))
    )
    text = t(f"flash.{key}", "")
    try:
        return text.format(**(values or {})) if values else text
    except (KeyError, IndexError, ValueError):
        return text


def client_ip(request: web.Request) -> str:
    """The client's address for every per-IP limit: ``X-Forwarded-For`` counts only from a
    trusted proxy (``RJ_TRUSTED_PROXIES``, see ``bot.core.client_address``)."""
    trusted = getattr(request.app[CONFIG], "trusted_proxies", ())
    if not trusted:
        return request.remote or "unknown"
    forwarded = request.headers.getall("X-Forwarded-For", [])
    return client_address.client_ip(request.remote, forwarded, trusted)


# ---------------------------------------------------------------- input limits
MAX_PATH_ID = 2**63 - 1  # the largest id the database can hold
MAX_JSON_BODY = 64 * 1024


def path_id(request: web.Request, name: str) -> int:
    """The integer id in the URL (``/wishes/{wish_id}``); 404 unless it could exist."""
    value = request.match_info.get(name, "")
    if not value.isascii() or not value.isdigit() or int(value) > MAX_PATH_ID:
        raise web.HTTPNotFound()
    return int(value)


class BadInput(ValueError):
    """A request body that is not what the endpoint takes (answered with 400)."""


async def json_object(request: web.Request, max_size: int = MAX_JSON_BODY) -> dict:
    """The JSON body, which must be an object (``{...}``) of at most ``max_size`` bytes."""
    raw = await request.read()
    if len(raw) > max_size:
        raise BadInput("too large")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise BadInput("not JSON") from exc
    if not isinstance(body, dict):
        raise BadInput("not an object")
    return body


async def form_or_json(request: web.Request) -> dict:
    """A form post or a JSON object, as a dict of the submitted values."""
    if request.content_type == "application/json":
        return await json_object(request)
    return dict(await request.post())


def text_field(body: dict, name: str) -> str:
    """``body[name]`` as clean text ("" when absent); anything but a string is bad input."""
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    return clean_text(value)


# What no form field typed by a person contains: C0 controls but tab/newline, DEL, surrogates.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def has_control_chars(value: str) -> bool:
    return _CONTROL_CHARS.search(value) is not None


def clean_text(value: str) -> str:
    """Drop control characters (tabs and newlines become spaces), lone surrogates and other
    invisible formatting characters; trim the ends."""
    out = []
    for ch in value:
        if ch in "\t\n\r":
            out.append(" " if ch == "\t" else ch)
        elif unicodedata.category(ch) not in ("Cc", "Cs", "Cf", "Co", "Cn"):
            out.append(ch)
    return "".join(out).strip()
