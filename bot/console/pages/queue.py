"""Handoff queue: crisis first; take over (pause the bot) and hand back (resume)."""

from __future__ import annotations

from aiohttp import web

from bot.console import handoffs
from bot.console.kit import (
    BadInput,
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
from bot.core import handoff, presence

STALE_HOURS = (2, 12, 24, 72)


async def queue_page(request: web.Request) -> web.Response:
    user = current_user(request)
    status = await db_call(request, presence.status_of, user.username)
    return render(
        request,
        "queue.html",
        {
            "items": await handoffs.queue_items(request.app),
            "my_status": status,
            "online": await db_call(request, presence.online_agents, now(request)),
            "stale_hours": STALE_HOURS,
        },
    )


async def set_status(request: web.Request) -> web.StreamResponse:
    """An agent sets themself online or away (the bot tells veterans when nobody is online)."""
    form = await request.post()
    status = str(form.get("status", ""))
    if status not in presence.STATUSES:
        return error(request, 400, "bad_request")
    user, moment = current_user(request), now(request)
    await db_call(request, lambda s: presence.set_status(s, user.username, status, moment) and None)
    await flash(request, f"status_{status}")
    raise web.HTTPFound("/queue")


async def transfer(request: web.Request) -> web.StreamResponse:
    """The holding agent (or a supervisor) passes the conversation to a colleague."""
    user = current_user(request)
    form = await request.post()
    to_agent = str(form.get("to_agent", "")).strip()
    try:
        item = await handoffs.transfer(
            request.app,
            _handoff_id(request),
            user.username,
            to_agent,
            force=user.is_supervisor,
        )
    except handoffs.HandoffError as exc:
        return error(request, exc.status, exc.code)
    await flash(request, "transferred", to=to_agent)
    raise web.HTTPFound(f"/conversations/{item['sender_id']}")


@require_role("supervisor")
async def close_stale(request: web.Request) -> web.StreamResponse:
    """Bulk close of stale waiting requests, with the reason recorded on each."""
    form = await request.post()
    try:
        hours = int(str(form.get("hours", "")))
        if hours not in STALE_HOURS:
            raise BadInput("hours")
    except (ValueError, BadInput):
        return error(request, 400, "bad_request")
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return error(request, 400, "close_reason_missing")
    user = current_user(request)
    try:
        count = await handoffs.close_stale(request.app, hours, reason, user.username)
    except handoffs.HandoffError as exc:
        return error(request, exc.status, exc.code)
    await flash(request, "stale_closed", count=count, hours=hours)
    raise web.HTTPFound("/queue")


async def api_queue(request: web.Request) -> web.Response:
    return json_response({"items": await handoffs.queue_items(request.app)})


def _handoff_id(request: web.Request) -> int:
    return path_id(request, "handoff_id")


async def take(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    try:
        item = await handoffs.take(request.app, _handoff_id(request), user.username)
    except handoffs.HandoffError as exc:
        return error(request, exc.status, exc.code)
    target = f"/conversations/{item['sender_id']}"
    if request.headers.get("X-Requested-With") == "fetch":
        return json_response({"ok": True, "handoff": item, "location": target})
    await flash(request, "taken")
    raise web.HTTPFound(target)


async def release(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    handoff_id = _handoff_id(request)
    moment = now(request)

    def find(s):
        try:
            return handoffs.serialise(handoff.get(s, handoff_id), moment)
        except handoff.HandoffError:
            return None

    item = await db_call(request, find)
    if item is None:
        return error(request, 404, "not_found")
    if item["status"] == handoff.CLOSED:
        return error(request, 409, "handoff_closed")
    if item["taken"] and item["agent"] != user.username and not user.is_supervisor:
        return error(request, 403, "not_your_handoff")
    try:
        await handoffs.release(
            request.app, handoff_id, user.username, item["sender_id"], force=user.is_supervisor
        )
    except handoffs.HandoffError as exc:
        return error(request, exc.status, exc.code)
    target = f"/conversations/{item['sender_id']}"
    if request.headers.get("X-Requested-With") == "fetch":
        return json_response({"ok": True, "location": target})
    await flash(request, "released")
    raise web.HTTPFound(target)


def setup(app: web.Application) -> None:
    app.router.add_get("/queue", queue_page, name="queue")
    app.router.add_get("/api/queue", api_queue)
    app.router.add_post("/handoffs/{handoff_id}/take", take)
    app.router.add_post("/handoffs/{handoff_id}/release", release)
    app.router.add_post("/handoffs/close-stale", close_stale)
    app.router.add_post("/handoffs/{handoff_id}/transfer", transfer)
    app.router.add_post("/agent/status", set_status)
    register_nav(app, "/queue", "nav.queue", order=20)
