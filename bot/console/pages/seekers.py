"""求职登记: the veterans registered as job seekers (``bot.core.jobs``), masked, newest first, with
their best matching jobs, so staff can call them back; filter by district."""

from __future__ import annotations

from aiohttp import web

from bot.console.kit import db_call, register_nav, render
from bot.core import jobs

MAX_ROWS = 300


def _rows(s, district: str | None) -> list[dict]:
    out = []
    for seeker in jobs.list_seekers(s, district=district or None)[:MAX_ROWS]:
        matches = jobs.match_jobs(s, seeker, limit=3)
        out.append(
            {
                "sender_id": seeker.sender_id,
                "name": seeker.name_masked or "",
                "mobile": seeker.mobile_masked or "",
                "desired": seeker.desired_job or "",
                "skills": seeker.skills or "",
                "district": seeker.district or "",
                "updated": seeker.updated_at.strftime("%Y-%m-%d"),
                "matches": [m.job.title for m in matches],
            }
        )
    return out


async def seekers_page(request: web.Request) -> web.Response:
    district = request.query.get("district", "").strip()
    rows = await db_call(request, _rows, district)
    return render(
        request,
        "seekers.html",
        {"rows": rows, "district": district, "districts": jobs.DISTRICTS},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/seekers", seekers_page, name="seekers")
    register_nav(app, "/seekers", "nav.seekers", order=75)
