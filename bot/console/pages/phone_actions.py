"""来电代办: what an agent does on the phone for a caller — register a 微心愿 or a job seeker on
their behalf (the core functions, not a copy), and log the call with its wrap-up.

A caller has no chat, so their records use ``caller_lookup.caller_id(mobile)`` (a keyed
fingerprint, never the number itself); the phone page finds them again by mobile.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.kit import current_user, db_call, error, flash, now
from bot.console.models import WrapUp
from bot.console.texts import t
from bot.core import jobs, people, wishes
from bot.core.caller_lookup import caller_id


def _mobile(form) -> str | None:
    try:
        return people.validate_mobile(str(form.get("mobile", "")))
    except people.InvalidMobile:
        return None


async def register_wish(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    mobile = _mobile(form)
    if mobile is None:
        return error(request, 400, "bad_mobile")
    moment = now(request)

    def submit(s):
        return wishes.submit(
            s,
            sender_id=caller_id(mobile),
            category=str(form.get("category", "")),
            description=str(form.get("description", "")),
            district=str(form.get("district", "")) or None,
            mobile=mobile,
            consent_publish=form.get("consent") == "yes",
            now=moment,
        ).code

    try:
        code = await db_call(request, submit)
    except wishes.WishError:
        return error(request, 400, "phone_wish_invalid")
    await flash(request, "phone_wish_saved", code=code)
    raise web.HTTPFound("/phone")


async def register_seeker(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    mobile = _mobile(form)
    skills = str(form.get("skills", "")).strip()[:1000]
    if mobile is None:
        return error(request, 400, "bad_mobile")
    if not skills:
        return error(request, 400, "phone_seeker_invalid")
    moment = now(request)

    def register(s):
        jobs.register_seeker(
            s,
            sender_id=caller_id(mobile),
            skills=skills,
            desired_job=str(form.get("desired_job", "")).strip()[:200] or None,
            district=str(form.get("district", "")) or None,
            mobile=mobile,
            name=str(form.get("name", "")).strip()[:64] or None,
            now=moment,
        )

    try:
        await db_call(request, register)
    except jobs.JobError:
        return error(request, 400, "phone_seeker_invalid")
    await flash(request, "phone_seeker_saved")
    raise web.HTTPFound("/phone")


async def log_call(request: web.Request) -> web.StreamResponse:
    """The call log: one wrap-up per call (category, what was done, resolved or not)."""
    form = await request.post()
    category = str(form.get("category", "")).strip()
    summary = str(form.get("summary", "")).strip()[:4000]
    resolved = str(form.get("resolved", ""))
    if category not in t("wrapup_categories") or not summary or resolved not in ("yes", "no"):
        return error(request, 400, "wrapup_incomplete")
    mobile = _mobile(form)
    user, moment = current_user(request), now(request)
    await db_call(
        request,
        lambda s: s.add(
            WrapUp(
                sender_id=caller_id(mobile) if mobile else "tel-unknown",
                handoff_id=None,
                agent=user.username,
                category=category,
                summary=people.mask_text(summary),
                resolved=resolved == "yes",
                created_at=moment,
            )
        ),
    )
    await flash(request, "wrapup_saved")
    raise web.HTTPFound("/phone#call-log")


def setup(app: web.Application) -> None:
    app.router.add_post("/phone/wish", register_wish)
    app.router.add_post("/phone/seeker", register_seeker)
    app.router.add_post("/phone/calls", log_call)
