"""数据分析: numbers from a small events DB written by Rasa's own SQLEventBroker + capability
tables.

The console clock is 2026-12-01 10:00 (Asia/Shanghai): the 7-day range is 11-25 … 12-01.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.console.pages import analytics
from bot.core import appointments as ap
from bot.core import db, handoff, people, wishes
from tests.console.conftest import NOW, login

TZ = ZoneInfo("Asia/Shanghai")


def stamp(moment: datetime) -> float:
    return moment.replace(tzinfo=TZ).timestamp()


def user(sender: str, text: str, intent: str, moment: datetime, confidence: float = 0.9) -> dict:
    from rasa.shared.core.events import UserUttered

    ranking = [{"name": intent, "confidence": confidence}]
    if intent == "nlu_fallback":
        ranking.append({"name": "ask_allowance", "confidence": 0.41})
    event = UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        parse_data={
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "intent_ranking": ranking,
            "text": text,
        },
        timestamp=stamp(moment),
        input_channel="rest",
    )
    return {"sender_id": sender, **event.as_dict()}


def bot(sender: str, text: str, moment: datetime) -> dict:
    from rasa.shared.core.events import BotUttered

    return {"sender_id": sender, **BotUttered(text, timestamp=stamp(moment)).as_dict()}


def publish(events_db, events) -> None:
    """Exactly what Rasa does with ``event_broker: {type: SQL}``."""
    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(dialect="sqlite", db=str(events_db))
    for event in events:
        broker.publish(event)
    broker.engine.dispose()


DAY0 = datetime(2026, 12, 1, 9, 0)  # today
DAY1 = DAY0 - timedelta(days=1)
OLD = DAY0 - timedelta(days=10)  # outside 7 days, inside 30


def sample_events() -> list[dict]:
    return [
        user("tg-1", "你好", "greet", DAY1),
        bot("tg-1", "您好！", DAY1),
        user("tg-1", "荣军卡怎么办", "ask_benefit", DAY1 + timedelta(minutes=1)),
        user("web-2", "我的电话13812345678能办吗", "nlu_fallback", DAY1 + timedelta(hours=2), 0.3),
        user("tg-1", "补助多少钱", "ask_allowance", DAY0),
        user("tg-3", "补助怎么领", "ask_allowance", DAY0 + timedelta(minutes=5)),
        user("tg-3", "=SUM(A1)那个窗口在哪", "nlu_fallback", DAY0 + timedelta(minutes=6), 0.2),
        user("tg-3", "/request_human", "request_human", DAY0 + timedelta(minutes=7), 1.0),
        user("tg-9", "很久以前的问题", "nlu_fallback", OLD),
        user("tg-9", "你好", "greet", OLD),
    ]


@pytest.fixture
def seeded(engine, events_db):
    publish(events_db, sample_events())
    with db.session_scope(engine) as s:
        handoff.request(s, "tg-3", handoff.HUMAN, "我要人工", NOW - timedelta(hours=1))
        handoff.request(s, "tg-5", handoff.CRISIS, "不想活了", NOW - timedelta(hours=2))
        closed = handoff.request(s, "tg-6", handoff.HUMAN, "人工", NOW - timedelta(days=2))
        handoff.take(s, closed.id, "agent1", NOW - timedelta(days=2))
        handoff.release(s, closed.id, "agent1", NOW - timedelta(days=2))
        handoff.request(
            s, "tg-7", handoff.FALLBACK, "??", NOW - timedelta(days=20)
        )  # 30-day range only
        for n in (1, 2):
            first17 = f"370202{1950 + n}0101{n:03d}"
            ap.book(
                s,
                sender_id=f"tg-{n}",
                category="退役士兵",
                name="王建国",
                mobile=f"138{n:08d}",
                id_number=first17 + people.id_check_digit(first17),
                centre_id="licang",
                start=datetime(2026, 12, 2, 9, 0),
                now=NOW,
            )
        w = wishes.submit(s, sender_id="tg-1", category="助医", description="想要轮椅", now=NOW)
        wishes.approve(s, w.id, "sup", NOW)
        wishes.submit(s, sender_id="tg-2", category="其他", description="想要书", now=NOW)
    return events_db


def stat(html: str, name: str) -> str:
    match = re.search(rf'id="stat-{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_dashboard_numbers_last_7_days(client, accounts, seeded):
    await login(client, "agent1")
    resp = await client.get("/analytics")
    html = await resp.text()
    assert resp.status == 200
    assert "2026-11-25 至 2026-12-01" in html
    assert (
        stat(html, "users") == "7"
    )  # user events only; the 10-day-old ones and bot events excluded
    assert stat(html, "conversations") == "3"  # tg-1, web-2, tg-3
    assert stat(html, "rate") == "28.6%"  # 2 of 7 are nlu_fallback
    assert (
        stat(html, "handoffs") == "3"
        and stat(html, "bookings") == "2"
        and stat(html, "wishes") == "2"
    )
    # charts: inline SVG, bars and a line, Chinese labels
    assert html.count("<svg") == 5 and 'class="bar"' in html and "<polyline" in html
    assert ">抚恤补助</text>" in html and ">未识别</text>" in html and ">12-01</text>" in html
    assert "charts.js" in html
    # top intent first
    intents = re.findall(r'<text class="label"[^>]*>([^<]+)</text>', html)
    assert intents[:2] == ["抚恤补助", "未识别"]
    # unanswered questions: masked, newest first, with the closest intent
    table = html[html.index('id="unanswered"') :]
    assert table.index("SUM(A1)") < table.index("138****5678")
    assert "13812345678" not in html and "很久以前的问题" not in html
    assert "41%" in table


async def test_dashboard_30_days_and_bad_range(client, accounts, seeded):
    await login(client, "agent1")
    html = await (await client.get("/analytics?days=30")).text()
    assert "2026-11-02 至 2026-12-01" in html
    assert stat(html, "users") == "9" and stat(html, "conversations") == "4"
    assert stat(html, "rate") == "33.3%" and stat(html, "handoffs") == "4"
    assert "很久以前的问题" in html
    html = await (await client.get("/analytics?days=9999")).text()
    assert stat(html, "users") == "7"


async def test_new_events_are_picked_up_incrementally(client, accounts, seeded):
    await login(client, "agent1")
    assert stat(await (await client.get("/analytics")).text(), "users") == "7"
    publish(seeded, [user("tg-4", "再问一个问题", "nlu_fallback", DAY0 + timedelta(minutes=30))])
    html = await (await client.get("/analytics")).text()
    assert stat(html, "users") == "8" and stat(html, "rate") == "37.5%"
    assert html.index("再问一个问题") < html.index("SUM(A1)")


async def test_csv_exports(client, accounts, seeded):
    await login(client, "agent1")
    resp = await client.get("/analytics/daily.csv")
    assert resp.status == 200 and resp.content_type == "text/csv" and resp.charset == "utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = read_csv(await resp.read())
    assert rows[0] == ["日期", "用户消息数", "会话数", "未识别消息数", "未识别率"]
    assert len(rows) == 8
    assert rows[-2] == ["2026-11-30", "3", "2", "1", "33.3%"]
    assert rows[-1] == ["2026-12-01", "4", "2", "1", "25.0%"]

    rows = read_csv(await (await client.get("/analytics/intents.csv")).read())
    assert rows[0] == ["意图", "中文名称", "消息数", "占比"]
    assert rows[1] == ["ask_allowance", "抚恤补助", "2", "28.6%"]
    assert ["nlu_fallback", "未识别", "2", "28.6%"] in rows

    rows = read_csv(await (await client.get("/analytics/unanswered.csv?days=30")).read())
    assert rows[0] == ["时间", "会话", "内容（已脱敏）", "置信度"]
    assert [r[2] for r in rows[1:]] == [
        "'=SUM(A1)那个窗口在哪",
        "我的电话138****5678能办吗",
        "很久以前的问题",
    ]
    assert rows[1][:2] == ["2026-12-01 09:06:00", "tg-3"] and rows[1][3] == "0.41"

    rows = read_csv(await (await client.get("/analytics/handoffs.csv")).read())
    assert rows[0] == ["原因", "状态", "数量"]
    assert rows[1:] == [
        ["危机", "等待接管", "1"],
        ["请求人工", "已结束", "1"],
        ["请求人工", "等待接管", "1"],
    ]

    rows = read_csv(await (await client.get("/analytics/bookings.csv")).read())
    assert rows == [
        ["状态", "数量"],
        ["已预约", "2"],
        ["已签到", "0"],
        ["未到", "0"],
        ["已取消", "0"],
    ]

    rows = read_csv(await (await client.get("/analytics/wishes.csv")).read())
    assert rows[0] == ["状态", "数量"] and ["待审核", "1"] in rows and ["已通过", "1"] in rows


async def test_without_an_events_store(client, accounts, events_db):
    events_db.unlink()  # Rasa has not created it yet (or the broker is RabbitMQ)
    await login(client, "sup")
    html = await (await client.get("/analytics")).text()
    assert (
        "暂时读不到对话事件库" in html and stat(html, "users") == "0" and stat(html, "rate") == "—"
    )
    assert not events_db.exists()  # the console never creates Rasa's file
    rows = read_csv(await (await client.get("/analytics/daily.csv")).read())
    assert len(rows) == 8 and rows[1][1] == "0"


def test_event_stats_starts_over_when_the_table_is_recreated(tmp_path):
    path = tmp_path / "ev.db"
    publish(path, [user("tg-1", "你好", "greet", DAY0), user("tg-1", "你好", "greet", DAY0)])
    stats = analytics.EventStats(f"sqlite:///{path}")
    assert stats.refresh() and stats.summary(DAY0.date(), DAY0.date())["users"] == 2
    path.unlink()
    publish(path, [user("tg-2", "补助", "ask_allowance", DAY0)])
    assert stats.refresh()
    summary = stats.summary(DAY0.date(), DAY0.date())
    assert summary["users"] == 1 and summary["intents"][0]["name"] == "ask_allowance"


def test_chart_geometry():
    assert [analytics.nice_step(v) for v in (0.3, 1, 3, 7, 12, 240)] == [0.5, 1, 5, 10, 20, 250]
    chart = analytics.bar_chart(
        [{"label": "甲", "value": 4}, {"label": "乙", "value": 2}, {"label": "丙", "value": 0}]
    )
    widths = [b["w"] for b in chart["bars"]]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    line = analytics.line_chart(["a", "b", "c"], [("s", [0, 5, 10])])
    ys = [d["y"] for d in line["series"][0]["dots"]]
    assert ys[0] == line["bottom"] and ys[2] >= line["top"] and ys[0] > ys[1] > ys[2]
    assert analytics.csv_body(["a", "b"], [["-1+1", None], ["@x", 3]]).decode(
        "utf-8-sig"
    ).splitlines() == ["a,b", "'-1+1,", "'@x,3"]
