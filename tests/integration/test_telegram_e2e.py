"""A whole 报到 booking from (fake) Telegram through the gateway, the real Rasa server and the
real action server; then the reminder the booking recorded is pushed to the chat, once.

Only Telegram's servers are faked (tests/channels/telegram/fake_bot_api.py); the gateway is the
real PTB
application, and buttons are pressed as callback queries the way a veteran taps them.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from bot.core import db, people
from tests.channels.telegram.fake_bot_api import FakeBotApi
from tests.channels.telegram.harness import start_gateway

pytestmark = pytest.mark.stack

CHAT = 770000 + uuid.uuid4().int % 10000


def valid_id() -> str:
    first17 = "37020319850615" + f"{uuid.uuid4().int % 1000:03d}"
    return first17 + people.id_check_digit(first17)


class TelegramUser:
    """Types and taps in one chat, and reads what the bot sent there."""

    def __init__(self, harness, api: FakeBotApi, chat_id: int) -> None:
        self.harness, self.api, self.chat_id = harness, api, chat_id
        self.seen = 0

    async def _new_messages(self, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until the bot has answered (and stopped sending for a moment); return the new
        messages."""
        await self.api.wait_for("sendMessage", self.seen + 1, chat_id=self.chat_id, timeout=timeout)
        while True:
            count = len(self.api.calls_of("sendMessage", self.chat_id))
            await asyncio.sleep(0.4)
            if len(self.api.calls_of("sendMessage", self.chat_id)) == count:
                break
        calls = self.api.calls_of("sendMessage", self.chat_id)[self.seen :]
        self.seen += len(calls)
        return [call.params for call in calls]

    async def say(self, words: str) -> str:
        await self.harness.say(self.chat_id, words)
        return "\n".join(m.get("text", "") for m in await self._new_messages())

    def _last_keyboard(self) -> tuple[dict[str, Any], list[dict[str, str]]]:
        for (chat, _), message in sorted(self.api.messages.items(), key=lambda item: -item[0][1]):
            if chat == self.chat_id and message.get("reply_markup"):
                markup = message["reply_markup"]
                return message, [b for row in markup["inline_keyboard"] for b in row]
        raise AssertionError("the bot offered no buttons")

    def button_titles(self) -> list[str]:
        return [button["text"] for button in self._last_keyboard()[1]]

    async def tap(self, title_part: str | None = None) -> str:
        """Tap the newest keyboard's button whose title contains ``title_part`` (default: first)."""
        message, buttons = self._last_keyboard()
        button = next((b for b in buttons if title_part is None or title_part in b["text"]), None)
        assert button is not None, (
            f"no button with {title_part!r} in {[b['text'] for b in buttons]}"
        )
        await self.harness.press(message, button["callback_data"])
        return "\n".join(m.get("text", "") for m in await self._new_messages())


@pytest.fixture
async def telegram_user(stack, stack_env):
    api = FakeBotApi()
    await api.start()
    engine = db.make_engine(stack_env["DATABASE_URL"])
    harness = await start_gateway(
        api,
        f"http://127.0.0.1:{stack.rasa_port}",
        gateway_kwargs={"outbox_engine": engine},
        outbox_interval=0.3,
        rasa_timeout=60.0,
    )
    try:
        yield TelegramUser(harness, api, CHAT)
    finally:
        await harness.close()
        await api.stop()
        engine.dispose()


async def test_booking_through_telegram_is_stored_and_its_reminder_is_pushed_once(
    telegram_user, stack_env
):
    user = telegram_user
    reply = await user.say("你好")
    assert "不是真人" in reply

    reply = await user.say("我想预约报到")
    assert "退役士兵" in user.button_titles(), reply
    reply = await user.tap("退役士兵")
    assert "市南区" in user.button_titles(), reply
    reply = await user.tap("市南区")

    reply = await user.say("下周三上午")
    if "姓名" not in reply:  # that morning is closed or full: take the nearest offered time
        reply = await user.tap()
    assert "姓名" in reply, reply
    reply = await user.say("王建国")
    assert "手机号" in reply, reply
    reply = await user.say("13812345678")
    assert "身份证" in reply, reply
    id_number = valid_id()
    reply = await user.say(id_number)
    if "退出现役" in reply:  # optional discharge date
        reply = (
            await user.tap("不清楚")
            if any("不清楚" in t for t in user.button_titles())
            else await user.say("不清楚")
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
            assert booked.status == "booked" and booked.sender_id == f"tg-{CHAT}"
            key = f"appointment:{booked.id}:reminder"
            # The reminder is due at 18:00 the day before; let that moment arrive.
            connection.execute(
                text(
                    "UPDATE outbox_messages SET due_at = '2000-01-01 00:00:00', next_attempt_at ="
                    " '2000-01-01 00:00:00' WHERE dedupe_key = :k"
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
    reminders = [
        c
        for c in user.api.calls_of("sendMessage", CHAT)
        if code in c.params.get("text", "") and "提醒" in c.params.get("text", "")
    ]
    assert len(reminders) == 1, [c.params["text"] for c in reminders]
