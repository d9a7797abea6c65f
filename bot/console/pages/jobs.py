"""岗位管理: job postings shown to veterans by the job matcher (``bot.core.jobs``).

List (示例 demo rows from `make demo-data` are marked), add, take down (deactivate) and put back up.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.kit import db_call, flash, now, path_id, register_nav, render
from bot.console.texts import t
from bot.core import jobs

FIELDS = ("employer", "title", "requirements", "skills", "district", "pay")
LIMITS = {
    "employer": 200,
    "title": 200,
    "requirements": 2000,
    "skills": 1000,
    "district": 16,
    "pay": 100,
}


def _rows(s, show_inactive: bool) -> list[dict]:
    rows = [jobs.job_dict(j) for j in jobs.list_jobs(s, active_only=not show_inactive)]
    rows.sort(
        key=lambda r: (not r["active"], r["is_sample"], -r["id"])
    )  # real, active, newest first
    return rows


async def _page(
    request: web.Request, *, error: str = "", form=None, status: int = 200
) -> web.Response:
    show_inactive = request.query.get("all") == "1"
    rows = await db_call(request, _rows, True)
    visible = [r for r in rows if r["active"] or show_inactive]
    return render(
        request,
        "jobs.html",
        {
            "jobs": visible,
            "show_inactive": show_inactive,
            "districts": jobs.DISTRICTS,
            "active_count": sum(1 for r in rows if r["active"]),
            "inactive_count": sum(1 for r in rows if not r["active"]),
            "sample_count": sum(1 for r in rows if r["active"] and r["is_sample"]),
            "error": error,
            "form": form or {},
        },
        status=status,
    )


async def jobs_page(request: web.Request) -> web.Response:
    return await _page(request)


async def add_job(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    if any(len(values[k]) > LIMITS[k] for k in FIELDS):
        return await _page(request, error=t("staff.errors.job.too_long"), form=values, status=400)
    moment = now(request)

    def work(s):
        jobs.add_job(
            s,
            employer=values["employer"],
            title=values["title"],
            requirements=values["requirements"],
            skills=values["skills"],
            district=values["district"] or None,
            pay=values["pay"] or None,
            now=moment,
        )

    try:
        await db_call(request, work)
    except jobs.JobError as exc:
        return await _page(
            request,
            error=t(f"staff.errors.job.{exc.code}", t("errors.bad_request")),
            form=values,
            status=400,
        )
    await flash(request, "job_added")
    raise web.HTTPFound("/jobs")


def _make_toggle(active: bool):
    change = jobs.reactivate_job if active else jobs.deactivate_job

    async def handler(request: web.Request) -> web.StreamResponse:
        job_id = path_id(request, "job_id")
        moment = now(request)
        try:
            await db_call(request, lambda s: change(s, job_id, moment) and None)
        except jobs.JobError as exc:
            return await _page(request, error=t(f"staff.errors.job.{exc.code}"), status=404)
        await flash(request, "job_reactivated" if active else "job_deactivated")
        raise web.HTTPFound("/jobs?all=1" if active else "/jobs")

    handler.__name__ = "job_activate" if active else "job_deactivate"
    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/jobs", jobs_page, name="jobs")
    app.router.add_post("/jobs", add_job)
    app.router.add_post("/jobs/{job_id}/deactivate", _make_toggle(False))
    app.router.add_post("/jobs/{job_id}/activate", _make_toggle(True))
    register_nav(app, "/jobs", "staff.nav.jobs", order=50)
