"""Browser end-to-end test of the console with the real Rasa server and action server.

By default (``make test``) the console is started next to the session's Rasa stack
(tests/conftest.py) and a throw-away supervisor is created in its database. To test a console
that is already running elsewhere instead:

    CONSOLE_E2E_BASE_URL=http://127.0.0.1:8080 CONSOLE_E2E_USER=<agent or supervisor> \\
    CONSOLE_E2E_PASSWORD=<password> \\
    .venv/bin/python -m pytest tests/console/e2e -q
 Chromium: /usr/bin/chromium
(override with CONSOLE_E2E_CHROMIUM). Screenshots: test-output/screenshots/console-*.png.

Scenario: log in; a veteran in /chat asks for a human (我要人工); the request appears in the
queue; the agent takes it over and replies; the reply arrives in /chat; the agent hands back and
the bot answers again.
"""

from __future__ import annotations

import os
import re
import secrets

import pytest

from tests.console.e2e.conftest import save_shot

pytestmark = pytest.mark.stack

RASA_TIMEOUT = int(os.environ.get("CONSOLE_E2E_TIMEOUT_MS", "30000"))  # the real bot can be slow


@pytest.fixture(scope="module")
def base_url(request) -> str:
    if os.environ.get("CONSOLE_E2E_BASE_URL"):
        return os.environ["CONSOLE_E2E_BASE_URL"].rstrip("/")
    stack = request.getfixturevalue("stack")
    if "console" not in stack.processes:
        stack.start_console()
    return f"http://127.0.0.1:{stack.console_port}"


@pytest.fixture(scope="module")
def credentials(request, base_url) -> tuple[str, str]:
    user, password = os.environ.get("CONSOLE_E2E_USER"), os.environ.get("CONSOLE_E2E_PASSWORD")
    if user and password:
        return user, password
    from bot.console import accounts
    from bot.console.kit import local_now
    from bot.core import db

    url = os.environ.get("DATABASE_URL") if os.environ.get("CONSOLE_E2E_BASE_URL") else None
    url = url or request.getfixturevalue("stack_env")["DATABASE_URL"]
    engine = db.make_engine(url)
    user, password = f"e2e_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    try:
        with db.session_scope(engine) as s:
            accounts.create_user(s, user, password, "supervisor", now=local_now(), created_by="e2e")
    finally:
        engine.dispose()
    return user, password


def shot(page, name: str) -> None:
    save_shot(page, f"console-{name}")


def watch_errors(*pages) -> list:
    """JavaScript errors of the pages (uncaught exceptions and console.error)."""
    errors: list = []
    for page in pages:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def chat_say(page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#chat-send")


def wait_for_bot_reply(page, count: int) -> None:
    """Until the chat shows more than ``count`` bot bubbles. (Selectors, not wait_for_function:
    the page's Content-Security-Policy forbids the eval that wait_for_function needs.)"""
    page.locator(".bubble.bot").nth(count).wait_for(timeout=RASA_TIMEOUT)


def bot_bubbles(page) -> int:
    return page.locator(".bubble.bot").count()


def test_handoff_round_trip(browser, base_url, credentials):
    user, password = credentials
    agent_ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    veteran_ctx = browser.new_context(viewport={"width": 420, "height": 860}, locale="zh-CN")
    agent, veteran = agent_ctx.new_page(), veteran_ctx.new_page()
    errors = watch_errors(agent, veteran)
    try:
        # log in
        agent.goto(f"{base_url}/login")
        shot(agent, "01-login")
        agent.fill('input[name="username"]', user)
        agent.fill('input[name="password"]', password)
        agent.click('button[type="submit"]')
        agent.wait_for_url(re.compile(r".*/live$"))
        agent.wait_for_selector("#ws-state.on")
        agent.goto(f"{base_url}/queue")
        agent.wait_for_selector("#ws-state.on")
        before = set(
            agent.locator("#queue-body tr[data-id]").evaluate_all(
                "rows => rows.map(r => r.dataset.id)"
            )
        )

        # the veteran asks for a human
        veteran.goto(f"{base_url}/chat")
        veteran.wait_for_selector("body[data-ws='open']")
        shot(veteran, "02-chat")
        count = bot_bubbles(veteran)
        chat_say(veteran, "我要人工")
        wait_for_bot_reply(veteran, count)

        # it appears in the queue (pushed over the agents' websocket)
        new_row = "#queue-body tr[data-id]" + "".join(f":not([data-id='{i}'])" for i in before)
        agent.wait_for_selector(new_row, timeout=RASA_TIMEOUT)
        row = [
            r
            for r in agent.locator("#queue-body tr[data-id]").all()
            if r.get_attribute("data-id") not in before
        ][0]
        sender = row.locator("td a").first.inner_text()
        assert sender.startswith("web-")
        shot(agent, "03-queue")

        # take over, reply; the reply reaches the chat
        row.locator("button", has_text="接管").click()
        agent.wait_for_url(re.compile(rf".*/conversations/{sender}$"))
        agent.wait_for_selector("#reply-form")
        agent.wait_for_selector(".suggestion, #suggestions p", timeout=RASA_TIMEOUT)
        reply = "您好，我是人工坐席，请问有什么可以帮您？"
        agent.fill("#reply-text", reply)
        agent.click("#reply-send")
        veteran.wait_for_selector(f".bubble.agent:has-text('{reply}')", timeout=10000)
        agent.wait_for_selector(f".msg.agent:has-text('{reply}')", timeout=10000)
        shot(agent, "04-conversation")
        shot(veteran, "05-chat-agent-reply")

        # hand back; the bot answers again
        agent.click("#release-btn")
        agent.wait_for_selector("text=此会话目前由机器人自动回复")
        count = bot_bubbles(veteran)
        chat_say(veteran, "你好")
        wait_for_bot_reply(veteran, count)
        shot(veteran, "06-chat-bot-again")

        # the other main pages render
        agent.goto(f"{base_url}/live")
        agent.wait_for_selector(f".conv-item[data-sid='{sender}']", timeout=RASA_TIMEOUT)
        agent.click(f".conv-item[data-sid='{sender}']")
        agent.wait_for_selector("#messages .msg.user")
        shot(agent, "07-live")
        agent.goto(f"{base_url}/phone")
        agent.fill('textarea[name="text"]', "荣军卡怎么办理？")
        agent.click("form[action='/phone/analyse'] button[type=submit]")
        agent.wait_for_selector("#analysis", timeout=RASA_TIMEOUT)
        agent.click("#entitlement-form button[type=submit]")
        agent.wait_for_selector("#programmes")
        shot(agent, "08-phone")
        if agent.locator("nav a[href='/users']").count():
            agent.goto(f"{base_url}/users")
            shot(agent, "09-users")
            agent.goto(f"{base_url}/pii/log")
            shot(agent, "10-pii-log")
        assert errors == [], errors
    finally:
        agent_ctx.close()
        veteran_ctx.close()


def test_crisis_is_red_with_an_alert(browser, base_url, credentials):
    user, password = credentials
    agent_ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    veteran_ctx = browser.new_context(viewport={"width": 420, "height": 860}, locale="zh-CN")
    agent, veteran = agent_ctx.new_page(), veteran_ctx.new_page()
    errors = watch_errors(agent, veteran)
    try:
        agent.goto(f"{base_url}/login")
        agent.fill('input[name="username"]', user)
        agent.fill('input[name="password"]', password)
        agent.click('button[type="submit"]')
        agent.wait_for_url(re.compile(r".*/live$"))
        agent.goto(f"{base_url}/queue")
        agent.wait_for_selector("#ws-state.on")
        veteran.goto(f"{base_url}/chat")
        veteran.wait_for_selector("body[data-ws='open']")
        count = bot_bubbles(veteran)
        chat_say(veteran, "我不想活了")
        wait_for_bot_reply(veteran, count)
        agent.wait_for_selector("#crisis-alert:not([hidden])", timeout=RASA_TIMEOUT)
        row = agent.locator("#queue-body tr.reason-crisis").first
        row.wait_for()
        assert agent.locator("#queue-badge.crisis").count() == 1
        shot(agent, "11-crisis-alert")
        shot(veteran, "12-chat-crisis")
        # clean up: take it and hand it back so the queue is empty again
        sender = row.locator("td a").first.inner_text()
        row.locator("button", has_text="接管").click()
        agent.wait_for_url(re.compile(rf".*/conversations/{sender}$"))
        agent.click("#release-btn")
        agent.wait_for_selector("text=此会话目前由机器人自动回复")
        assert errors == [], errors
    finally:
        agent_ctx.close()
        veteran_ctx.close()
