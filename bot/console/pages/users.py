"""Account management (supervisors): create agents/supervisors, enable/disable accounts."""

from __future__ import annotations

from aiohttp import web

from bot.console import accounts
from bot.console.kit import (
    current_user,
    db_call,
    error,
    flash,
    now,
    path_id,
    register_nav,
    render,
    require_role,
)
from bot.console.security import end_live_connections
from bot.console.texts import t


def _rows(s) -> list[dict]:
    return [
        {
            "id": u.id,
            "username": u.username,
            "role": u.role,
            "active": u.active,
            "created_at": u.created_at.strftime("%Y-%m-%d"),
            "created_by": u.created_by or "",
            "last_login_at": u.last_login_at.strftime("%m-%d %H:%M") if u.last_login_at else "",
        }
        for u in accounts.list_users(s)
    ]


@require_role("supervisor")
async def users_page(request: web.Request) -> web.Response:
    return render(
        request, "users.html", {"users": await db_call(request, _rows), "error": "", "form": {}}
    )


@require_role("supervisor")
async def create(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    role = str(form.get("role", "agent"))
    code = "password_mismatch" if password != str(form.get("password2", "")) else None
    if code is None:
        moment, me = now(request), current_user(request).username
        try:
            await db_call(
                request,
                lambda s: (
                    accounts.create_user(s, username, password, role, now=moment, created_by=me)
                    and None
                ),
            )
        except accounts.AccountError as exc:
            code = exc.code
    if code is not None:
        return render(
            request,
            "users.html",
            {
                "users": await db_call(request, _rows),
                "error": t(f"errors.{code}"),
                "form": {"username": username, "role": role},
            },
            status=400,
        )
    await flash(request, "user_created")
    raise web.HTTPFound("/users")


@require_role("supervisor")
async def set_active(request: web.Request) -> web.Response:
    user_id = path_id(request, "user_id")
    form = await request.post()
    active = str(form.get("active", "")) == "1"
    if user_id == current_user(request).id and not active:
        return error(request, 400, "cannot_disable_self")
    try:
        await db_call(request, lambda s: accounts.set_active(s, user_id, active) and None)
    except accounts.AccountError as exc:
        return error(request, 404, exc.code)
    if not active:  # its logins ended in set_active; its live pages end now too
        await end_live_connections(request.app, user_id)
    await flash(request, "user_updated")
    raise web.HTTPFound("/users")


def setup(app: web.Application) -> None:
    app.router.add_get("/users", users_page, name="users")
    app.router.add_post("/users", create)
    app.router.add_post("/users/{user_id}/active", set_active)
    register_nav(app, "/users", "nav.users", roles=("supervisor",), order=90)
