"""来电代约报到 and 代为改约: an agent books a 报到 appointment for a caller, or moves one the phone
page's look-up found, through ``bot.core.appointments`` — the chatbot's own functions: free slots
soonest first with closures and holidays left out, the atomic booking (name, number and ID sealed
by the core), and the reschedule that keeps the 确认码 and releases the old place.

The history (``appointment_events``) names the agent as who booked or moved it, as the 今日报到
page's cancel does. A refusal comes back on the page with everything typed kept; personal data
never travels in a URL (choosing another day with details typed is a POST, ``action=show``).
"""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from bot.console.kit import current_user, db_call, flash, now, path_id, render
from bot.console.texts import t
from bot.core import appointments as ap
from bot.core import entitlements, facts, knowledge, people, workdays
from bot.core.caller_lookup import caller_id

FIELDS = ("centre", "date", "start", "name", "mobile", "id_number", "category", "discharge_date")
MAX_FIELD = 64
MAX_NAME = 32


# ---------------------------------------------------------------- wording
def fmt_day(day: date) -> str:
    weekday = t("phone_booking.weekdays")[day.weekday()]
    return t("phone_booking.day").format(month=day.month, day=day.day, weekday=weekday)


def fmt_when(moment: datetime) -> str:
    weekday = t("phone_booking.weekdays")[moment.weekday()]
    return t("phone_booking.when").format(
        month=moment.month, day=moment.day, weekday=weekday, time=moment.strftime("%H:%M")
    )


def _refusal_text(reason: str, moment: datetime, detail: str | None = None, **values) -> str:
    """The page's wording for a core refusal code (BookingError / AppointmentError)."""
    days = (ap.horizon_end(moment) - moment.date()).days
    if reason == ap.CLOSED_DAY and detail in ("holiday", "weekend"):
        detail = t(f"phone_booking.day_kinds.{detail}")
    text = t(f"phone_booking.errors.{reason}", t("phone_booking.errors.not_active"))
    return text.format(detail=detail or "", days=days, **values)


# ---------------------------------------------------------------- reading
def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _parse_start(value: str | None) -> datetime | None:
    try:
        start = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return start if start.tzinfo is None else None


def _day_note(s, centre_id: str, day: date) -> str:
    """Why a day offers no slot: closed (holiday, weekend, closure) or full / past."""
    status = workdays.day_status(s, centre_id, day)
    if not status.open:
        key = f"phone_booking.closed.{status.reason_code}"
        return t(key, t("phone_booking.no_free_slot")).format(reason=status.reason or "")
    return t("phone_booking.no_free_slot")


def _picker(
    s, centre_id: str, day_value: str, moment: datetime, current: datetime | None = None
) -> dict:
    """The centre's bookable days, soonest first, and the free slots of the chosen day (the first
    bookable day unless one was chosen). ``current``: the slot being moved away from."""
    centre = ap.get_centre(centre_id)
    if centre is None:
        return {"centre": None, "days": [], "day": "", "slots": [], "note": ""}
    horizon = (ap.horizon_end(moment) - moment.date()).days + 1
    # one start per bookable day while days remain (soonest_free spreads over days)
    days = sorted({start.date() for start in ap.soonest_free(s, centre.id, moment, horizon)})
    day = _parse_day(day_value) or (days[0] if days else None)
    slots, note = [], ""
    if day is not None:
        slots = [
            {
                "value": free.start.isoformat(timespec="minutes"),
                "label": f"{free.start:%H:%M}–{free.end:%H:%M}",
                "left": free.free,
            }
            for free in ap.list_free_slots(s, centre.id, day, moment)
            if free.start != current
        ]
        if not slots:
            note = _day_note(s, centre.id, day)
    else:
        note = t("phone_booking.no_free_day")
    return {
        "centre": {"id": centre.id, "name": centre.name, "district": centre.district},
        "days": [{"value": d.isoformat(), "label": fmt_day(d)} for d in days],
        "day": day.isoformat() if day else "",
        "slots": slots,
        "note": note,
    }


def _centres() -> list[dict]:
    return [{"id": c.id, "name": c.name, "district": c.district} for c in ap.load_centres()]


# ---------------------------------------------------------------- booking
def _form_values(form) -> dict:
    return {k: str(form.get(k, "")).strip()[:MAX_FIELD] for k in FIELDS}


def _validate(values: dict, moment: datetime) -> tuple[dict, list[str]]:
    """The booking's arguments from the form, or the Chinese reasons they are not usable."""
    errors: list[str] = []
    clean: dict = {}
    errs = "phone_booking.errors"
    centre = ap.get_centre(values["centre"])
    if centre is None:
        errors.append(t(f"{errs}.bad_centre"))
    clean["centre_id"] = values["centre"]
    clean["start"] = _parse_start(values["start"])
    if clean["start"] is None:
        errors.append(t(f"{errs}.pick_slot"))
    name = values["name"]
    if len(name) > MAX_NAME or not facts.plausible_name(name):
        errors.append(t(f"{errs}.bad_name"))
    clean["name"] = name
    try:
        clean["mobile"] = people.validate_phone(values["mobile"])
    except people.InvalidMobile:
        errors.append(t(f"{errs}.bad_mobile"))
    try:
        clean["id_number"] = people.validate_id_number(values["id_number"], today=moment.date())
    except people.InvalidIdNumber as exc:
        errors.append(t(f"{errs}.id.{exc.code}", t(f"{errs}.id.bad_format")))
    if values["category"] not in entitlements.VETERAN_CATEGORIES:
        errors.append(t(f"{errs}.bad_category"))
    clean["category"] = values["category"]
    clean["discharge_date"] = None
    if values["discharge_date"]:
        discharge = _parse_day(values["discharge_date"])
        if discharge is None or discharge > moment.date():
            errors.append(t(f"{errs}.bad_discharge"))
        clean["discharge_date"] = discharge
    return clean, errors


def _book(s, clean: dict, agent: str, moment: datetime) -> dict:
    """Book, or read the refusal while the session is open: {"id"} or {"refusal": ...}."""
    try:
        appointment = ap.book(
            s,
            sender_id=caller_id(clean["mobile"]),
            category=clean["category"],
            name=clean["name"],
            mobile=clean["mobile"],
            id_number=clean["id_number"],
            centre_id=clean["centre_id"],
            start=clean["start"],
            now=moment,
            discharge_date=clean["discharge_date"],
            by=agent,
        )
    except ap.BookingError as exc:
        existing = exc.existing
        values = {}
        if existing is not None:
            centre = existing.centre
            values = {
                "code": existing.code,
                "when": fmt_when(existing.start),
                "centre": centre.name if centre else existing.centre_id,
            }
        return {
            "refusal": _refusal_text(exc.code, moment, exc.detail, **values),
            "alternatives": _alternatives(exc.alternatives),
            "existing_id": existing.id if existing is not None else None,
        }
    return {"id": appointment.id, "code": appointment.code}


def _alternatives(starts) -> list[dict]:
    return [
        {"value": start.isoformat(timespec="minutes"), "label": fmt_when(start)} for start in starts
    ]


async def _book_page(
    request: web.Request,
    values: dict,
    *,
    errors: list[str] | None = None,
    alternatives: list[dict] | None = None,
    existing_id: int | None = None,
    status: int = 200,
) -> web.Response:
    picker = await db_call(request, _picker, values["centre"], values["date"], now(request))
    response = render(
        request,
        "phone_booking.html",
        {
            "centres": _centres(),
            "categories": list(entitlements.VETERAN_CATEGORIES),
            "picker": picker,
            "form": values,
            "errors": errors or [],
            "alternatives": alternatives or [],
            "existing_id": existing_id,
            "today": now(request).date().isoformat(),
        },
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"  # it may carry the typed name, number, ID
    return response


async def book_page(request: web.Request) -> web.Response:
    values = dict.fromkeys(FIELDS, "")
    values["centre"] = request.query.get("centre", "")[:MAX_FIELD]
    values["date"] = request.query.get("date", "")[:MAX_FIELD]
    return await _book_page(request, values)


async def book(request: web.Request) -> web.Response:
    form = await request.post()
    values = _form_values(form)
    if form.get("action") == "show":  # another centre or day, with what was typed kept
        values["start"] = ""
        return await _book_page(request, values)
    moment, agent = now(request), current_user(request).username
    clean, errors = _validate(values, moment)
    if errors:
        return await _book_page(request, values, errors=errors, status=400)
    try:
        done = await db_call(request, _book, clean, agent, moment)
    except ap.AppointmentError as exc:  # unknown_centre / bad_name / bad_category
        return await _book_page(
            request, values, errors=[_refusal_text(exc.code, moment, exc.detail)], status=400
        )
    if "refusal" in done:
        values["start"] = ""
        return await _book_page(
            request,
            values,
            errors=[done["refusal"]],
            alternatives=done["alternatives"],
            existing_id=done["existing_id"],
            status=409,
        )
    await flash(request, "phone_booked", code=done["code"])
    raise web.HTTPFound(f"/phone/appointments/{done['id']}")


# ---------------------------------------------------------------- one booking, reschedule
def _appointment(s, appointment_id: int, day_value: str, moment: datetime) -> dict | None:
    a = s.get(ap.Appointment, appointment_id)
    if a is None:
        return None
    centre = a.centre
    requirements = knowledge.reporting_requirements(a.category)
    movable = a.status == ap.BOOKED and a.start > moment
    return {
        "appointment": {
            "id": a.id,
            "code": a.code,
            "status": a.status,
            "status_label": t(f"staff.appointment_status.{a.status}", a.status),
            "name": a.masked_name,
            "mobile": a.masked_mobile,
            "category": a.category,
            "centre_id": a.centre_id,
            "centre": centre.name if centre else a.centre_id,
            "address": centre.address_text if centre else "",
            "phone": centre.phone_text if centre else "",
            "when": fmt_when(a.start),
            "date": a.start.date().isoformat(),
            "movable": movable,
            "documents": requirements["documents"],
            "source": requirements["source"],
            "history": [
                {
                    "at": e.at.strftime("%m-%d %H:%M"),
                    "actor": e.actor,
                    "action": t(f"staff.appointment_actions.{e.action}", e.action),
                    "detail": e.detail or "",
                }
                for e in ap.history(s, a)
            ],
        },
        "picker": _picker(s, a.centre_id, day_value, moment, a.start) if movable else None,
    }


async def _appointment_page(
    request: web.Request,
    appointment_id: int,
    day_value: str = "",
    *,
    errors: list[str] | None = None,
    alternatives: list[dict] | None = None,
    status: int = 200,
) -> web.Response:
    data = await db_call(request, _appointment, appointment_id, day_value, now(request))
    if data is None:
        return render(
            request,
            "phone_appointment.html",
            {"appointment": None, "errors": [t("phone_booking.errors.not_found")]},
            status=404,
        )
    return render(
        request,
        "phone_appointment.html",
        {**data, "errors": errors or [], "alternatives": alternatives or []},
        status=status,
    )


async def appointment_page(request: web.Request) -> web.Response:
    appointment_id = path_id(request, "appointment_id")
    return await _appointment_page(request, appointment_id, request.query.get("date", "")[:16])


def _reschedule(s, appointment_id: int, start: datetime, agent: str, moment: datetime) -> dict:
    a = s.get(ap.Appointment, appointment_id)
    if a is None:
        raise ap.AppointmentError("not_found")
    try:
        ap.reschedule(s, a, start, moment, by=agent)
    except ap.BookingError as exc:
        return {
            "refusal": _refusal_text(exc.code, moment, exc.detail),
            "alternatives": _alternatives(exc.alternatives),
        }
    return {"code": a.code, "when": fmt_when(a.start)}


async def reschedule(request: web.Request) -> web.Response:
    appointment_id = path_id(request, "appointment_id")
    form = await request.post()
    day_value = str(form.get("date", "")).strip()[:16]
    if form.get("action") == "show":
        return await _appointment_page(request, appointment_id, day_value)
    start = _parse_start(str(form.get("start", ""))[:MAX_FIELD])
    if start is None:
        return await _appointment_page(
            request,
            appointment_id,
            day_value,
            errors=[t("phone_booking.errors.pick_slot")],
            status=400,
        )
    moment, agent = now(request), current_user(request).username
    try:
        done = await db_call(request, _reschedule, appointment_id, start, agent, moment)
    except ap.AppointmentError as exc:  # not_found, not_active, past, same_slot, changed
        return await _appointment_page(
            request,
            appointment_id,
            day_value,
            errors=[_refusal_text(exc.code, moment, exc.detail)],
            status=404 if exc.code == "not_found" else 409,
        )
    if "refusal" in done:
        return await _appointment_page(
            request,
            appointment_id,
            day_value,
            errors=[done["refusal"]],
            alternatives=done["alternatives"],
            status=409,
        )
    await flash(request, "phone_rescheduled", code=done["code"], when=done["when"])
    raise web.HTTPFound(f"/phone/appointments/{appointment_id}")


def setup(app: web.Application) -> None:
    app.router.add_get("/phone/book", book_page)
    app.router.add_post("/phone/book", book)
    app.router.add_get("/phone/appointments/{appointment_id}", appointment_page)
    app.router.add_post("/phone/appointments/{appointment_id}/reschedule", reschedule)
