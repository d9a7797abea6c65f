"""One conversation: transcript, take-over / reply / hand back, assist panel, notes and wrap-up."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.console import assist, delivery, handoffs
from bot.console.history import conversation_data
from bot.console.hub import channel_of
from bot.console.kit import (
    HUB,
    BadInput,
    clean_text,
    current_user,
    db_call,
    error,
    flash,
    form_or_json,
    json_response,
    now,
    render,
    text_field,
)
from bot.console.models import AgentMessage, AgentNote, ConsoleUser, WrapUp
from bot.console.texts import t

MAX_REPLY = 2000


def _history(s, sender_id: str) -> dict:
    notes = (
        s.execute(
            select(AgentNote)
            .where(AgentNote.sender_id == sender_id)
            .order_by(AgentNote.created_at.desc())
        )
        .scalars()
        .all()
    )
    wrapups = (
        s.execute(
            select(WrapUp).where(WrapUp.sender_id == sender_id).order_by(WrapUp.created_at.desc())
        )
        .scalars()
        .all()
    )
    return {
        "notes": [
            {"agent": n.agent, "text": n.text, "time": n.created_at.strftime("%m-%d %H:%M")}
            for n in notes
        ],
        "wrapups": [
            {
                "agent": w.agent,
                "category": w.category,
                "summary": w.summary,
                "resolved": w.resolved,
                "time": w.created_at.strftime("%m-%d %H:%M"),
            }
            for w in wrapups
        ],
    }


def _colleagues(s, me: str) -> list[dict]:
    """Active console users a conversation can be transferred to (supervisors marked)."""
    rows = s.execute(
        select(ConsoleUser).where(ConsoleUser.active.is_(True)).order_by(ConsoleUser.username)
    ).scalars()
    return [
        {"username": u.username, "role": t(f"roles.{u.role}", u.role)}
        for u in rows
        if u.username != me
    ]


def _undelivered(s, sender_id: str) -> list:
    """Outbox messages WeChat would not deliver (48-hour window, unfollowed), for the agent."""
    from bot.core import contacts, outbox, people

    rows = []
    for row in contacts.undeliverable_for(s, sender_id):
        reason = (row.last_error or "")[len(outbox.UNDELIVERABLE_PREFIX) :]
        rows.append(
            {
                "time": row.due_at.strftime("%m-%d %H:%M"),
                "text": people.mask_text(row.text),
                "reason": t("undelivered.reasons").get(reason, reason),
            }
        )
    return rows


async def conversation_page(request: web.Request) -> web.Response:
    sender_id = request.match_info["sender_id"]
    data = await conversation_data(request.app, sender_id) or {
        "sender_id": sender_id,
        "channel": channel_of(sender_id),
        "paused": False,
        "messages": [],
    }
    moment = now(request)
    open_item = await db_call(request, handoffs.open_for, sender_id, moment)
    history = await db_call(request, _history, sender_id)
    from bot.core import people

    for note in history["notes"]:
        note["text"] = people.mask_text(note["text"])
    for item in history["wrapups"]:
        item["summary"] = people.mask_text(item["summary"])
    undelivered = []
    if channel_of(sender_id) == "wx":
        undelivered = await db_call(request, _undelivered, sender_id)
    user = current_user(request)
    colleagues = await db_call(request, _colleagues, user.username)
    return render(
        request,
        "conversation.html",
        {
            "colleagues": colleagues,
            "undelivered": undelivered,
            "conv": data,
            "handoff": open_item,
            "mine": bool(open_item and open_item["agent"] == user.username),
            "history": history,
            "categories": t("wrapup_categories"),
        },
    )


async def api_assist(request: web.Request) -> web.Response:
    user = current_user(request)
    data = await assist.assist(request.app, request.match_info["sender_id"], user.username)
    return json_response(data)


async def reply(request: web.Request) -> web.Response:
    sender_id = request.match_info["sender_id"]
    user = current_user(request)
    try:
        body = await form_or_json(request)
        text = text_field(body, "text")
    except BadInput:
        return error(request, 400, "bad_request")
    if not text:
        return error(request, 400, "empty_message")
    if len(text) > MAX_REPLY:
        return error(request, 400, "message_too_long")
    moment = now(request)
    item = await db_call(request, handoffs.open_for, sender_id, moment)
    if item is None or item["agent"] != user.username:
        return error(request, 403, "not_your_handoff")
    if channel_of(sender_id) == "other":
        return error(request, 400, "no_channel")
    status = await delivery.send_to_user(request.app, sender_id, text)

    def record(s):
        s.add(
            AgentMessage(
                sender_id=sender_id,
                agent=user.username,
                text=text,
                status=status,
                handoff_id=item["id"],
                created_at=moment,
            )
        )

    await db_call(request, record)
    suggestion_event = await assist.record_use(
        request.app, body.get("suggestion_id") or None, sender_id, user.username, text
    )
    message = await request.app[HUB].add_agent_message(sender_id, user.username, text, status)
    return json_response(
        {
            "ok": status not in (delivery.FAILED, delivery.UNREACHABLE),
            "status": status,
            "status_label": t(f"delivery.{status}"),
            "message": message,
            "suggestion_event": suggestion_event,
        }
    )


async def add_note(request: web.Request) -> web.Response:
    sender_id = request.match_info["sender_id"]
    form = await request.post()
    text = clean_text(str(form.get("text", "")))
    if not text:
        return error(request, 400, "empty_message")
    user, moment = current_user(request), now(request)
    await db_call(
        request,
        lambda s: s.add(
            AgentNote(sender_id=sender_id, agent=user.username, text=text[:4000], created_at=moment)
        ),
    )
    await flash(request, "note_saved")
    raise web.HTTPFound(f"/conversations/{sender_id}#notes")


async def add_wrapup(request: web.Request) -> web.Response:
    sender_id = request.match_info["sender_id"]
    form = await request.post()
    category = str(form.get("category", "")).strip()
    summary = str(form.get("summary", "")).strip()
    resolved = str(form.get("resolved", ""))
    if category not in t("wrapup_categories") or not summary or resolved not in ("yes", "no"):
        return error(request, 400, "wrapup_incomplete")
    user, moment = current_user(request), now(request)
    open_item = await db_call(request, handoffs.open_for, sender_id, moment)
    await db_call(
        request,
        lambda s: s.add(
            WrapUp(
                sender_id=sender_id,
                handoff_id=open_item["id"] if open_item else None,
                agent=user.username,
                category=category,
                summary=summary[:4000],
                resolved=resolved == "yes",
                created_at=moment,
            )
        ),
    )
    await flash(request, "wrapup_saved")
    raise web.HTTPFound(f"/conversations/{sender_id}#wrapup")


def setup(app: web.Application) -> None:
    app.router.add_get("/conversations/{sender_id}", conversation_page, name="conversation")
    app.router.add_get("/api/conversations/{sender_id}/assist", api_assist)
    app.router.add_post("/conversations/{sender_id}/reply", reply)
    app.router.add_post("/conversations/{sender_id}/notes", add_note)
    app.router.add_post("/conversations/{sender_id}/wrapup", add_wrapup)
