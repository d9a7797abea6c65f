"""查找: search past conversations and appointments beyond the live list's 200.

One box: a mobile number or 确认码 finds bookings and wishes (bot.core.caller_lookup); any text
finds veterans' messages in Rasa's event log (``events_db_url``), handoff questions, agents'
replies and wrap-ups. Everything shown is masked.
"""

from __future__ import annotations

import json
from functools import lru_cache

from aiohttp import web
from sqlalchemy import create_engine, select, text

from bot.console.kit import CONFIG, db_call, register_nav, render
from bot.console.models import AgentMessage, WrapUp
from bot.console.texts import t
from bot.core import caller_lookup, handoff, people

LIMIT = 100
# Handoff questions are stored encrypted (PIPL), so SQL cannot match inside them: the newest
# SCANNED requests are decrypted and matched here.
SCANNED = 5000


def _like(query: str) -> str:
    """A LIKE pattern for ``query`` with ``ESCAPE '!'`` (the same on SQLite and PostgreSQL)."""
    return "%" + query.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def _stored(s, query: str) -> dict:
    pattern = _like(query)
    H = handoff.HandoffRequest
    newest = s.execute(select(H).order_by(H.created_at.desc()).limit(SCANNED)).scalars()
    handoffs = [h for h in newest if query in (h.first_text or "") or query in h.sender_id][:LIMIT]
    replies = s.execute(
        select(AgentMessage)
        .where(AgentMessage.text.like(pattern, escape="!"))
        .order_by(AgentMessage.created_at.desc())
        .limit(LIMIT)
    ).scalars()
    found = caller_lookup.lookup_caller(s, query)
    return {
        "handoffs": [
            {
                "sender_id": h.sender_id,
                "time": h.created_at.strftime("%Y-%m-%d %H:%M"),
                "reason": t(f"reasons.{h.reason}", h.reason),
                "status": t(f"handoff_status.{h.status}", h.status),
                "text": people.mask_text(h.first_text),
            }
            for h in handoffs
        ],
        "replies": [
            {
                "sender_id": r.sender_id,
                "time": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "who": r.agent,
                "text": people.mask_text(r.text),
            }
            for r in replies
        ]
        + [
            {
                "sender_id": w.sender_id,
                "time": w.created_at.strftime("%Y-%m-%d %H:%M"),
                "who": w.agent,
                "text": people.mask_text(w.summary),
            }
            for w in s.execute(
                select(WrapUp)
                .where(WrapUp.summary.like(pattern, escape="!"))
                .order_by(WrapUp.created_at.desc())
                .limit(LIMIT)
            ).scalars()
        ],
        "appointments": [
            {
                "sender_id": a.sender_id,
                "code": a.code,
                "name": a.masked_name,
                "mobile": a.masked_mobile,
                "centre": a.centre.name if a.centre is not None else a.centre_id,
                "start": a.start.strftime("%Y-%m-%d %H:%M"),
                "status": t(f"staff.appointment_status.{a.status}", a.status),
            }
            for a in found["appointments"]
        ],
    }


@lru_cache(maxsize=4)
def _events_engine(url: str):
    return create_engine(url)


def _messages(url: str, query: str) -> list[dict]:
    """Veterans' messages in Rasa's event table that contain ``query`` (newest first)."""
    if not url:
        return []
    escaped = json.dumps(query)[1:-1]  # the broker stores JSON with \\uXXXX escapes
    rows = []
    with _events_engine(url).connect() as conn:
        for sender_id, data in conn.execute(
            text(
                "SELECT sender_id, data FROM events WHERE data LIKE :a ESCAPE '!' "
                "OR data LIKE :b ESCAPE '!' "
                "ORDER BY id DESC LIMIT :n"
            ),
            {"a": _like(escaped), "b": _like(query), "n": LIMIT * 3},
        ):
            event = json.loads(data)
            if event.get("event") != "user" or query not in str(event.get("text") or ""):
                continue
            rows.append({"sender_id": sender_id, "text": people.mask_text(event["text"])})
    return rows[:LIMIT]


async def search_page(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()[:50]
    results = None
    if query:
        results = await db_call(request, _stored, query)
        try:
            results["messages"] = await db_call(
                request, lambda _s: _messages(request.app[CONFIG].events_db_url, query)
            )
        except Exception:  # an unreadable event log must not hide the other results
            results["messages"] = []
    return render(request, "search.html", {"q": query, "results": results})


def setup(app: web.Application) -> None:
    app.router.add_get("/search", search_page, name="search")
    register_nav(app, "/search", "nav.search", order=15)
