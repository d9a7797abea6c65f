"""A whole 报到 booking from (fake) WeChat through the gateway, the real Rasa server and the
real action server; then the reminder the booking recorded is pushed as a 客服 message, once.

Only WeChat's servers are faked: the platform side posts signed, AES-encrypted XML (safe mode)
as WeChat does, and the fake API (tests/channels/wechat/fake_wechat_api.py) receives 客服
messages. Buttons are answered the way a veteran would: with the menu number, or the title.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from sqlalchemy import text

from bot.core import appointments, db, people
from tests.channels.wechat.fake_wechat_api import FakeWeChatApi
from tests.channels.wechat.harness import start_gateway

pytestmark = pytest.mark.stack

OPENID = f"oE2E{uuid.uuid4().hex[:20]}"
MENU_LINE = re.compile(r"^(\d+)\. (.+)$")


def valid_id() -> str:
    first17 = "37020319850615" + f"{uuid.uuid4().int % 1000:03d}"
    return first17 + people.id_check_digit(first17)


class WeChatUser:
    """Writes to the 公众号 and reads everything the bot answered: the passive reply plus any
    客服 messages (the rest of a long answer, or all of it when Rasa took over 4 s)."""

    def __init__(self, harness, api: FakeWeChatApi) -> None:
        self.harness, self.api = harness, api
        self.seen = 0
        self.last: list[str] = []

    async def _customer_service_messages(self, expect_one: bool) -> list[str]:
        if expect_one:
            await self.api.wait_for(self.seen + 1, OPENID, timeout=90)
        while True:  # let the rest of the turn arrive
            count = len(self.api.texts_to(OPENID))
            await asyncio.sleep(0.6)
            if len(self.api.texts_to(OPENID)) == count:
                break
        new = self.api.texts_to(OPENID)[self.seen :]
        self.seen += len(new)
        return new

    async def say(self, words: str) -> str:
        reply = await self.harness.platform.text(OPENID, words)
        assert reply.status == 200, reply.body
        passive = [reply.content] if reply.content else []
        self.last = passive + await self._customer_service_messages(expect_one=not passive)
        return "\n".join(self.last)

    def menu(self) -> dict[str, str]:
        """Title → number of the newest numbered menu."""
        for message in reversed(self.last):
            lines = [MENU_LINE.match(line) for line in message.splitlines()]
            found = {m.group(2): m.group(1) for m in lines if m}
            if found:
                return found
        raise AssertionError(f"the bot offered no menu: {self.last}")

    async def choose(self, title_part: str | None = None) -> str:
        menu = self.menu()
        title = next((t for t in menu if title_part is None or title_part in t), None)
        assert title is not None, f"no choice with {title_part!r} in {list(menu)}"
        return await self.say(menu[title])


@pytest.fixture
async def wechat_user(stack, stack_env):
    api = FakeWeChatApi()
    await api.start()
    engine = db.make_engine(stack_env["DATABASE_URL"])
    harness = await start_gateway(
        api,
        f"http://127.0.0.1:{stack.rasa_port}",
        engine=engine,
        mode="safe",
        outbox_interval=0.3,
        rasa_timeout=60.0,
        passive_timeout=4.0,
    )
    try:
        yield WeChatUser(harness, api)
    finally:
        await harness.close()
        await api.stop()
        engine.dispose()


async def test_booking_through_wechat_is_stored_and_its_reminder_is_pushed_once(
    wechat_user, stack_env
):
    user = wechat_user
    reply = await user.harness.platform.event(OPENID, "subscribe")  # following greets
    greeting = [reply.content] if reply.content else await user._customer_service_messages(True)
    assert "不是真人" in "\n".join(greeting)

    reply = await user.say("我想预约报到")
    assert "退役士兵" in user.menu(), reply
    reply = await user.choose("退役士兵")  # by number
    assert "市南区" in user.menu(), reply
    reply = await user.say("市南区")  # by title
    reply = await user.say("下周三上午")
    if "姓名" not in reply:  # that morning is closed or full: take the nearest offered time
        reply = await user.choose()
    assert "姓名" in reply, reply
    reply = await user.say("王建国")
    assert "手机号" in reply, reply
    reply = await user.say("13812345678")
    assert "身份证" in reply, reply
    id_number = valid_id()
    reply = await user.say(id_number)
    if "退出现役" in reply:  # optional discharge date
        reply = await (
            user.choose("不清楚") if any("不清楚" in t for t in user.menu()) else user.say("不清楚")
        )
    assert "请核对预约信息" in reply and people.mask_id(id_number) in reply, reply
    assert id_number not in reply

    reply = await user.say("对的没错")
    assert "预约成功" in reply, reply
    code = reply.split("确认码：")[1][:6]

    engine = db.make_engine(stack_env["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            booked = connection.execute(
                text("SELECT id, status, sender_id FROM appointments WHERE code = :c"), {"c": code}
            ).one()
            assert booked.status == "booked" and booked.sender_id == f"wx-{OPENID}"
            key = f"appointment:{booked.id}:reminder"
            assert "wx-" in appointments.PUSH_PREFIXES
            connection.execute(
                text(
                    "UPDATE outbox_messages SET due_at = '2000-01-01 00:00:00', "
                    "next_attempt_at = '2000-01-01 00:00:00' WHERE dedupe_key = :k"
                ),
                {"k": key},
            )
        for _ in range(100):
            with engine.connect() as connection:
                status = connection.execute(
                    text("SELECT status FROM outbox_messages WHERE dedupe_key = :k"), {"k": key}
                ).scalar_one()
            if status == "sent":
                break
            await asyncio.sleep(0.2)
        assert status == "sent"
    finally:
        engine.dispose()

    await asyncio.sleep(1.5)  # several more delivery rounds: it must not be sent again
    reminders = [t for t in user.api.texts_to(OPENID) if code in t and "提醒" in t]
    assert len(reminders) == 1, reminders
