"""Browser test of the agent-assist flows in headless Chromium: takeover summary, suggestions from
the question before the handoff (inserted with one click, edited, sent, logged as ``edited``),
and the crisis script at a crisis takeover.

    .venv/bin/python -m pytest tests/console/e2e/test_assist_e2e.py -q

Self-contained: the real console (``create_app``) and the keyword stand-in for Rasa
(tests/console/fake_rasa.py) run in a background thread on free ports, on a throw-away SQLite
database. Screenshots: test-output/screenshots/assist-*.png.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from tests.console.e2e.conftest import console_database, save_shot, serving

ASKER = "web-assist-1"
CRISIS = "web-assist-2"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    from bot.console import accounts
    from bot.console.app import create_app
    from bot.console.config import ConsoleConfig
    from bot.console.kit import local_now
    from bot.core import db, handoff
    from tests.console.fake_rasa import FakeRasa, parse

    with console_database(tmp_path_factory, "assist-e2e") as (_, engine):
        now = local_now()
        user, password = f"e2e_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
        rasa = FakeRasa()
        for sender, texts in (
            (ASKER, ["你好", "我想问补助", "我要人工"]),
            (CRISIS, ["不想活了，药都攒好了"]),
        ):
            for text in texts:
                rasa.publish(sender, {"event": "user", "text": text, "parse_data": parse(text)})
            rasa.tracker(sender)["slots"] = (
                {"veteran_category": "伤残军人"} if sender == ASKER else {}
            )
        with db.session_scope(engine) as s:
            accounts.create_user(s, user, password, "supervisor", now=now, created_by="e2e")
            handoff.request(s, ASKER, handoff.HUMAN, "我要人工", now)
            handoff.request(s, CRISIS, handoff.CRISIS, "不想活了，药都攒好了", now)
            handoff.request(s, "tg-stale-1", handoff.HUMAN, "测试", now - timedelta(days=3))

        with serving(rasa.app()) as rasa_url:
            config = ConsoleConfig(
                secret=secrets.token_urlsafe(32),
                rasa_url=rasa_url,
                event_broker="none",
                push_token="e2e",
            )
            app = create_app(config, engine=engine, event_source=None)
            with serving(app) as base:
                yield base, user, password, engine


def login(page, base, user, password):
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_url(re.compile(r".*/live$"))


def test_takeover_summary_and_a_suggestion_inserted_edited_and_sent(browser, console):
    from sqlalchemy import select

    from bot.console.models import SuggestionEvent
    from bot.core import db

    base, user, password, engine = console
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    errors: list = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, base, user, password)
        page.goto(f"{base}/conversations/{ASKER}")
        page.click("#take-btn")
        page.wait_for_selector("#reply-form")
        summary = page.locator("#takeover-summary")
        summary.locator("dd.question").wait_for()
        assert summary.locator("dd.question").inner_text() == "我想问补助"
        assert "请求人工" in summary.inner_text()
        first = page.locator("#entitlements li").first
        assert "伤残抚恤金" in first.inner_text() and "法定优待" in first.inner_text()
        top = page.locator(".suggestion").first
        assert top.get_attribute("data-source") == "knowledge"
        assert top.locator(".text").inner_text().startswith("您好，我是服务中心的工作人员")
        save_shot(page, "assist-01-summary")

        top.locator("button.insert").click()  # one click inserts it into the reply box
        text = page.input_value("#reply-text")
        assert "伤残抚恤金" in text
        page.fill("#reply-text", text + "\n您看还有哪里不清楚，随时问我。")
        page.click("#reply-send")
        page.wait_for_selector(".msg.agent", timeout=10000)
        save_shot(page, "assist-02-sent")
        with db.session_scope(engine) as s:
            logged = [
                (e.source, e.event)
                for e in s.execute(select(SuggestionEvent).order_by(SuggestionEvent.id)).scalars()
            ]
        assert ("knowledge", "shown") in logged and logged[-1] == ("knowledge", "edited")
        assert errors == [], errors
    finally:
        ctx.close()


def test_crisis_takeover_shows_the_script_first(browser, console):
    base, user, password, _ = console
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, base, user, password)
        page.goto(f"{base}/conversations/{CRISIS}")
        page.click("#take-btn")
        page.wait_for_selector("#crisis-script li")
        script = page.locator("#crisis-script").inner_text()
        assert "120" in script and "12356" in script and "中国青年报" in script
        assert page.locator(".suggestion").first.get_attribute("data-source") == "crisis"
        assert "高危" in page.locator("#takeover-summary").inner_text()
        assert "我已经通知人工客服" not in page.locator("#suggestions").inner_text()
        save_shot(page, "assist-03-crisis")
    finally:
        ctx.close()


def test_queue_tools_canned_replies_phone_and_search(browser, console):
    base, user, password, _ = console
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    errors: list = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, base, user, password)
        # status and bulk close on the queue page
        page.goto(f"{base}/queue")
        page.click("#status-form button[value=online]")
        page.wait_for_selector("#status-form button[value=away]")
        assert user in page.locator("#status-form").inner_text()
        assert page.locator("tr[data-id]", has_text="tg-stale-1").count() == 1
        page.fill("#close-stale-form input[name=reason]", "测试遗留")
        page.click("#close-stale-form button[type=submit]")
        page.wait_for_selector(".flash")
        assert "已关闭 1 条" in page.locator(".flash").inner_text()
        assert page.locator("tr[data-id]", has_text="tg-stale-1").count() == 0
        save_shot(page, "assist-04-queue-tools")

        # a canned reply goes into the reply box with one choice, still editable
        page.goto(f"{base}/conversations/{ASKER}")
        page.wait_for_selector("#canned-select option:nth-child(2)", state="attached")
        page.select_option("#canned-select", label="请稍等")
        assert "请稍等" in page.input_value("#reply-text")

        # phone assist: answers in the agent's voice, the form pre-filled, caller look-up
        page.goto(f"{base}/phone")
        page.fill("form[action='/phone/analyse'] textarea", "我是三级伤残，补助怎么领")
        page.click("form[action='/phone/analyse'] button[type=submit]")
        page.wait_for_selector("#analysis")
        assert "您好，我是服务中心的工作人员" in page.locator("#analysis").inner_text()
        assert page.input_value("select[name=disability_grade]") == "3"
        assert page.input_value("select[name=veteran_category]") == "伤残军人"
        page.fill("#lookup-form input[name=query]", "13800000000")
        page.click("#lookup-form button[type=submit]")
        page.wait_for_selector("#lookup")
        assert "没有找到" in page.locator("#lookup").inner_text()
        save_shot(page, "assist-05-phone")

        # search past conversations
        page.goto(f"{base}/search?q=补助")
        page.wait_for_selector("#search-results")
        assert ASKER in page.locator("#search-results").inner_text()
        assert errors == [], errors
    finally:
        ctx.close()
