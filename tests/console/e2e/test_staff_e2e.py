"""Browser end-to-end test of the staff pages in headless Chromium (a console in this process on
a seeded SQLite database; the staff pages need no Rasa).

    .venv/bin/python -m pytest tests/console/e2e/test_staff_e2e.py -q

Self-contained: starts the real console (``create_app``) in a background thread on a free port,
with a throw-away SQLite database and a Rasa events DB written by Rasa's own SQLEventBroker
(no Rasa server needed — these pages only read its event table). Chromium: /usr/bin/chromium
(override with CONSOLE_E2E_CHROMIUM). Screenshots: test-output/screenshots/staff-*.png.

Scenario: log in; moderate a wish approve → publish → claim → fulfil; cancel an appointment
(with the confirmation step); add a closure; add and take down a job; open the analytics page
and see the bar and line charts (inline SVG).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from tests.console.e2e.conftest import console_database, save_shot, serving

WISH_TEXT = (
    "我叫王建国，电话13812345678，住李沧区某路12号，腿脚不便，希望有一台轮椅方便去医院复查。"
)


def _events(now):
    from rasa.shared.core.events import BotUttered, UserUttered

    samples = [
        ("greet", "你好"),
        ("ask_allowance", "伤残抚恤金怎么领"),
        ("ask_benefit", "荣军卡怎么办理"),
        ("book_appointment", "我要预约报到"),
        ("ask_allowance", "补助标准是多少"),
        ("nlu_fallback", "我家老人电话13912345678，社保断缴了能补吗"),
        ("ask_employment", "有没有保安的工作"),
        ("nlu_fallback", "驾驶证到期了在哪换"),
        ("request_human", "/request_human"),
        ("ask_contact", "服务中心电话多少"),
    ]
    out = []
    for day in range(7):
        moment = now - timedelta(days=day, hours=1)
        for k, (intent, text) in enumerate(samples[: 4 + (day * 3) % 7]):
            sender = f"tg-{1000 + day * 10 + k % 3}"
            ts = (moment + timedelta(minutes=k)).timestamp()
            ranking = [
                {"name": intent, "confidence": 0.9},
                {"name": "ask_allowance", "confidence": 0.35},
            ]
            user = UserUttered(
                text,
                intent=ranking[0],
                timestamp=ts,
                input_channel="rest",
                parse_data={
                    "intent": ranking[0],
                    "entities": [],
                    "intent_ranking": ranking,
                    "text": text,
                },
            )
            out.append({"sender_id": sender, **user.as_dict()})
            out.append({"sender_id": sender, **BotUttered("好的", timestamp=ts + 1).as_dict()})
    return out


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """(base_url, username, password, appointment date) of a console running in this process."""
    from rasa.core.brokers.sql import SQLEventBroker

    from bot.console import accounts
    from bot.console.app import create_app
    from bot.console.config import ConsoleConfig
    from bot.console.kit import local_now
    from bot.core import appointments as ap
    from bot.core import db, handoff, jobs, people, wishes

    with console_database(tmp_path_factory, "staff-e2e") as (data, engine):
        now = local_now()
        user, password = f"e2e_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
        with db.session_scope(engine) as s:
            accounts.create_user(s, user, password, "supervisor", now=now, created_by="e2e")
            wishes.submit(
                s,
                sender_id="tg-4242",
                category="助医",
                description=WISH_TEXT,
                budget=1200,
                district="李沧区",
                mobile="13812345678",
                consent_publish=True,
                now=now,
            )
            wishes.submit(
                s, sender_id="tg-4243", category="生活用品", description="想要一个电饭煲", now=now
            )
            jobs.seed_jobs(s, now=now)
            # three consecutive free half hours (not across lunch or closing time, whenever
            # the test runs): the page lists them on one day
            free = sorted(ap.nearest_free(s, "licang", now + timedelta(hours=1), now, limit=40))
            slot = next(
                start
                for start in free
                if {start + timedelta(minutes=30), start + timedelta(minutes=60)} <= set(free)
            )
            for n, name in enumerate(("王建国", "李明华", "欧阳娜娜"), start=1):
                first17 = f"370202{1960 + n}0101{n:03d}"
                ap.book(
                    s,
                    sender_id=f"tg-{n}",
                    category="退役士兵",
                    name=name,
                    mobile=f"1381234{n:04d}",
                    id_number=first17 + people.id_check_digit(first17),
                    centre_id="licang",
                    start=slot + timedelta(minutes=30 * (n - 1)),
                    now=now,
                )
            handoff.request(s, "tg-1001", handoff.HUMAN, "我要人工", now - timedelta(hours=3))
            handoff.request(s, "tg-1002", handoff.CRISIS, "……", now - timedelta(hours=2))
        events_db = data / "rasa_events.db"
        broker = SQLEventBroker(dialect="sqlite", db=str(events_db))
        for event in _events(now):
            broker.publish(event)
        broker.engine.dispose()

        config = ConsoleConfig(
            secret=secrets.token_urlsafe(32),
            rasa_url="http://127.0.0.1:9",
            event_broker="none",
            events_db_url=f"sqlite:///{events_db}",
            push_token="e2e",
        )
        app = create_app(config, engine=engine, event_source=None)
        with serving(app) as base:
            yield base, user, password, slot.date().isoformat()


def shot(page, name: str) -> None:
    save_shot(page, f"staff-{name}")


def test_staff_pages(browser, console):
    base, user, password, day = console
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(f"{base}/wishes")
        page.wait_for_url(re.compile(r".*/login\?next=.*"))
        page.fill('input[name="username"]', user)
        page.fill('input[name="password"]', password)
        page.click('button[type="submit"]')
        page.wait_for_url(re.compile(r".*/wishes$"))

        # 微心愿: approve → publish → claim → fulfil
        assert page.locator(".tabs a.active .count").inner_text() == "2"
        shot(page, "01-wishes")
        page.locator("#wishes tr", has_text="轮椅").locator("a.btn").click()
        page.wait_for_selector("#btn-approve")
        text = page.inner_text("#public-text")
        assert "轮椅" in text and "13812345678" not in text and "王建国" not in text
        assert page.locator("#btn-publish").count() == 0
        shot(page, "02-wish-submitted")
        page.click("#btn-approve")
        page.wait_for_selector("#wish-status:has-text('已通过')")
        page.click("#btn-publish")
        page.wait_for_selector("#wish-status:has-text('已发布')")
        page.fill('input[name="claimant"]', "青岛某某便民超市")
        page.check('input[name="kind"][value="merchant"]')
        page.click("#btn-claim")
        page.wait_for_selector("#wish-status:has-text('已认领')")
        page.fill('textarea[name="note"]', "轮椅已由商家送到家中")
        page.click("#btn-fulfil")
        page.wait_for_selector("#wish-status:has-text('已实现')")
        assert page.locator("#history li").count() == 5
        assert "已标记为心愿实现" in page.inner_text(".flash")
        shot(page, "03-wish-fulfilled")

        # 今日报到: masked list, cancel with confirmation
        page.goto(f"{base}/appointments?centre=licang&date={day}")
        rows = page.locator("#appointments tbody tr")
        assert rows.count() == 3
        body = page.inner_text("#appointments")
        assert "王*国" in body and "138****0001" in body and "13812340001" not in body
        shot(page, "04-appointments")
        rows.nth(2).locator("button", has_text="取消").click()
        page.wait_for_selector("#confirm-cancel")
        shot(page, "05-appointment-confirm")
        page.click("#confirm-cancel")
        page.wait_for_selector(".flash:has-text('预约已取消')")
        assert page.locator("#appointments .status.cancelled").count() == 1

        # 停诊与号源 (supervisor)
        page.goto(f"{base}/closures")
        page.select_option('select[name="centre"]', "licang")
        page.fill('input[name="date"]', day)
        page.fill('input[name="reason"]', "内部培训，暂停对外办理")
        page.click("#closure-form button[type=submit]")
        page.wait_for_selector("#closure-warning")  # the two remaining bookings are flagged
        assert "内部培训" in page.inner_text("#closures")
        shot(page, "06-closures")

        # 岗位管理
        page.goto(f"{base}/jobs")
        page.fill('input[name="employer"]', "青岛某物流有限公司")
        page.fill('input[name="title"]', "仓库管理员")
        page.fill('input[name="skills"]', "叉车、仓储管理")
        page.select_option('select[name="district"]', "黄岛区")
        page.fill('input[name="pay"]', "5000–6500 元/月")
        page.click("#job-form button[type=submit]")
        page.wait_for_selector(".flash:has-text('已添加岗位')")
        assert page.locator("#jobs tr", has_text="仓库管理员").count() == 1
        shot(page, "07-jobs")

        # 数据分析: charts as inline SVG
        page.goto(f"{base}/analytics")
        page.wait_for_selector("svg.bar-chart rect.bar")
        assert page.locator("#panel-intents svg rect.bar").count() >= 5
        assert page.locator("#panel-daily svg polyline").count() == 2
        assert int(page.inner_text("#stat-users")) > 0
        assert "13912345678" not in page.inner_text(
            "#unanswered"
        ) and "139****5678" in page.inner_text("#unanswered")
        page.locator("#panel-intents rect.bar").first.hover()
        page.wait_for_selector(".chart-tip:visible")
        shot(page, "08-analytics")
        with page.expect_download() as download:
            page.click("#panel-intents a.csv")
        assert download.value.suggested_filename.startswith("rongjun-intents-")
        page.goto(f"{base}/analytics?days=30")
        page.wait_for_selector("svg.line-chart")
        shot(page, "09-analytics-30")
    finally:
        ctx.close()
