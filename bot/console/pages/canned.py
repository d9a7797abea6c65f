"""常用语: canned replies agents insert with one click; supervisors add, edit and retire them.

The first visit seeds the list from ``bot/core/data/agent_assist.yml`` (``canned``); after that
the list lives in the database (``console_canned_replies``).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.console.kit import (
    current_user,
    db_call,
    error,
    flash,
    json_response,
    now,
    path_id,
    register_nav,
    render,
    require_role,
)
from bot.console.models import CannedReply
from bot.core import agent_assist

MAX_TITLE, MAX_TEXT = 40, 1000


def _rows(s, moment, actor: str, active_only: bool) -> list[dict]:
    if s.execute(select(CannedReply.id).limit(1)).first() is None:
        for item in agent_assist.data().get("canned") or ():
            s.add(
                CannedReply(
                    title=str(item["title"])[:MAX_TITLE],
                    text=str(item["text"])[:MAX_TEXT],
                    active=True,
                    updated_by=actor,
                    updated_at=moment,
                )
            )
        s.flush()
    query = select(CannedReply).order_by(CannedReply.id)
    if active_only:
        query = query.where(CannedReply.active.is_(True))
    return [
        {"id": r.id, "title": r.title, "text": r.text, "active": r.active}
        for r in s.execute(query).scalars()
    ]


async def canned_page(request: web.Request) -> web.Response:
    user = current_user(request)
    rows = await db_call(request, _rows, now(request), user.username, not user.is_supervisor)
    return render(request, "canned.html", {"rows": rows})


async def api_canned(request: web.Request) -> web.Response:
    user = current_user(request)
    return json_response(
        {"items": await db_call(request, _rows, now(request), user.username, True)}
    )


def _fields(form) -> tuple[str, str] | None:
    title = str(form.get("title", "")).strip()[:MAX_TITLE]
    text = str(form.get("text", "")).strip()[:MAX_TEXT]
    return (title, text) if title and text else None


@require_role("supervisor")
async def add(request: web.Request) -> web.StreamResponse:
    fields = _fields(await request.post())
    if fields is None:
        return error(request, 400, "canned_incomplete")
    user, moment = current_user(request), now(request)
    await db_call(
        request,
        lambda s: s.add(
            CannedReply(
                title=fields[0],
                text=fields[1],
                active=True,
                updated_by=user.username,
                updated_at=moment,
            )
        ),
    )
    await flash(request, "canned_saved")
    raise web.HTTPFound("/canned")


@require_role("supervisor")
async def update(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    reply_id = path_id(request, "reply_id")
    user, moment = current_user(request), now(request)
    action = str(form.get("action", "save"))
    fields = _fields(form)
    if action == "save" and fields is None:
        return error(request, 400, "canned_incomplete")

    def change(s):
        row = s.get(CannedReply, reply_id)
        if row is None:
            return False
        if action == "save":
            row.title, row.text = fields
        else:
            row.active = action == "restore"
        row.updated_by, row.updated_at = user.username, moment
        return True

    if not await db_call(request, change):
        return error(request, 404, "not_found")
    await flash(request, "canned_saved")
    raise web.HTTPFound("/canned")


def setup(app: web.Application) -> None:
    app.router.add_get("/canned", canned_page, name="canned")
    app.router.add_get("/api/canned", api_canned)
    app.router.add_post("/canned", add)
    app.router.add_post("/canned/{reply_id}", update)
    register_nav(app, "/canned", "nav.canned", order=35)
