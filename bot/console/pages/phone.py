"""Phone-call assist: what the caller says → topic, facts and answers to read out (the same
agent-voice suggestions as the chat console, bot.core.agent_assist); the policy form pre-filled
from what was typed; caller look-up by mobile or 确认码 (bookings, wishes) with cancel through the
今日报到 page's own confirm-and-cancel flow."""

from __future__ import annotations

from aiohttp import web

from bot.channels.rasa_client import RasaError
from bot.console import assist
from bot.console.kit import RASA, db_call, register_nav, render
from bot.console.texts import t
from bot.core import agent_assist, caller_lookup, people

MAX_TEXT = 2000


def _blank_profile() -> dict:
    return {
        "veteran_category": "",
        "qingdao_hukou": "",
        "age": "",
        "disability_grade": "",
        "income_difficulty": "",
    }


def _context(**extra) -> dict:
    from bot.core import districts, wishes

    base = {
        "wish_categories": wishes.CATEGORIES,
        "districts": districts.names(),
        "wrapup_categories": t("wrapup_categories"),
        "calls": [],
        "text": "",
        "analysis": None,
        "profile": _blank_profile(),
        "programmes": None,
        "categories": assist.veteran_categories(),
        "error": "",
        "lookup": None,
        "lookup_query": "",
    }
    base.update(extra)
    return base


def _calls(s) -> list[dict]:
    """The latest phone-call wrap-ups (the call log), masked."""
    from sqlalchemy import select

    from bot.console.models import WrapUp

    rows = s.execute(
        select(WrapUp)
        .where(WrapUp.sender_id.like("tel-%"))
        .order_by(WrapUp.created_at.desc())
        .limit(30)
    ).scalars()
    return [
        {
            "time": w.created_at.strftime("%m-%d %H:%M"),
            "agent": w.agent,
            "category": w.category,
            "summary": people.mask_text(w.summary),
            "resolved": w.resolved,
        }
        for w in rows
    ]


async def phone_page(request: web.Request) -> web.Response:
    return render(request, "phone.html", _context(calls=await db_call(request, _calls)))


async def _analyse(request: web.Request, text: str) -> dict:
    """/model/parse → topic, facts (masked) and answers to read out. Raises RasaError."""
    parsed = await request.app[RASA].parse(text)
    intent = (parsed.get("intent") or {}).get("name")
    confidence = float((parsed.get("intent") or {}).get("confidence") or 0)
    turn = agent_assist.turns_from_events([{"event": "user", "text": text, "parse_data": parsed}])
    for index, question in agent_assist.residual_questions(turn):
        turn[index] = agent_assist.with_question_parse(
            turn[index], await request.app[RASA].parse(question)
        )
    labels = t("entity_labels")
    entities = [
        {
            "entity": labels.get(e.get("entity"), t("entity_labels.other")),
            "value": people.mask_text(str(e.get("value", ""))),
        }
        for e in parsed.get("entities") or []
        if e.get("entity") in labels
    ]
    intents = t("analytics.intents")
    ranking = [
        {
            "label": intents.get(r.get("name"), t("analytics.unknown_intent")),
            "confidence": round(float(r.get("confidence") or 0), 3),
        }
        for r in (parsed.get("intent_ranking") or [])[:5]
    ]
    answers = [
        dict(a, source_label=t(f"suggestion_sources.{a['source']}", a["source"]))
        for a in agent_assist.suggestions(turn)
        if a["source"] != "generic"
    ]
    return {
        "label": intents.get(intent, t("analytics.unknown_intent")) if intent else "",
        "confidence": round(confidence, 3),
        "entities": entities,
        "answers": answers,
        "ranking": ranking,
        "facts": agent_assist.facts(turn),
    }


def _prefill(facts: dict) -> dict:
    """The policy form's values from what the caller said (category, disability grade)."""
    raw = _blank_profile()
    if facts.get("veteran_category") in assist.veteran_categories():
        raw["veteran_category"] = facts["veteran_category"]
    if facts.get("disability_grade"):
        raw["disability_grade"] = str(facts["disability_grade"])
    return raw


async def analyse(request: web.Request) -> web.Response:
    form = await request.post()
    text = str(form.get("text", "")).strip()[:MAX_TEXT]
    if not text:
        return render(request, "phone.html", _context(error=t("errors.empty_message")), status=400)
    # the echo is masked too: personal data never comes back onto a page unmasked
    shown = people.mask_text(text)
    try:
        analysis = await _analyse(request, text)
    except RasaError:
        return render(
            request,
            "phone.html",
            _context(text=shown, error=t("errors.rasa_unavailable")),
            status=502,
        )
    return render(
        request,
        "phone.html",
        _context(text=shown, analysis=analysis, profile=_prefill(analysis["facts"])),
    )


def _profile_from_form(form) -> tuple[dict, dict]:
    raw = {k: str(form.get(k, "")).strip() for k in _blank_profile()}
    profile: dict = {}
    if raw["veteran_category"] in assist.veteran_categories():
        profile["veteran_category"] = raw["veteran_category"]
    for key in ("qingdao_hukou", "income_difficulty"):
        if raw[key] in ("yes", "no"):
            profile[key] = raw[key] == "yes"
    if raw["age"].isdigit() and 0 < int(raw["age"]) < 130:
        profile["age"] = int(raw["age"])
    if raw["disability_grade"].isdigit() and 1 <= int(raw["disability_grade"]) <= 10:
        profile["disability_grade"] = int(raw["disability_grade"])
    return raw, profile


async def check_entitlements(request: web.Request) -> web.Response:
    form = await request.post()
    raw, profile = _profile_from_form(form)
    programmes = assist.entitlements_for(profile)
    text = str(form.get("text", "")).strip()[:MAX_TEXT]  # keep the call's analysis on screen
    analysis = None
    if text:
        try:
            analysis = await _analyse(request, text)
        except RasaError:
            analysis = None
    return render(
        request,
        "phone.html",
        _context(
            text=people.mask_text(text), analysis=analysis, profile=raw, programmes=programmes
        ),
    )


def _lookup(s, query: str) -> dict:
    found = caller_lookup.lookup_caller(s, query)
    statuses = t("staff.appointment_status")
    wish_status = t("wish_status_labels")
    return {
        "appointments": [
            {
                "id": a.id,
                "code": a.code,
                "name": a.masked_name,
                "mobile": a.masked_mobile,
                "category": a.category,
                "centre_id": a.centre_id,
                "centre": a.centre.name if a.centre is not None else a.centre_id,
                "start": a.start.strftime("%Y-%m-%d %H:%M"),
                "date": a.start.date().isoformat(),
                "status": a.status,
                "status_label": statuses.get(a.status, a.status),
            }
            for a in found["appointments"]
        ],
        "wishes": [
            {
                "code": w.code,
                "category": w.category,
                "status_label": wish_status.get(w.status, w.status),
                "text": w.public_text,
            }
            for w in found["wishes"]
        ],
        "senders": found["senders"],
    }


async def lookup(request: web.Request) -> web.Response:
    """A caller by mobile or 确认码: their bookings (cancel via 今日报到) and wishes."""
    form = await request.post()
    query = str(form.get("query", "")).strip()[:40]
    if not query:
        return render(request, "phone.html", _context(error=t("errors.lookup_empty")), status=400)
    found = await db_call(request, _lookup, query)
    return render(
        request, "phone.html", _context(lookup=found, lookup_query=people.mask_text(query))
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/phone", phone_page, name="phone")
    app.router.add_post("/phone/analyse", analyse)
    app.router.add_post("/phone/entitlements", check_entitlements)
    app.router.add_post("/phone/lookup", lookup)
    register_nav(app, "/phone", "nav.phone", order=30)
