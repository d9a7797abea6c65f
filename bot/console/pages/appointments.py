"""今日报到: one service centre's 报到 appointments for a day; check-in, no-show, cancel.

Every change goes through ``bot.core.appointments`` (which records who/when in
``appointment_events`` and enforces the rules); this page only shows what it returns, masked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiohttp import web
from sqlalchemy import select

from bot.console.kit import current_user, db_call, flash, now, path_id, register_nav, render
from bot.console.texts import t
from bot.core import appointments as ap

ACTIONS = {"checkin": ap.mark_checked_in, "noshow": ap.mark_no_show, "cancel": ap.cancel}
NOTICE = {"checkin": "checked_in", "noshow": "no_show", "cancel": "cancelled"}


# ---------------------------------------------------------------- small local functions
def parse_day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return default


def _centre_id(value: str | None, centres) -> str:
    ids = [c.id for c in centres]
    return value if value in ids else ids[0]


# ---------------------------------------------------------------- view model
def _serialise(a: ap.Appointment, moment: datetime, deadlines: dict | None = None) -> dict:
    deadlines = {} if deadlines is None else deadlines
    if a.category not in deadlines:
        deadlines[a.category] = ap.reporting_deadline_days(a.category)
    last = a.events[-1] if a.events else None
    allowed = []
    # Which buttons to offer; the capability re-checks every rule when the button is pressed.
    if a.status in (ap.BOOKED, ap.NO_SHOW) and moment.date() >= a.start.date():
        allowed.append("checkin")
    if a.status == ap.BOOKED and moment >= a.start:
        allowed.append("noshow")
    if a.status == ap.BOOKED and a.start > moment:
        allowed.append("cancel")
    return {
        "id": a.id,
        "code": a.code,
        "time": a.start.strftime("%H:%M"),
        "start": a.start.strftime("%Y-%m-%d %H:%M"),
        "name": a.masked_name,
        "mobile": a.masked_mobile,
        "id_masked": a.id_masked,
        "category": a.category,
        "status": a.status,
        "days_left": ap.days_left(a.discharge_date, deadlines[a.category], moment.date()),
        "last": {
            "action": last.action,
            "actor": last.actor,
            "at": last.at.strftime("%m-%d %H:%M"),
        }
        if last
        else None,
        "actions": allowed,
    }


def _slots(s, centre: ap.Centre, day: date) -> list[dict]:
    """Places taken per slot of the day (capacity: the slot row, else the centre's own)."""
    rows = s.execute(
        select(ap.Slot.start, ap.Slot.capacity, ap.Slot.booked).where(
            ap.Slot.centre_id == centre.id,
            ap.Slot.start >= datetime.combine(day, datetime.min.time()),
            ap.Slot.start < datetime.combine(day + timedelta(days=1), datetime.min.time()),
        )
    ).all()
    counts = {r.start: (r.capacity, r.booked) for r in rows}
    default = ap.effective_capacity(s, centre)  # staff override (停诊与号源) or the file value
    out = []
    for start in ap.slot_starts(centre, day):
        capacity, booked = counts.pop(start, (default, 0))
        out.append({"time": start.strftime("%H:%M"), "capacity": capacity, "booked": booked})
    for start, (capacity, booked) in sorted(counts.items()):  # slots outside today's hours
        out.append({"time": start.strftime("%H:%M"), "capacity": capacity, "booked": booked})
    return out


def _load_day(s, centre: ap.Centre, day: date, moment: datetime) -> dict:
    from bot.core import workdays

    appts = ap.list_for_centre_day(s, centre.id, day, include_cancelled=True)
    deadlines: dict = {}
    rows = [_serialise(a, moment, deadlines) for a in appts]
    counts = dict.fromkeys((ap.BOOKED, ap.CHECKED_IN, ap.NO_SHOW, ap.CANCELLED), 0)
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    status = workdays.day_status(s, centre.id, day)
    return {
        "rows": rows,
        "counts": counts,
        "slots": _slots(s, centre, day),
        "day_status": {
            "open": status.open,
            "reason_code": status.reason_code,
            "reason": status.reason,
        },
    }


async def _page(
    request: web.Request,
    centre_value: str | None,
    day_value: str | None,
    *,
    error: str = "",
    confirm: dict | None = None,
    status: int = 200,
) -> web.Response:
    moment = now(request)
    centres = ap.load_centres()
    centre = ap.get_centre(_centre_id(centre_value, centres))
    day = parse_day(day_value, moment.date())
    data = await db_call(request, _load_day, centre, day, moment)
    return render(
        request,
        "appointments.html",
        {
            "centres": [{"id": c.id, "name": c.name, "district": c.district} for c in centres],
            "centre": {
                "id": centre.id,
                "name": centre.name,
                "address": centre.address,
                "phone": centre.phone,
                "configured": centre.configured,
            },
            "day": day.isoformat(),
            "is_today": day == moment.date(),
            "prev_day": (day - timedelta(days=1)).isoformat(),
            "next_day": (day + timedelta(days=1)).isoformat(),
            "today": moment.date().isoformat(),
            "weekday": "一二三四五六日"[day.weekday()],
            "error": error,
            "confirm": confirm,
            **data,
        },
        status=status,
    )


# ---------------------------------------------------------------- handlers
async def appointments_page(request: web.Request) -> web.Response:
    return await _page(request, request.query.get("centre"), request.query.get("date"))


def _make_action(action: str):
    change = ACTIONS[action]

    async def handler(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        centre_value, day_value = form.get("centre"), form.get("date")
        appointment_id = path_id(request, "appointment_id")
        moment, actor = now(request), current_user(request).username

        if action == "cancel" and form.get("confirm") != "yes":

            def preview(s):
                a = s.get(ap.Appointment, appointment_id)
                return _serialise(a, moment) if a is not None else None

            row = await db_call(request, preview)
            if row is None:
                return await _page(
                    request,
                    centre_value,
                    day_value,
                    error=t("staff.errors.appointment.not_found"),
                    status=404,
                )
            return await _page(request, centre_value, day_value, confirm=row)

        def work(s):
            a = s.get(ap.Appointment, appointment_id)
            if a is None:
                raise ap.AppointmentError("not_found")
            change(s, a, actor, moment)
            return a.centre_id, a.start.date().isoformat()

        try:
            centre_id, day = await db_call(request, work)
        except ap.AppointmentError as exc:
            message = t(
                f"staff.errors.appointment.{exc.code}", t("staff.errors.appointment.not_active")
            )
            status = 404 if exc.code == "not_found" else 409
            return await _page(request, centre_value, day_value, error=message, status=status)
        await flash(request, NOTICE[action])
        raise web.HTTPFound(f"/appointments?centre={centre_id}&date={day}")

    handler.__name__ = f"appointment_{action}"
    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/appointments", appointments_page, name="appointments")
    for action in ACTIONS:
        app.router.add_post(f"/appointments/{{appointment_id}}/{action}", _make_action(action))
    register_nav(app, "/appointments", "staff.nav.appointments", order=40)
