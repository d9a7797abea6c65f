"""Pressing inline buttons."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.telegram.texts import default_texts

pytestmark = pytest.mark.asyncio
TEXTS = default_texts()
LONG_PAYLOAD = '/inform{"district":"黄岛区","veteran_category":"伤残军人","benefit":"荣军驿站"}'


def _menu(sender, message, metadata):
    if message == "菜单":
        return [
            {
                "recipient_id": sender,
                "text": "请选择区：",
                "buttons": [
                    {"title": "黄岛区", "payload": LONG_PAYLOAD},
                    {"title": "取消", "payload": "/cancel"},
                ],
            }
        ]
    return [{"recipient_id": sender, "text": f"收到：{message}"}]


async def _menu_message(harness, fake_api, chat_id):
    await harness.say(chat_id, "菜单")
    (call,) = await fake_api.wait_for("sendMessage", 1, chat_id=chat_id)
    message = next(m for (c, _), m in fake_api.messages.items() if c == chat_id)
    buttons = [b for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    return message, buttons


async def test_press_forwards_payload_removes_keyboard_and_answers(
    gateway_factory, fake_api, fake_rasa
):
    fake_rasa.reply = _menu
    harness = await gateway_factory(fake_rasa.url)
    message, buttons = await _menu_message(harness, fake_api, 3001)
    await harness.press(message, buttons[0]["callback_data"])
    texts = await harness.replies(3001, 2)
    assert texts[-1] == f"收到：{LONG_PAYLOAD}"
    assert fake_rasa.messages("tg-3001") == ["菜单", LONG_PAYLOAD]
    assert fake_rasa.requests[-1].metadata["button_title"] == "黄岛区"
    (answer,) = fake_api.calls_of("answerCallbackQuery")
    assert answer.params["text"] == TEXTS.get("button_chosen", title="黄岛区")
    (edit,) = fake_api.calls_of("editMessageReplyMarkup", 3001)
    assert edit.params["message_id"] == message["message_id"]
    assert not edit.params.get("reply_markup")  # keyboard removed
    # The answer comes before Rasa's reply: the spinner stops at once.
    order = [c.method for c in fake_api.calls if c.method in ("answerCallbackQuery", "sendMessage")]
    assert order.index("answerCallbackQuery") < len(order) - 1


async def test_inline_payload_press_reads_title_from_keyboard(gateway_factory, fake_api, fake_rasa):
    fake_rasa.reply = _menu
    harness = await gateway_factory(fake_rasa.url)
    message, buttons = await _menu_message(harness, fake_api, 3002)
    await harness.press(message, buttons[1]["callback_data"])
    await fake_rasa.wait_for(2)
    assert fake_rasa.messages() == ["菜单", "/cancel"]
    (answer,) = await fake_api.wait_for("answerCallbackQuery", 1)
    assert answer.params["text"] == TEXTS.get("button_chosen", title="取消")


async def test_second_press_on_same_keyboard_is_not_forwarded(gateway_factory, fake_api, fake_rasa):
    fake_rasa.reply = _menu
    harness = await gateway_factory(fake_rasa.url)
    message, buttons = await _menu_message(harness, fake_api, 3003)
    await harness.press(message, buttons[0]["callback_data"])
    await harness.press(message, buttons[1]["callback_data"])
    answers = await fake_api.wait_for("answerCallbackQuery", 2)
    await harness.replies(3003, 2)
    await asyncio.sleep(0.05)
    assert fake_rasa.messages() == ["菜单", LONG_PAYLOAD]
    assert answers[1].params["text"] == TEXTS.get("button_used")


async def test_expired_token_gets_polite_reply(gateway_factory, fake_api, fake_rasa):
    fake_rasa.reply = _menu
    harness = await gateway_factory(fake_rasa.url)
    message, _ = await _menu_message(harness, fake_api, 3004)
    await harness.press(message, "t:no-such-token-x")
    texts = await harness.replies(3004, 2)
    assert texts[-1] == TEXTS.get("button_expired")
    assert fake_rasa.messages() == ["菜单"]
    await fake_api.wait_for("answerCallbackQuery", 1)
    assert fake_api.calls_of("editMessageReplyMarkup", 3004), "a dead keyboard is removed too"
