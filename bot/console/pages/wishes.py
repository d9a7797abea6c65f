"""微心愿审核: moderation queue by status, detail with history, and the state-machine buttons.

All transitions are ``bot.core.wishes`` calls (they record who/when in ``wish_events``
and refuse illegal moves with ``InvalidTransition``; the transaction is then rolled back, so
nothing changes). Only masked contact data and the anonymised public text are shown.

A supervisor may reveal one wish's original (the sealed description) on purpose, to judge it
before approving or rejecting: a POST button, logged in ``pii_reveal_log`` (who, when, which wish;
never the text) within the per-user reveal limit, answered once with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import func, select

from bot.console.kit import (
    LIMITER,
    current_user,
    db_call,
    flash,
    now,
    path_id,
    register_nav,
    render,
    require_role,
)
from bot.console.models import PiiRevealLog
from bot.console.texts import t
from bot.core import people, wishes

logger = logging.getLogger(__name__)
REVEAL_FIELD = "wish_text"  # pii_reveal_log.field; subject: "wish:<id>"

TABS = (
    wishes.SUBMITTED,
    wishes.APPROVED,
    wishes.PUBLISHED,
    wishes.CLAIMED,
    wishes.FULFILLED,
    wishes.REJECTED,
    wishes.WITHDRAWN,
)
ACTIONS = ("approve", "reject", "publish", "claim", "fulfil")
NOTICE = {
    "approve": "approved",
    "reject": "rejected",
    "publish": "published",
    "claim": "claimed",
    "fulfil": "fulfilled",
}
MAX_NOTE = 500


def _fmt(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _claimant(name: str | None, kind: str | None) -> str:
    """Merchants are businesses; a private donor's name is personal data and shown masked."""
    if not name:
        return ""
    return name if kind == "merchant" else people.mask_name(name)


def valid_actions(wish: wishes.Wish) -> list[str]:
    """Buttons for the wish's current state, read from the capability's transition table."""
    found = [a for a in ACTIONS if wish.status in wishes.TRANSITIONS[a][0]]
    if wish.status == wishes.APPROVED and not wish.consent_publish:
        found = [a for a in found if a != "publish"] + ["claim"]  # private arrangement only
    return found


def _summary(w: wishes.Wish) -> dict:
    return {
        "id": w.id,
        "code": w.code,
        "category": w.category,
        "district": w.district or "",
        "budget": w.budget,
        "public_text": w.public_text,
        "consent": w.consent_publish,
        "status": w.status,
        "created_at": _fmt(w.created_at),
        "updated_at": _fmt(w.updated_at),
        "claimed_by": _claimant(w.claimed_by, w.claimant_kind),
        "claimant_kind": w.claimant_kind,
    }


def _list(s, status: str) -> dict:
    counts = dict(
        s.execute(select(wishes.Wish.status, func.count()).group_by(wishes.Wish.status)).all()
    )
    rows = wishes.list_by_status(s, status)
    if status not in (wishes.SUBMITTED, wishes.APPROVED):
        rows.reverse()  # finished work: newest first; queues: oldest first
    return {"counts": {k: counts.get(k, 0) for k in TABS}, "rows": [_summary(w) for w in rows]}


def _history_note(event: wishes.WishEvent, wish: wishes.Wish) -> str:
    note = event.note or ""
    if event.to_status == wishes.CLAIMED and note == (wish.claimed_by or ""):
        return _claimant(note, wish.claimant_kind)
    return people.mask_text(note)


def _detail(s, wish_id: int) -> dict | None:
    wish = s.get(wishes.Wish, wish_id)
    if wish is None:
        return None
    data = _summary(wish)
    data.update(
        {
            "mobile": wish.mobile_masked or "",
            "sender_id": wish.sender_id,
            "reject_reason": people.mask_text(wish.reject_reason or ""),
            "actions": valid_actions(wish),
            "history": [
                {
                    "at": _fmt(e.at),
                    "actor": e.actor,
                    "from": e.from_status,
                    "to": e.to_status,
                    "note": _history_note(e, wish),
                }
                for e in wish.events
            ],
        }
    )
    return data


async def wishes_page(request: web.Request) -> web.Response:
    status = request.query.get("status", wishes.SUBMITTED)
    if status not in TABS:
        status = wishes.SUBMITTED
    data = await db_call(request, _list, status)
    return render(request, "wishes.html", {"tabs": TABS, "status": status, **data})


def _wish_id(request: web.Request) -> int:
    return path_id(request, "wish_id")


async def _detail_page(
    request: web.Request,
    wish_id: int,
    *,
    error: str = "",
    form: dict | None = None,
    original: str | None = None,
    status: int = 200,
) -> web.Response:
    wish = await db_call(request, _detail, wish_id)
    if wish is None:
        return render(
            request,
            "wish_detail.html",
            {"wish": None, "error": t("staff.errors.wish.not_found"), "form": {}},
            status=404,
        )
    return render(
        request,
        "wish_detail.html",
        {
            "wish": wish,
            "error": error,
            "form": form or {},
            "kinds": wishes.CLAIMANT_KINDS,
            "original": original,
        },
        status=status,
    )


async def wish_detail(request: web.Request) -> web.Response:
    return await _detail_page(request, _wish_id(request))


def reveal_subject(wish_id: int) -> str:
    return f"wish:{wish_id}"


def _reveal(s, wish_id: int, agent: str, moment) -> str | None:
    """The wish's original description, the reveal logged in the same transaction."""
    wish = s.get(wishes.Wish, wish_id)
    if wish is None:
        return None
    s.add(
        PiiRevealLog(
            agent=agent, field=REVEAL_FIELD, subject=reveal_subject(wish.id), created_at=moment
        )
    )
    return wish.description


@require_role("supervisor")
async def wish_reveal(request: web.Request) -> web.Response:
    wish_id = _wish_id(request)
    user = current_user(request)
    window = request.app[LIMITER].pii_reveal
    if not window.hit(user.username):
        logger.warning("wish original reveal rate-limited for %s", user.username)
        response = await _detail_page(
            request, wish_id, error=t("errors.pii_rate_limited"), status=429
        )
        response.headers["Retry-After"] = str(window.retry_after(user.username))
        return response
    original = await db_call(request, _reveal, wish_id, user.username, now(request))
    if original is None:
        return await _detail_page(request, wish_id)  # the not-found page (404)
    logger.info("wish %s: original revealed by %s", wish_id, user.username)
    response = await _detail_page(request, wish_id, original=original)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_text(exc: wishes.WishError) -> str:
    status = t(f"staff.wish_status.{exc.status}", exc.status or "") if exc.status else ""
    return t(f"staff.errors.wish.{exc.code}", t("staff.errors.wish.wrong_status")).format(
        status=status
    )


def _make_action(action: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        wish_id = _wish_id(request)
        form = await request.post()
        moment, actor = now(request), current_user(request).username
        values = {
            k: str(form.get(k, "")).strip()
            for k in ("reason", "claimant", "kind", "note", "public_text")
        }
        if any(len(v) > MAX_NOTE for k, v in values.items() if k != "public_text"):
            return await _detail_page(
                request, wish_id, error=t("errors.message_too_long"), form=values, status=400
            )

        def work(s):
            if action == "approve":
                wishes.approve(s, wish_id, actor, moment, public_text=values["public_text"] or None)
            elif action == "reject":
                wishes.reject(s, wish_id, actor, values["reason"], moment)
            elif action == "publish":
                wishes.publish(s, wish_id, actor, moment)
            elif action == "claim":
                wishes.claim(s, wish_id, values["claimant"], values["kind"], actor, moment)
            else:
                wishes.fulfil(s, wish_id, actor, values["note"] or None, moment)

        try:
            await db_call(request, work)
        except wishes.WishError as exc:
            code = (
                404
                if exc.code == "not_found"
                else (
                    400
                    if exc.code in ("reason_required", "claimant_required", "bad_claimant_kind")
                    else 409
                )
            )
            return await _detail_page(
                request, wish_id, error=_error_text(exc), form=values, status=code
            )
        await flash(request, NOTICE[action])
        raise web.HTTPFound(f"/wishes/{wish_id}")

    handler.__name__ = f"wish_{action}"
    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/wishes", wishes_page, name="wishes")
    app.router.add_get("/wishes/{wish_id}", wish_detail)
    app.router.add_post("/wishes/{wish_id}/reveal", wish_reveal)
    for action in ACTIONS:
        app.router.add_post(f"/wishes/{{wish_id}}/{action}", _make_action(action))
    register_nav(app, "/wishes", "staff.nav.wishes", order=45)
