"""Browser tests of the phone page's two last pieces in headless Chromium:

* an agent books a 报到 for a caller (centre, day, a real free slot), reads out the 确认码, sees
  a wrong ID number refused with everything typed kept, finds the caller again by mobile and
  moves the booking (code kept, old place released);
* a supervisor reveals a masked wish's original with the button (logged); an agent has no button
  and is refused.

    .venv/bin/python -m pytest tests/console/e2e/test_phone_e2e.py -q

Self-contained: the real console (``create_app``) in a background thread on a free port, on a
throw-away SQLite database; the 李沧 centre takes one person per slot, so a booked slot leaves
the list. Screenshots: test-output/screenshots/phone-*.png.
"""

from __future__ import annotations

import secrets

import pytest

from tests.console.e2e.conftest import console_database, save_shot, serving
from tests.console.e2e.test_assist_e2e import login

WISH_TEXT = "我叫刘国强，电话13912345678，住李沧区某某路8号，想要一台助听器。"
MOBILE = "13812349876"


def valid_id(n: int) -> str:
    from bot.core import people

    first17 = f"370202{1955 + n}0101{n:03d}"
    return first17 + people.id_check_digit(first17)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    from bot.console import accounts
    from bot.console.app import create_app
    from bot.console.config import ConsoleConfig
    from bot.console.kit import local_now
    from bot.core import appointments as ap
    from bot.core import db, wishes

    with console_database(tmp_path_factory, "phone-e2e") as (_, engine):
        now = local_now()
        users = {
            role: (f"e2e_{role[:3]}_{secrets.token_hex(3)}", secrets.token_urlsafe(16))
            for role in ("supervisor", "agent")
        }
        with db.session_scope(engine) as s:
            for role, (name, password) in users.items():
                accounts.create_user(s, name, password, role, now=now, created_by="e2e")
            ap.set_capacity(s, "licang", 1, "e2e", now)
            wish_id = wishes.submit(
                s, sender_id="tg-5151", category="助医", description=WISH_TEXT, now=now
            ).id

        config = ConsoleConfig(
            secret=secrets.token_urlsafe(32),
            rasa_url="http://127.0.0.1:9",
            event_broker="none",
            push_token="e2e",
        )
        app = create_app(config, engine=engine, event_source=None)
        with serving(app) as base:
            yield {"base": base, "users": users, "engine": engine, "wish_id": wish_id}


def _context(browser):
    return browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")


def _slot_values(page) -> list[str]:
    return [radio.get_attribute("value") for radio in page.locator('input[name="start"]').all()]


def test_agent_books_and_reschedules_for_a_caller(browser, console):
    from datetime import datetime

    from sqlalchemy import select

    from bot.core import appointments as ap
    from bot.core import db

    base, engine = console["base"], console["engine"]
    ctx = _context(browser)
    page = ctx.new_page()
    errors: list = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page, base, *console["users"]["agent"])
        page.goto(f"{base}/phone")
        page.click("#phone-book-link")
        page.select_option("#booking-centre", "licang")
        page.click("#show-slots")
        page.wait_for_selector("#slots")
        day = page.input_value("#booking-date")  # the soonest day with a free slot
        first = page.locator('input[name="start"]').first
        chosen = first.get_attribute("value")
        assert chosen.startswith(day)
        # a wrong ID number: refused in Chinese, everything typed still there
        first.check()
        page.fill('input[name="name"]', "王建国")
        page.fill('input[name="mobile"]', MOBILE)
        page.fill('input[name="id_number"]', valid_id(7)[:-1] + "X")
        page.select_option('select[name="category"]', "退役士兵")
        page.click("#book-btn")
        page.wait_for_selector("#booking-errors")
        assert "身份证号" in page.inner_text("#booking-errors")
        assert page.input_value('input[name="name"]') == "王建国"
        assert page.input_value('input[name="mobile"]') == MOBILE
        assert page.is_checked(f'input[name="start"][value="{chosen}"]')
        save_shot(page, "phone-01-booking-refused")
        page.fill('input[name="id_number"]', valid_id(7))
        page.click("#book-btn")
        page.wait_for_selector("#appointment-code")
        code = page.inner_text("#appointment-code")
        assert f"确认码 {code}" in page.inner_text(".flash")
        assert "李沧区退役军人服务中心" in page.inner_text("#read-out")
        assert MOBILE not in page.content()
        save_shot(page, "phone-02-booked")

        # one place per slot: the booked slot is no longer offered
        page.goto(f"{base}/phone/book?centre=licang&date={day}")
        assert chosen not in _slot_values(page)

        # find the caller by mobile, move the booking to another slot
        page.goto(f"{base}/phone")
        page.fill('#lookup-form input[name="query"]', MOBILE)
        page.click("#lookup-form button[type=submit]")
        page.wait_for_selector("#lookup")
        page.locator("#lookup a", has_text="代为改约").click()
        page.wait_for_selector("#reschedule-form")
        target = page.locator('#reschedule-form input[name="start"]').first
        new_start = target.get_attribute("value")
        assert new_start != chosen
        target.check()
        page.click("#reschedule-btn")
        page.wait_for_selector(".flash")
        assert f"确认码仍是 {code}" in page.inner_text(".flash")
        assert page.inner_text("#appointment-code") == code
        assert "改约" in page.inner_text("#history")
        save_shot(page, "phone-03-rescheduled")
        page.goto(f"{base}/phone/book?centre=licang&date={day}")
        assert chosen in _slot_values(page)  # the old place is free again
        with db.session_scope(engine) as s:
            [appointment] = s.execute(select(ap.Appointment)).scalars().all()
            assert appointment.code == code
            assert appointment.start == datetime.fromisoformat(new_start)
            actors = [(e.action, e.actor) for e in ap.history(s, appointment)]
        agent = console["users"]["agent"][0]
        assert actors == [("booked", agent), ("rescheduled", agent)]
        assert errors == [], errors
    finally:
        ctx.close()


def test_supervisor_reveals_a_masked_wish_and_an_agent_cannot(browser, console):
    from sqlalchemy import select

    from bot.console.models import PiiRevealLog
    from bot.core import db

    base, engine, wish_id = console["base"], console["engine"], console["wish_id"]
    supervisor, agent = console["users"]["supervisor"], console["users"]["agent"]
    ctx = _context(browser)
    page = ctx.new_page()
    try:
        login(page, base, *agent)
        page.goto(f"{base}/wishes/{wish_id}")
        assert "13912345678" not in page.inner_text("#public-text")
        assert page.locator("#btn-reveal").count() == 0
        status = page.evaluate(
            """async (id) => {
                const token = document.querySelector('meta[name="csrf-token"]').content;
                const resp = await fetch(`/wishes/${id}/reveal`, {method: 'POST',
                    headers: {'X-CSRF-Token': token}});
                return resp.status;
            }""",
            wish_id,
        )
        assert status == 403
    finally:
        ctx.close()
    ctx = _context(browser)
    page = ctx.new_page()
    try:
        login(page, base, *supervisor)
        page.goto(f"{base}/wishes/{wish_id}")
        public = page.inner_text("#public-text")
        assert "13912345678" not in public and "刘国强" not in public
        page.click("#btn-reveal")
        page.wait_for_selector("#original-text")
        assert page.inner_text("#original-text") == WISH_TEXT
        save_shot(page, "phone-04-wish-original")
        page.goto(f"{base}/pii/log")
        assert "心愿原文" in page.inner_text("table") and "13912345678" not in page.content()
        with db.session_scope(engine) as s:
            logged = [
                (r.agent, r.field, r.subject) for r in s.execute(select(PiiRevealLog)).scalars()
            ]
        assert logged == [(supervisor[0], "wish_text", f"wish:{wish_id}")]
    finally:
        ctx.close()
