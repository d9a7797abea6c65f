"""数据分析: conversation statistics from Rasa's event stream + counts from the capability tables.

How the numbers are computed
----------------------------
* Source of conversation data: the SQL event broker table ``events(id, sender_id, data)`` that
  Rasa writes (``RASA_EVENTS_DB_URL``, default ``<RJ_DATA_DIR>/rasa_events.db``), opened with the
  console's own reader (``bot.console.events.SQLEventSource`` — it never creates a missing SQLite
  file — and ``events._decode``).
* :class:`EventStats` reads the table incrementally (``id > last_id``, in batches) and keeps per
  local day (``RJ_TZ``, from each event's ``timestamp``): user messages (events with
  ``event == "user"``), distinct ``sender_id``s (conversations), a Counter of
  ``parse_data.intent.name`` and the number of ``nlu_fallback`` messages; plus the newest
  fallback texts (masked with ``people.mask_text``) with the closest real intent. A page view only
  reads rows added since the last view. If the table shrinks (a new events DB) it starts over.
* Fallback rate = fallback user messages / all user messages in the selected range.
* Handoffs, bookings and wishes: ``GROUP BY`` counts of ``handoff_requests``, ``appointments``
  and ``wishes`` rows *created* in the range (current status).
* Range: the last 7 or 30 local days including today (``now(request)``).

Charts are inline SVG computed here (geometry only) and drawn by ``staff_charts.html``;
``static/charts.js`` adds hover tooltips. CSV exports are UTF-8 with a BOM (Excel-friendly).
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.console.events import SQLEventSource, _decode
from bot.console.kit import CONFIG, STATE, db_call, local_tz, now, register_nav, render
from bot.console.texts import t
from bot.core import appointments, handoff, people, wishes

RANGES = (7, 30)
DEFAULT_RANGE = 7
FALLBACK = "nlu_fallback"
CSV_TABLES = ("daily", "intents", "unanswered", "handoffs", "bookings", "wishes")
PAGE_UNANSWERED = 100
TOP_INTENTS = 12
STATE_KEY = "staff_analytics"


# ---------------------------------------------------------------- event stream statistics
@dataclass
class DayStats:
    users: int = 0
    fallbacks: int = 0
    senders: set = field(default_factory=set)
    intents: Counter = field(default_factory=Counter)


class EventStats:
    """Incremental aggregates over Rasa's SQL broker table (thread-safe; used from db threads)."""

    def __init__(
        self, url: str, *, tz: str | None = None, batch: int = 5000, max_unanswered: int = 20000
    ):
        self.url = url
        self.tz = ZoneInfo(tz) if tz else local_tz()
        self.batch = batch
        self._source = SQLEventSource(
            url
        )  # the console's reader: engine on demand, no file creation
        self._lock = threading.Lock()
        self.max_unanswered = max_unanswered
        self._reset()
        self.available = False

    def _reset(self) -> None:
        self.last_id = 0
        self.days: dict[date, DayStats] = {}
        self.unanswered: deque = deque(maxlen=self.max_unanswered)

    def refresh(self) -> bool:
        """Read rows added since the last call; False when the events store is not reachable."""
        with self._lock:
            engine = self._source._engine_or_none()
            if engine is None:
                self.available = False
                return False
            try:
                with engine.connect() as conn:
                    top = conn.execute(text("SELECT MAX(id) FROM events")).scalar() or 0
                    if top < self.last_id:  # the table was recreated
                        self._reset()
                    while True:
                        rows = conn.execute(
                            text(
                                "SELECT id, sender_id, data FROM events WHERE id > :last ORDER BY"
                                " id LIMIT :n"
                            ),
                            {"last": self.last_id, "n": self.batch},
                        ).all()
                        for row_id, sender_id, data in rows:
                            event = _decode(data)
                            if event is not None:
                                self._add(sender_id or event.get("sender_id") or "", event)
                            self.last_id = int(row_id)
                        if len(rows) < self.batch:
                            break
            except SQLAlchemyError:
                self.available = False
                return False
            self.available = True
            return True

    def _add(self, sender_id: str, event: dict) -> None:
        if event.get("event") != "user":
            return
        stamp = event.get("timestamp")
        if not isinstance(stamp, (int, float)):
            return
        moment = datetime.fromtimestamp(stamp, self.tz).replace(tzinfo=None)
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name") or ""
        day = self.days.setdefault(moment.date(), DayStats())
        day.users += 1
        day.senders.add(sender_id)
        day.intents[intent] += 1
        if intent == FALLBACK:
            day.fallbacks += 1
            closest = next(
                (
                    r
                    for r in parse.get("intent_ranking") or []
                    if isinstance(r, dict) and r.get("name") not in (None, FALLBACK)
                ),
                None,
            )
            self.unanswered.append(
                {
                    "at": moment,
                    "sender_id": sender_id,
                    "text": people.mask_text(event.get("text") or ""),
                    "closest": closest.get("name") if closest else "",
                    "confidence": float(closest.get("confidence") or 0) if closest else None,
                }
            )

    def summary(self, first: date, last: date) -> dict:
        with self._lock:
            daily, senders, intents = [], set(), Counter()
            day = first
            while day <= last:
                stats = self.days.get(day) or DayStats()
                daily.append(
                    {
                        "day": day,
                        "users": stats.users,
                        "conversations": len(stats.senders),
                        "fallbacks": stats.fallbacks,
                        "rate": _rate(stats.fallbacks, stats.users),
                    }
                )
                senders |= stats.senders
                intents.update(stats.intents)
                day += timedelta(days=1)
            start, end = datetime.combine(first, time.min), datetime.combine(last, time.max)
            unanswered = [dict(u) for u in self.unanswered if start <= u["at"] <= end]
        unanswered.sort(
            key=lambda u: u["at"], reverse=True
        )  # newest first (ids are only roughly in time order)
        users = sum(d["users"] for d in daily)
        fallbacks = sum(d["fallbacks"] for d in daily)
        return {
            "daily": daily,
            "users": users,
            "conversations": len(senders),
            "fallbacks": fallbacks,
            "rate": _rate(fallbacks, users),
            "intents": [
                {
                    "name": name,
                    "label": intent_label(name),
                    "count": count,
                    "share": _rate(count, users),
                }
                for name, count in sorted(intents.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "unanswered": unanswered,
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def intent_label(name: str) -> str:
    if not name:
        return t("analytics.unknown_intent")
    return t(f"analytics.intents.{name}", name)


def event_stats(app: web.Application) -> EventStats:
    stats = app[STATE].get(STATE_KEY)
    url = app[CONFIG].events_db_url
    if stats is None or stats.url != url:
        stats = app[STATE][STATE_KEY] = EventStats(url)
    return stats


# ---------------------------------------------------------------- capability tables
def table_counts(s, first: date, last: date) -> dict:
    start, end = (
        datetime.combine(first, time.min),
        datetime.combine(last + timedelta(days=1), time.min),
    )
    H, A, W = handoff.HandoffRequest, appointments.Appointment, wishes.Wish
    handoffs = s.execute(
        select(H.reason, H.status, func.count())
        .where(H.created_at >= start, H.created_at < end)
        .group_by(H.reason, H.status)
    ).all()
    bookings = dict(
        s.execute(
            select(A.status, func.count())
            .where(A.created_at >= start, A.created_at < end)
            .group_by(A.status)
        ).all()
    )
    wish_counts = dict(
        s.execute(
            select(W.status, func.count())
            .where(W.created_at >= start, W.created_at < end)
            .group_by(W.status)
        ).all()
    )
    by_reason: Counter = Counter()
    for reason, _status, count in handoffs:
        by_reason[reason] += count
    return {
        "handoffs": [
            {
                "reason": r,
                "reason_label": t(f"reasons.{r}", r),
                "status": st,
                "status_label": t(f"handoff_status.{st}", st),
                "count": c,
            }
            for r, st, c in sorted(handoffs, key=lambda x: (-handoff.PRIORITY.get(x[0], 0), x[1]))
        ],
        "handoff_reasons": [
            {"label": t(f"reasons.{r}", r), "value": by_reason.get(r, 0)}
            for r in sorted(
                set(handoff.PRIORITY) | set(by_reason), key=lambda r: -handoff.PRIORITY.get(r, 0)
            )
        ],
        "handoff_total": sum(by_reason.values()),
        "bookings": [
            {
                "status": st,
                "label": t(f"staff.appointment_status.{st}", st),
                "count": bookings.get(st, 0),
            }
            for st in (
                appointments.BOOKED,
                appointments.CHECKED_IN,
                appointments.NO_SHOW,
                appointments.CANCELLED,
            )
        ]
        + [
            {"status": st, "label": st, "count": c}
            for st, c in bookings.items()
            if st
            not in (
                appointments.BOOKED,
                appointments.CHECKED_IN,
                appointments.NO_SHOW,
                appointments.CANCELLED,
            )
        ],
        "wishes": [
            {
                "status": st,
                "label": t(f"staff.wish_status.{st}", st),
                "count": wish_counts.get(st, 0),
            }
            for st in wishes.STATUSES
        ],
    }


# ---------------------------------------------------------------- chart geometry (drawn by
# staff_charts.html)
def nice_step(value: float) -> float:
    if value <= 0:
        return 1
    exp = math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10**exp >= value:
            return m * 10**exp
    return 10 ** (exp + 1)  # pragma: no cover


def _ticks(top: float, parts: int = 4) -> tuple[float, list[float]]:
    step = nice_step(max(top, 1) / parts)
    step = max(step, 1) if top >= 1 else step
    maximum = step * math.ceil(max(top, 1) / step)
    return maximum, [step * i for i in range(int(round(maximum / step)) + 1)]


def _fmt_num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def line_chart(
    labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    width: int = 1100,
    height: int = 300,
) -> dict:
    left, right, top, bottom = 50, 24, 14, 36
    pw, ph = width - left - right, height - top - bottom
    maximum, ticks = _ticks(max([v for _, vals in series for v in vals] or [0]))
    n = len(labels)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * v / maximum

    every = max(1, math.ceil(n / 10))
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + ph,
        "grid": [{"y": round(y(v), 1), "label": _fmt_num(v)} for v in ticks],
        "xlabels": [
            {"x": round(x(i), 1), "label": lab}
            for i, lab in enumerate(labels)
            if i % every == 0 or i == n - 1
        ],
        "series": [
            {
                "name": name,
                "cls": f"s{k}",
                "points": " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals)),
                "dots": [
                    {
                        "x": round(x(i), 1),
                        "y": round(y(v), 1),
                        "value": _fmt_num(v),
                        "label": labels[i],
                    }
                    for i, v in enumerate(vals)
                ],
            }
            for k, (name, vals) in enumerate(series)
        ],
    }


def bar_chart(
    items: list[dict], *, width: int = 620, row: int = 38, label_width: int = 170
) -> dict:
    """Horizontal bars (long Chinese labels stay readable): items = [{label, value}]."""
    top, value_room = 6, 56
    pw = width - label_width - value_room
    maximum = max([i["value"] for i in items] or [0]) or 1
    bars = []
    for k, item in enumerate(items):
        w = pw * item["value"] / maximum
        y0 = top + k * row
        bars.append(
            {
                "label": item["label"],
                "value": item["value"],
                "x": label_width,
                "y": y0 + 5,
                "w": round(max(w, 2 if item["value"] else 0), 1),
                "h": row - 10,
                "ty": y0 + row / 2 + 5,
                "vx": round(label_width + w + 6, 1),
            }
        )
    return {
        "width": width,
        "height": top * 2 + row * max(len(items), 1),
        "label_x": label_width - 8,
        "axis_x": label_width,
        "bars": bars,
    }


# ---------------------------------------------------------------- page
def _range(request: web.Request) -> tuple[int, date, date]:
    try:
        days = int(request.query.get("days", DEFAULT_RANGE))
    except ValueError:
        days = DEFAULT_RANGE
    if days not in RANGES:
        days = DEFAULT_RANGE
    last = now(request).date()
    return days, last - timedelta(days=days - 1), last


async def collect(request: web.Request, first: date, last: date) -> dict:
    stats = event_stats(request.app)
    available = await asyncio.get_running_loop().run_in_executor(
        None, stats.refresh
    )  # not on the loop
    data = stats.summary(first, last)
    data.update(await db_call(request, table_counts, first, last))
    data["events_available"] = available
    return data


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


async def analytics_page(request: web.Request) -> web.Response:
    days, first, last = _range(request)
    data = await collect(request, first, last)
    labels = [d["day"].strftime("%m-%d") for d in data["daily"]]
    charts = {
        "daily": line_chart(
            labels,
            [
                (t("analytics.series.messages"), [d["users"] for d in data["daily"]]),
                (t("analytics.series.fallbacks"), [d["fallbacks"] for d in data["daily"]]),
            ],
        ),
        "intents": bar_chart(
            [{"label": i["label"], "value": i["count"]} for i in data["intents"][:TOP_INTENTS]]
        ),
        "handoffs": bar_chart(
            [{"label": r["label"], "value": r["value"]} for r in data["handoff_reasons"]],
            width=520,
            label_width=120,
        ),
        "bookings": bar_chart(
            [{"label": b["label"], "value": b["count"]} for b in data["bookings"]],
            width=520,
            label_width=120,
        ),
        "wishes": bar_chart(
            [{"label": w["label"], "value": w["count"]} for w in data["wishes"]],
            width=520,
            label_width=120,
        ),
    }
    for d in data["daily"]:
        d["rate_text"] = _pct(d["rate"])
    for i in data["intents"]:
        i["share_text"] = _pct(i["share"])
    return render(
        request,
        "analytics.html",
        {
            **data,
            "charts": charts,
            "days": days,
            "ranges": RANGES,
            "first": first.isoformat(),
            "last": last.isoformat(),
            "rate_text": _pct(data["rate"]),
            "unanswered_page": [
                dict(u, at=u["at"].strftime("%m-%d %H:%M"))
                for u in data["unanswered"][:PAGE_UNANSWERED]
            ],
            "bookings_total": sum(b["count"] for b in data["bookings"]),
            "wishes_total": sum(w["count"] for w in data["wishes"]),
        },
    )


# ---------------------------------------------------------------- CSV export
def _cell(value) -> str:
    if value is None:
        return ""
    value = str(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):  # no spreadsheet formulas from user text
        value = "'" + value
    return value


def csv_rows(name: str, data: dict) -> list[list]:
    if name == "daily":
        return [
            [d["day"].isoformat(), d["users"], d["conversations"], d["fallbacks"], _pct(d["rate"])]
            for d in data["daily"]
        ]
    if name == "intents":
        return [
            [i["name"] or "", i["label"], i["count"], _pct(i["share"])] for i in data["intents"]
        ]
    if name == "unanswered":
        return [
            [
                u["at"].strftime("%Y-%m-%d %H:%M:%S"),
                u["sender_id"],
                u["text"],
                "" if u["confidence"] is None else f"{u['confidence']:.2f}",
            ]
            for u in data["unanswered"]
        ]
    if name == "handoffs":
        return [[h["reason_label"], h["status_label"], h["count"]] for h in data["handoffs"]]
    if name == "bookings":
        return [[b["label"], b["count"]] for b in data["bookings"]]
    return [[w["label"], w["count"]] for w in data["wishes"]]


def csv_body(header: list, rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _make_csv(name: str):
    async def handler(request: web.Request) -> web.Response:
        days, first, last = _range(request)
        data = await collect(request, first, last)
        body = csv_body(list(t(f"analytics.csv.{name}")), csv_rows(name, data))
        filename = f"rongjun-{name}-{first:%Y%m%d}-{last:%Y%m%d}.csv"
        return web.Response(
            body=body,
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )

    handler.__name__ = f"analytics_csv_{name}"
    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/analytics", analytics_page, name="analytics")
    for name in CSV_TABLES:
        app.router.add_get(f"/analytics/{name}.csv", _make_csv(name))
    register_nav(app, "/analytics", "staff.nav.analytics", order=60)
