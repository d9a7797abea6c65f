"""Agent assist: suggested replies, the caller's profile and entitlements, and PII reveal.

Suggested replies and the takeover summary come from ``bot.core.agent_assist`` over the whole
conversation (the tracker's user events with their stored NLU results; the question part of a
"转人工…" message is parsed with /model/parse). They are in the agent's voice, never the bot's.
Every suggestion shown is logged (``console_suggestion_events``, event ``shown``); when the agent
sends it, ``used`` (unchanged) or ``edited`` is logged against the same ``suggestion_id``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from aiohttp import web

from bot.channels.rasa_client import RasaError
from bot.console.kit import RASA, SUGGESTIONS, db_call, now
from bot.console.models import PiiRevealLog, SuggestionEvent
from bot.console.texts import t
from bot.core import agent_assist, people

logger = logging.getLogger(__name__)

PROFILE_SLOTS = (
    "veteran_category",
    "district",
    "qingdao_hukou",
    "age",
    "disability_grade",
    "income_difficulty",
)
SEVERITY_KEYS = {1: "low", 2: "medium", 3: "high"}
PII_SLOTS = {
    "phone": ("phone", "mobile", "phone_number", "contact_phone"),
    "id_number": ("id_number", "id_card", "id_no"),
}
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
    order = {p.id: n for n, p in enumerate(entitlements.load_catalogue())}

    def rank(p):  # statutory (法定优待) first, 荣军矩阵 perks last; then the catalogue's order
        return (agent_assist.KIND_ORDER.get(p.kind, 9), order.get(p.id, 0))

    return {
        "qualifies": [programme_dict(p) for p in sorted(result.qualifies, key=rank)],
        "maybe": [
            dict(programme_dict(p), missing=[labels.get(f, f) for f in missing])
            for p, missing in sorted(result.maybe, key=lambda row: rank(row[0]))
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


async def conversation_turns(rasa, tracker: dict | None) -> list[dict]:
    """The veteran's messages; a "转人工…" message that also asks something has its question part
    parsed on its own (``rasa``: the RasaClient), so the suggestion answers the question, not the
    trigger."""
    turns = agent_assist.turns_from_events((tracker or {}).get("events"))
    for index, question in agent_assist.residual_questions(turns):
        try:
            parsed = await rasa.parse(question)
        except RasaError:
            continue
        turns[index] = agent_assist.with_question_parse(turns[index], parsed)
    return turns


async def suggestions(
    app: web.Application,
    sender_id: str,
    agent: str,
    turns: list[dict],
    slots: dict,
    held: dict,
) -> list[dict]:
    """Replies in the agent's voice from the whole conversation (bot.core.agent_assist); every
    one shown is logged (``shown``) so analytics can tell which help."""
    found = agent_assist.suggestions(
        turns,
        slots=slots,
        appointments=held["appointments"],
        wishes=held["wishes"],
        reason=held["reason"],
    )
    moment = now(app)
    rows = []
    for item in found:
        item["id"] = str(uuid.uuid4())
        item["source_label"] = t(f"suggestion_sources.{item['source']}", item["source"])
        _remember(app, dict(item, sender_id=sender_id, agent=agent))
        rows.append(
            {
                "suggestion_id": item["id"],
                "sender_id": sender_id,
                "agent": agent,
                "source": item["source"],
                "ref": item["ref"][:64],
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


def _wishes(s, sender_id: str) -> list[dict]:
    from bot.core import wishes

    return [
        {"code": w["code"], "category": w["category"], "status": w["status"]}
        for w in wishes.list_for_sender(s, sender_id)
    ]


def _reason(s, sender_id: str) -> str | None:
    from bot.core import handoff

    found = handoff.get_open(s, sender_id)
    return found.reason if found is not None else None


def summary_view(summary: dict) -> dict:
    """The takeover summary with Chinese labels (no intent codes or slot keys)."""
    labels = t("profile_fields")
    facts = summary["facts"]
    shown = []
    for key, value in facts.items():
        if key == "disability_grade":
            value = f"{value}级"
        shown.append({"label": labels.get(key, key), "value": people.mask_text(_display(value))})
    wish_status = t("wish_status_labels")
    return {
        "reason": summary["reason"],
        "reason_label": t(f"reasons.{summary['reason']}", "") if summary["reason"] else "",
        "trigger": summary["trigger"],
        "question": summary["question"],
        "severity": summary["severity"],
        "severity_label": t(f"crisis_severity.{SEVERITY_KEYS[summary['severity']]}", "")
        if summary["severity"]
        else "",
        "facts": shown,
        "appointments": summary["appointments"],
        "wishes": [
            dict(w, status_label=wish_status.get(w["status"], w["status"]))
            for w in summary["wishes"]
        ],
        "entitlements": summary["entitlements"],
    }


async def assist(app: web.Application, sender_id: str, agent: str) -> dict:
    tracker = await tracker_or_none(app, sender_id)
    slots = (tracker or {}).get("slots") or {}

    def stored(s):
        return {
            "pii": masked_pii(s, sender_id, slots),
            "appointments": appointment_summaries(s, sender_id),
            "wishes": _wishes(s, sender_id),
            "reason": _reason(s, sender_id),
        }

    held = await db_call(app, stored)
    turns = await conversation_turns(app[RASA], tracker)
    summary = agent_assist.summary(
        turns,
        slots=slots,
        appointments=held["appointments"],
        wishes=held["wishes"],
        reason=held["reason"],
    )
    crisis = agent_assist.is_crisis(turns, held["reason"])
    profile = profile_from_slots(slots)
    return {
        "rasa_ok": tracker is not None,
        "suggestions": await suggestions(app, sender_id, agent, turns, slots, held)
        if tracker is not None
        else [],
        "crisis_script": agent_assist.crisis_script() if crisis else None,
        "summary": summary_view(summary),
        "profile": {k: people.mask_text(_display(v)) for k, v in profile.items()},
        "pii": held["pii"],
        "appointments": held["appointments"],
        "entitlements": summary["entitlements"],
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
