"""建议回复效果 (supervisors): how often each kind of suggestion was shown, sent as is (used) or
sent after editing (edited), from ``console_suggestion_events`` — which suggestions help agents."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from bot.console.kit import db_call, now, register_nav, render, require_role
from bot.console.models import SuggestionEvent
from bot.console.texts import t

RANGES = (7, 30, 90)


def _stats(s, since) -> list[dict]:
    counts: dict[str, dict[str, int]] = {}
    for source, event, count in s.execute(
        select(SuggestionEvent.source, SuggestionEvent.event, func.count())
        .where(SuggestionEvent.created_at >= since)
        .group_by(SuggestionEvent.source, SuggestionEvent.event)
    ):
        counts.setdefault(source, {"shown": 0, "used": 0, "edited": 0})[event] = count
    rows = []
    for source, c in sorted(counts.items(), key=lambda kv: -kv[1]["shown"]):
        sent = c["used"] + c["edited"]
        rows.append(
            {
                "label": t(f"suggestion_sources.{source}", source),
                **c,
                "rate": f"{sent / c['shown'] * 100:.0f}%" if c["shown"] else "—",
            }
        )
    return rows


@require_role("supervisor")
async def stats_page(request: web.Request) -> web.Response:
    try:
        days = int(request.query.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in RANGES else 30
    since = now(request) - timedelta(days=days)
    rows = await db_call(request, _stats, since)
    return render(request, "suggestion_stats.html", {"rows": rows, "days": days, "ranges": RANGES})


def setup(app: web.Application) -> None:
    app.router.add_get("/suggestion-stats", stats_page, name="suggestion_stats")
    register_nav(app, "/suggestion-stats", "nav.suggestion_stats", order=95, roles=("supervisor",))
