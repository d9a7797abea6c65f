"""Phone-call assist: what the caller says → intent, entities, suggested answer; entitlement
check."""

from __future__ import annotations

from aiohttp import web

from bot.channels.rasa_client import RasaError
from bot.console import assist
from bot.console.kit import RASA, register_nav, render
from bot.console.texts import t
from bot.core import people

MAX_TEXT = 2000
BENEFIT_INTENTS = {"ask_benefit"}


def _blank_profile() -> dict:
    return {
        "veteran_category": "",
        "qingdao_hukou": "",
        "age": "",
        "disability_grade": "",
        "income_difficulty": "",
    }


def _context(**extra) -> dict:
    base = {
        "text": "",
        "analysis": None,
        "profile": _blank_profile(),
        "programmes": None,
        "categories": assist.veteran_categories(),
        "error": "",
    }
    base.update(extra)
    return base


async def phone_page(request: web.Request) -> web.Response:
    return render(request, "phone.html", _context())


async def _analyse(request: web.Request, text: str) -> dict:
    """/model/parse → intent, confidence, entities (masked) and suggested answers. Raises
    RasaError."""
    parsed = await request.app[RASA].parse(text)
    intent = (parsed.get("intent") or {}).get("name")
    confidence = float((parsed.get("intent") or {}).get("confidence") or 0)
    entities = [
        {"entity": e.get("entity"), "value": people.mask_text(str(e.get("value", "")))}
        for e in parsed.get("entities") or []
    ]
    answers = []
    if intent in BENEFIT_INTENTS:
        for e in parsed.get("entities") or []:
            if e.get("entity") == "benefit":
                programme = assist.programme_by_name(str(e.get("value")))
                if programme:
                    answers.append({"kind": "programme", "programme": programme})
    answer = assist.knowledge_answer(intent)
    if answer:
        answers.append({"kind": "knowledge", "label": assist.topic_label(intent), **answer})
    ranking = [
        {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 3)}
        for r in (parsed.get("intent_ranking") or [])[:5]
    ]
    return {
        "intent": intent,
        "label": assist.topic_label(intent) if intent else "",
        "confidence": round(confidence, 3),
        "entities": entities,
        "answers": answers,
        "ranking": ranking,
    }


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
    return render(request, "phone.html", _context(text=shown, analysis=analysis))


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


def setup(app: web.Application) -> None:
    app.router.add_get("/phone", phone_page, name="phone")
    app.router.add_post("/phone/analyse", analyse)
    app.router.add_post("/phone/entitlements", check_entitlements)
    register_nav(app, "/phone", "nav.phone", order=30)
