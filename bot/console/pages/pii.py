"""Deliberate reveal of a phone / ID number (logged), and the reveal log for supervisors.

Only the agent holding the conversation's handoff (or a supervisor) may reveal, at most
``pii_reveals_per_hour`` times per user; refusals are logged as warnings.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import select

from bot.console import assist
from bot.console.kit import (
    LIMITER,
    BadInput,
    current_user,
    db_call,
    error,
    form_or_json,
    json_response,
    register_nav,
    render,
    require_role,
    text_field,
)
from bot.console.models import PiiRevealLog
from bot.console.texts import t
from bot.core import handoff

logger = logging.getLogger(__name__)


def holds_handoff(s, sender_id: str, agent: str) -> bool:
    """True when ``agent`` has taken the open handoff of ``sender_id``."""
    item = handoff.get_open(s, sender_id)
    return item is not None and item.status == handoff.ACTIVE and item.agent == agent


async def reveal(request: web.Request) -> web.Response:
    try:
        body = await form_or_json(request)
        sender_id, field = text_field(body, "sender_id"), text_field(body, "field")
    except BadInput:
        return error(request, 400, "bad_request")
    if not sender_id or field not in assist.PII_SLOTS:
        return error(request, 400, "bad_request")
    user = current_user(request)
    allowed = user.is_supervisor or await db_call(request, holds_handoff, sender_id, user.username)
    if not allowed:
        logger.warning("PII reveal refused: %s holds no handoff of %s", user.username, sender_id)
        return error(request, 403, "pii_not_allowed")
    window = request.app[LIMITER].pii_reveal
    if not window.hit(user.username):
        logger.warning("PII reveal rate-limited for %s", user.username)
        response = error(request, 429, "pii_rate_limited")
        response.headers["Retry-After"] = str(window.retry_after(user.username))
        return response
    value = await assist.reveal(request.app, sender_id, field, user.username)
    if value is None:
        return error(request, 404, "nothing_to_reveal")
    return json_response(
        {"field": field, "label": t(f"pii_fields.{field}"), "value": value},
        headers={"Cache-Control": "no-store"},
    )


def _log(s, limit: int = 500) -> list[dict]:
    rows = s.execute(
        select(PiiRevealLog)
        .order_by(PiiRevealLog.created_at.desc(), PiiRevealLog.id.desc())
        .limit(limit)
    )
    return [
        {
            "agent": r.agent,
            "field": t(f"pii_fields.{r.field}", r.field),
            "subject": r.subject,
            "href": _subject_href(r.subject),
            "time": r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for r in rows.scalars()
    ]


def _subject_href(subject: str) -> str:
    """Where the logged subject is: a wish ("wish:<id>", its original revealed) or a
    conversation (its sender id)."""
    kind, _, wish_id = subject.partition(":")
    if kind == "wish" and wish_id.isdigit():
        return f"/wishes/{wish_id}"
    return f"/conversations/{subject}"


@require_role("supervisor")
async def log_page(request: web.Request) -> web.Response:
    return render(request, "pii_log.html", {"rows": await db_call(request, _log)})


def setup(app: web.Application) -> None:
    app.router.add_post("/pii/reveal", reveal)
    app.router.add_get("/pii/log", log_page, name="pii_log")
    register_nav(app, "/pii/log", "nav.pii_log", roles=("supervisor",), order=95)
