"""停诊与号源 (supervisors): one-off closures per centre (or all) and the slot capacity.

Closures are written with ``workdays.add_closure`` / ``remove_closure`` (table
``centre_closures``); the list merges that table with ``data/closures.yml`` through
``workdays.list_closures``. Capacity per slot: ``capacity_per_slot`` from
``service_centres.yml`` unless a supervisor set an override here (``appointments.set_capacity``
/ ``clear_capacity``, table ``centre_capacity``); saving moves the centre's future slots too
(never below what is already booked) and the page says how many, warning when some slots hold
more bookings than the new capacity (those bookings are kept).
"""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web
from aiohttp_session import get_session

from bot.console.kit import current_user, db_call, flash, now, register_nav, render, require_role
from bot.console.texts import t
from bot.core import appointments as ap
from bot.core import workdays

HORIZON_DAYS = 366
MAX_REASON = 200
# Session key: the over-capacity warning shown once after a capacity change (beside its flash).
CAPACITY_WARNING = "rj_capacity_warning"


def _booked_on(s, centre_ids: list[str], day: date) -> int:
    return sum(
        1
        for cid in centre_ids
        for a in ap.list_for_centre_day(s, cid, day)
        if a.status == ap.BOOKED
    )


def _load(s, today: date) -> dict:
    centres = ap.load_centres()
    names = {c.id: c.name for c in centres}
    rows = []
    for c in workdays.list_closures(s, None, today, today + timedelta(days=HORIZON_DAYS)):
        ids = [x.id for x in centres] if c.centre_id == workdays.ALL_CENTRES else [c.centre_id]
        rows.append(
            {
                "centre_id": c.centre_id,
                "centre": t("staff.all_centres")
                if c.centre_id == workdays.ALL_CENTRES
                else names.get(c.centre_id, c.centre_id),
                "date": c.date.isoformat(),
                "weekday": "一二三四五六日"[c.date.weekday()],
                "reason": c.reason,
                "source": c.source,
                "created_by": c.created_by,
                "booked": _booked_on(s, ids, c.date),
            }
        )
    capacity = []
    overrides = ap.capacity_overrides(s)
    for c in centres:
        slots_per_day = len(ap.slot_starts(c, today))
        override = overrides.get(c.id)
        effective = override.capacity if override else c.capacity_per_slot
        capacity.append(
            {
                "id": c.id,
                "district": c.district,
                "name": c.name,
                "hours": "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in c.hours),
                "slot_minutes": c.slot_minutes,
                "capacity": effective,
                "file_capacity": c.capacity_per_slot,
                "override": {
                    "by": override.updated_by,
                    "at": override.updated_at.strftime("%Y-%m-%d %H:%M"),
                }
                if override
                else None,
                "slots_per_day": slots_per_day,
                "per_day": slots_per_day * effective,
            }
        )
    return {
        "closures": rows,
        "capacity": capacity,
        "centres": [{"id": c.id, "name": c.name, "district": c.district} for c in centres],
    }


async def _page(
    request: web.Request, *, error: str = "", warning: str = "", form=None, status: int = 200
):
    today = now(request).date()
    data = await db_call(request, _load, today)
    session = await get_session(request)
    capacity_warning = session.pop(CAPACITY_WARNING, "")
    return render(
        request,
        "closures.html",
        {
            **data,
            "today": today.isoformat(),
            "error": error,
            "warning": warning,
            "form": form or {},
            "capacity_warning": capacity_warning,
            "all_centres": workdays.ALL_CENTRES,
        },
        status=status,
    )


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
        return await _page(
            request, error=t(f"staff.errors.closure.{code}"), form=values, status=400
        )

    def work(s):
        from bot.core.closure_notice import notify_closure

        workdays.add_closure(s, values["centre"], day, values["reason"], actor, moment)
        ids = (
            [c.id for c in ap.load_centres()]
            if values["centre"] == workdays.ALL_CENTRES
            else [values["centre"]]
        )
        notify_closure(s, ids, day, values["reason"], moment)  # the booked are told at once
        return _booked_on(s, ids, day)

    booked = await db_call(request, work)
    await flash(request, "closure_added")
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
    await flash(request, "closure_removed")
    raise web.HTTPFound("/closures")


@require_role("supervisor")
async def change_capacity(request: web.Request) -> web.StreamResponse:
    """保存 (``action=save``, field ``capacity``) or 恢复默认 (``action=clear``) for one centre."""
    form = await request.post()
    centre_id = str(form.get("centre", "")).strip()
    action = str(form.get("action", "save")).strip()
    centre = ap.get_centre(centre_id)
    if centre is None:
        return await _page(request, error=t("staff.errors.capacity.unknown_centre"), status=400)
    capacity = None
    if action != "clear":
        try:
            capacity = int(str(form.get("capacity", "")).strip())
        except ValueError:
            return await _page(request, error=t("staff.errors.capacity.bad_capacity"), status=400)
    moment, actor = now(request), current_user(request).username

    def work(s):
        if capacity is None:
            return ap.clear_capacity(s, centre.id, actor, moment)
        return ap.set_capacity(s, centre.id, capacity, actor, moment)

    try:
        change = await db_call(request, work)
    except ap.AppointmentError as exc:
        key = exc.code if exc.code in ("bad_capacity", "unknown_centre") else "bad_capacity"
        return await _page(request, error=t(f"staff.errors.capacity.{key}"), status=400)
    await flash(
        request,
        "capacity_cleared" if capacity is None else "capacity_saved",
        centre=centre.name,
        capacity=change.capacity,
        updated=change.updated_slots,
    )
    if change.over_capacity_slots:
        session = await get_session(request)
        session[CAPACITY_WARNING] = t("staff.capacity_over_warning").format(
            count=change.over_capacity_slots, capacity=change.capacity
        )
    raise web.HTTPFound("/closures#capacity")


def setup(app: web.Application) -> None:
    app.router.add_get("/closures", closures_page, name="closures")
    app.router.add_post("/closures", add_closure)
    app.router.add_post("/closures/remove", remove_closure)
    app.router.add_post("/closures/capacity", change_capacity)
    register_nav(app, "/closures", "staff.nav.closures", roles=("supervisor",), order=80)
