"""停诊与号源 (supervisors): one-off closures per centre (or all) and the slot capacity.

Closures are written with ``workdays.add_closure`` / ``remove_closure`` (table
``centre_closures``); the list merges that table with ``data/closures.yml`` through
``workdays.list_closures``. Capacity per slot comes from ``service_centres.yml``
(``appointments.load_centres``) — the appointments capability has no API to change it, so it is
shown read-only here.
"""
from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from actions.capabilities import appointments as ap
from actions.capabilities import workdays
from bot.console.kit import current_user, db_call, now, register_nav, render, require_role
from bot.console.pages.appointments import pop_notice, set_notice
from bot.console.texts import t

HORIZON_DAYS = 366
MAX_REASON = 200


def _booked_on(s, centre_ids: list[str], day: date) -> int:
    return sum(
        1 for cid in centre_ids for a in ap.list_for_centre_day(s, cid, day) if a.status == ap.BOOKED
    )


def _load(s, today: date) -> dict:
    centres = ap.load_centres()
    names = {c.id: c.name for c in centres}
    rows = []
    for c in workdays.list_closures(s, None, today, today + timedelta(days=HORIZON_DAYS)):
        ids = [x.id for x in centres] if c.centre_id == workdays.ALL_CENTRES else [c.centre_id]
        rows.append({
            "centre_id": c.centre_id,
            "centre": t("staff.all_centres") if c.centre_id == workdays.ALL_CENTRES else names.get(c.centre_id, c.centre_id),
            "date": c.date.isoformat(), "weekday": "一二三四五六日"[c.date.weekday()],
            "reason": c.reason, "source": c.source, "created_by": c.created_by,
            "booked": _booked_on(s, ids, c.date),
        })
    capacity = []
    for c in centres:
        slots_per_day = len(ap.slot_starts(c, today))
        capacity.append({
            "id": c.id, "district": c.district, "name": c.name,
            "hours": "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in c.hours),
            "slot_minutes": c.slot_minutes, "capacity": c.capacity_per_slot,
            "slots_per_day": slots_per_day, "per_day": slots_per_day * c.capacity_per_slot,
        })
    return {"closures": rows, "capacity": capacity,
            "centres": [{"id": c.id, "name": c.name, "district": c.district} for c in centres]}


async def _page(request: web.Request, *, error: str = "", warning: str = "", form=None, status: int = 200):
    today = now(request).date()
    data = await db_call(request, _load, today)
    return render(request, "closures.html", {
        **data, "today": today.isoformat(), "error": error, "warning": warning, "form": form or {},
        "notice": await pop_notice(request), "all_centres": workdays.ALL_CENTRES,
    }, status=status)


@require_role("supervisor")
async def closures_page(request: web.Request) -> web.Response:
    return await _page(request)


def _valid_centre(value: str) -> bool:
    return value == workdays.ALL_CENTRES or ap.get_centre(value) is not None


@require_role("supervisor")
async def add_closure(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in ("centre", "date", "reason")}
    moment, actor = now(request), current_user(request).username
    code = None
    try:
        day = date.fromisoformat(values["date"])
    except ValueError:
        day, code = None, "bad_date"
    if code is None and day < moment.date():
        code = "past_date"
    elif code is None and not _valid_centre(values["centre"]):
        code = "bad_centre"
    elif code is None and not values["reason"]:
        code = "reason_required"
    elif code is None and len(values["reason"]) > MAX_REASON:
        code = "reason_too_long"
    if code:
        return await _page(request, error=t(f"staff.errors.closure.{code}"), form=values, status=400)

    def work(s):
        workdays.add_closure(s, values["centre"], day, values["reason"], actor, moment)
        ids = [c.id for c in ap.load_centres()] if values["centre"] == workdays.ALL_CENTRES else [values["centre"]]
        return _booked_on(s, ids, day)

    booked = await db_call(request, work)
    await set_notice(request, "closure_added")
    if booked:  # existing bookings are not cancelled by a closure: tell the supervisor right away
        return await _page(request, warning=t("staff.closure_booked_warning").format(count=booked))
    raise web.HTTPFound("/closures")


@require_role("supervisor")
async def remove_closure(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    centre_id = str(form.get("centre", "")).strip()
    try:
        day = date.fromisoformat(str(form.get("date", "")).strip())
    except ValueError:
        return await _page(request, error=t("staff.errors.closure.bad_date"), status=400)
    removed = await db_call(request, workdays.remove_closure, centre_id, day)
    if not removed:
        return await _page(request, error=t("staff.errors.closure.not_found"), status=404)
    await set_notice(request, "closure_removed")
    raise web.HTTPFound("/closures")


def setup(app: web.Application) -> None:
    app.router.add_get("/closures", closures_page, name="closures")
    app.router.add_post("/closures", add_closure)
    app.router.add_post("/closures/remove", remove_closure)
    register_nav(app, "/closures", "staff.nav.closures", roles=("supervisor",), order=80)
