"""Agent assist: suggested replies, the caller's profile and entitlements, and PII reveal.

Suggested replies for an open conversation:
  (a) "bot": what the bot would say next — POST /conversations/{id}/predict; when the top action
      is an ``utter_`` response, its text comes from the model's domain (cached GET /domain);
  (b) "knowledge": the last user message is parsed with /model/parse and ``knowledge.answer()``
      is looked up for the top intents.
Every suggestion shown is logged (``console_suggestion_events``, event ``shown``); when the agent
sends it, ``used`` (unchanged) or ``edited`` is logged against the same ``suggestion_id``.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from aiohttp import web

from bot.channels.rasa_client import RasaError
from bot.console.kit import RASA, SUGGESTIONS, db_call, now
from bot.console.models import PiiRevealLog, SuggestionEvent
from bot.console.texts import t
from bot.core import people

logger = logging.getLogger(__name__)

PROFILE_SLOTS = (
    "veteran_category",
    "district",
    "qingdao_hukou",
    "age",
    "disability_grade",
    "income_difficulty",
)
PII_SLOTS = {
    "phone": ("phone", "mobile", "phone_number", "contact_phone"),
    "id_number": ("id_number", "id_card", "id_no"),
}
TOP_INTENTS = 3
MIN_KNOWLEDGE_CONFIDENCE = 0.15  # below this a runner-up intent is noise, not a suggestion
MAX_SUGGESTIONS_KEPT = 5000


# ------------------------------------------------------------------ capability adapters
def knowledge_answer(intent: str | None) -> dict | None:
    """``knowledge.answer(intent)`` as ``{"text", "source"}`` (None when there is no answer)."""
    if not intent:
        return None
    from bot.core import knowledge

    found = knowledge.answer(intent)
    if found is None:
        return None
    return {"text": found.text, "source": found.source}


def topic_label(intent: str | None) -> str:
    from bot.core import knowledge

    if not intent:
        return ""
    return knowledge.label(intent) or intent


def programme_dict(programme: Any) -> dict:
    from bot.core import entitlements

    return entitlements.details(programme)


def entitlements_for(profile: dict) -> dict:
    """``entitlements.find(profile)`` split into qualifies / maybe (with the missing fields)."""
    from bot.core import entitlements

    try:
        result = entitlements.find(profile)
    except ValueError:  # an unparseable slot value: show nothing rather than guess
        logger.info("console: profile not understood by the entitlement finder")
        return {"qualifies": [], "maybe": []}
    labels = t("profile_fields")
    return {
        "qualifies": [programme_dict(p) for p in result.qualifies],
        "maybe": [
            dict(programme_dict(p), missing=[labels.get(f, f) for f in missing])
            for p, missing in result.maybe
        ],
    }


def programme_by_name(name: str | None) -> dict | None:
    """A catalogue programme by canonical name or id (the ``benefit`` entity value)."""
    from bot.core import entitlements

    found = entitlements.programme_by_name(name)
    return programme_dict(found) if found is not None else None


def veteran_categories() -> list[str]:
    from bot.core import entitlements

    return list(entitlements.VETERAN_CATEGORIES)


# ------------------------------------------------------------------ helpers
_SLOT_RE = re.compile(r"\{(\w+)\}")


def render_response(domain: dict, action: str, slots: dict) -> str | None:
    variations = (domain.get("responses") or {}).get(action) or []
    for variation in variations:
        text = variation.get("text") if isinstance(variation, dict) else None
        if text:
            return _SLOT_RE.sub(lambda m: str(slots.get(m.group(1)) or m.group(0)), text)
    return None


def profile_from_slots(slots: dict) -> dict:
    return {k: slots.get(k) for k in PROFILE_SLOTS if slots.get(k) not in (None, "", [])}


def _slot_pii(slots: dict, field: str) -> str | None:
    for name in PII_SLOTS[field]:
        value = slots.get(name)
        if isinstance(value, str) and value.strip():
            if value.startswith("gAAAA"):  # a Fernet token: ID numbers are encrypted at rest
                try:
                    return people.decrypt_id(value)
                except Exception:
                    return None
            return value.strip()
    return None


def _appointments(s, sender_id: str) -> list:
    from bot.core import appointments

    return appointments.get_for_sender(s, sender_id)


def appointment_summaries(s, sender_id: str) -> list[dict]:
    """The sender's booked appointments, masked, for the profile panel."""
    out = []
    for a in _appointments(s, sender_id):
        centre = a.centre
        out.append(
            {
                "code": a.code,
                "name": a.masked_name,
                "category": a.category,
                "centre": centre.name
                if centre is not None and hasattr(centre, "name")
                else a.centre_id,
                "start": a.start.strftime("%Y-%m-%d %H:%M"),
                "mobile": a.masked_mobile,
                "id": a.id_masked,
            }
        )
    return out


def pii_value(s, sender_id: str, slots: dict, field: str) -> str | None:
    """The unmasked datum: from the sender's latest booking, else from the tracker slots."""
    booked = _appointments(s, sender_id)
    if booked:
        latest = booked[-1]
        return latest.mobile if field == "phone" else latest.id_number()
    return _slot_pii(slots, field)


def masked_pii(s, sender_id: str, slots: dict) -> dict:
    """Which personal data we hold for the sender, masked (``{"phone": "138****5678"}``)."""
    out = {}
    booked = _appointments(s, sender_id)
    if booked:
        out["phone"] = booked[-1].masked_mobile
        out["id_number"] = booked[-1].id_masked
        return out
    for field in PII_SLOTS:
        value = _slot_pii(slots, field)
        if value:
            out[field] = people.mask_phone(value) if field == "phone" else people.mask_id(value)
    return out


def _remember(app: web.Application, suggestion: dict) -> None:
    store = app[SUGGESTIONS]
    store[suggestion["id"]] = suggestion
    while len(store) > MAX_SUGGESTIONS_KEPT:
        store.pop(next(iter(store)))


def _log_events(s, rows: list[dict]) -> None:
    for row in rows:
        s.add(SuggestionEvent(**row))


# ------------------------------------------------------------------ assist
async def tracker_or_none(app: web.Application, sender_id: str) -> dict | None:
    try:
        return await app[RASA].tracker(sender_id)
    except RasaError:
        return None


async def suggestions(
    app: web.Application, sender_id: str, agent: str, tracker: dict | None
) -> list[dict]:
    rasa = app[RASA]
    slots = (tracker or {}).get("slots") or {}
    found: list[dict] = []
    try:
        prediction = await rasa.predict(sender_id)
        scores = prediction.get("scores") or []
        top = scores[0]["action"] if scores else None
        if top and top.startswith("utter_"):
            text = render_response(await rasa.domain(), top, slots)
            if text:
                found.append({"source": "bot", "ref": top, "text": text, "label": top})
    except RasaError as exc:
        logger.info("console: predict failed for assist: %s", exc)
    last_text = ((tracker or {}).get("latest_message") or {}).get("text")
    if last_text:
        try:
            parsed = await rasa.parse(last_text)
        except RasaError:
            parsed = {}
        ranking = parsed.get("intent_ranking") or (
            [parsed["intent"]] if parsed.get("intent") else []
        )
        seen = set()
        for rank, entry in enumerate(ranking[:TOP_INTENTS]):
            if rank and float(entry.get("confidence") or 0) < MIN_KNOWLEDGE_CONFIDENCE:
                continue
            intent = entry.get("name")
            answer = knowledge_answer(intent)
            if answer and intent not in seen:
                seen.add(intent)
                found.append(
                    {
                        "source": "knowledge",
                        "ref": intent,
                        "text": answer["text"],
                        "label": topic_label(intent),
                        "origin": answer["source"],
                        "confidence": round(float(entry.get("confidence") or 0), 3),
                    }
                )
    moment = now(app)
    rows = []
    for item in found:
        item["id"] = str(uuid.uuid4())
        _remember(app, dict(item, sender_id=sender_id, agent=agent))
        rows.append(
            {
                "suggestion_id": item["id"],
                "sender_id": sender_id,
                "agent": agent,
                "source": item["source"],
                "ref": item["ref"],
                "event": "shown",
                "created_at": moment,
            }
        )
    if rows:
        await db_call(app, _log_events, rows)
    return found


async def record_use(
    app: web.Application, suggestion_id: str | None, sender_id: str, agent: str, sent_text: str
) -> str | None:
    """Log ``used``/``edited`` for a suggestion the agent sent; returns the event or None."""
    if not suggestion_id:
        return None
    item = app[SUGGESTIONS].get(suggestion_id)
    if item is None or item["sender_id"] != sender_id:
        return None
    event = "used" if sent_text.strip() == item["text"].strip() else "edited"
    row = {
        "suggestion_id": suggestion_id,
        "sender_id": sender_id,
        "agent": agent,
        "source": item["source"],
        "ref": item["ref"],
        "event": event,
        "created_at": now(app),
    }
    await db_call(app, _log_events, [row])
    return event


async def assist(app: web.Application, sender_id: str, agent: str) -> dict:
    tracker = await tracker_or_none(app, sender_id)
    slots = (tracker or {}).get("slots") or {}
    profile = profile_from_slots(slots)

    def stored(s):
        return {
            "pii": masked_pii(s, sender_id, slots),
            "appointments": appointment_summaries(s, sender_id),
        }

    held = await db_call(app, stored)
    return {
        "rasa_ok": tracker is not None,
        "suggestions": await suggestions(app, sender_id, agent, tracker)
        if tracker is not None
        else [],
        "profile": {k: people.mask_text(_display(v)) for k, v in profile.items()},
        "pii": held["pii"],
        "appointments": held["appointments"],
        "entitlements": entitlements_for(profile),
    }


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return t("answer_yes") if value else t("answer_no")
    return str(value)


async def reveal(app: web.Application, sender_id: str, field: str, agent: str) -> str | None:
    """The unmasked value (logged to ``pii_reveal_log``), or None when there is nothing."""
    if field not in PII_SLOTS:
        return None
    tracker = await tracker_or_none(app, sender_id)
    slots = (tracker or {}).get("slots") or {}
    moment = now(app)

    def find_and_log(s):
        value = pii_value(s, sender_id, slots, field)
        if value is not None:
            s.add(PiiRevealLog(agent=agent, field=field, subject=sender_id, created_at=moment))
        return value

    return await db_call(app, find_and_log)
