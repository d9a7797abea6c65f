"""Deliberate reveal of a phone / ID number (logged), and the reveal log for supervisors."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.console import assist
from bot.console.kit import current_user, db_call, error, json_response, register_nav, render, require_role
from bot.console.models import PiiRevealLog
from bot.console.texts import t


async def reveal(request: web.Request) -> web.Response:
    if request.content_type == "application/json":
        body = await request.json()
    else:
        body = dict(await request.post())
    sender_id, field = str(body.get("sender_id", "")), str(body.get("field", ""))
    if not sender_id or field not in assist.PII_SLOTS:
        return error(request, 400, "bad_request")
    value = await assist.reveal(request.app, sender_id, field, current_user(request).username)
    if value is None:
        return error(request, 404, "nothing_to_reveal")
    return json_response({"field": field, "label": t(f"pii_fields.{field}"), "value": value},
                             headers={"Cache-Control": "no-store"})


def _log(s, limit: int = 500) -> list[dict]:
    rows = s.execute(select(PiiRevealLog).order_by(PiiRevealLog.created_at.desc(), PiiRevealLog.id.desc()).limit(limit))
    return [
        {"agent": r.agent, "field": t(f"pii_fields.{r.field}", r.field), "subject": r.subject,
         "time": r.created_at.strftime("%Y-%m-%d %H:%M:%S")}
        for r in rows.scalars()
    ]


@require_role("supervisor")
async def log_page(request: web.Request) -> web.Response:
    return render(request, "pii_log.html", {"rows": await db_call(request, _log)})


def setup(app: web.Application) -> None:
    app.router.add_post("/pii/reveal", reveal)
    app.router.add_get("/pii/log", log_page, name="pii_log")
    register_nav(app, "/pii/log", "nav.pii_log", roles=("supervisor",), order=95)
