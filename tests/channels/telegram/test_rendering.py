"""Reply items → Telegram calls: splitting, keyboards, photos, custom payloads."""

from __future__ import annotations

import json

import pytest

from bot.channels.telegram.callback_store import MAX_CALLBACK_BYTES, CallbackStore
from bot.channels.telegram.rendering import build_keyboard, split_text, utf16_len


def _same_content(parts: list[str], original: str) -> bool:
    squash = lambda s: "".join(s.split())  # noqa: E731 - whitespace at cuts may be dropped
    return squash("".join(parts)) == squash(original)


def test_short_text_is_one_message():
    assert split_text("你好") == ["你好"]
    assert split_text("   ") == []


def test_split_prefers_paragraphs_then_lines():
    paragraph = "荣军卡是青岛市为退役军人提供的优待卡。" * 100  # 1900 characters
    text = "\n\n".join([paragraph] * 5)
    parts = split_text(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert all(p.startswith("荣军卡") and p.endswith("。") for p in parts)
    assert _same_content(parts, text)
    lines = "\n".join([f"第{i:03d}行：按规定办理优待手续" for i in range(600)])
    parts = split_text(lines)
    assert len(parts) > 1 and all(p.startswith("第") for p in parts)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert _same_content(parts, lines)


def test_split_never_cuts_a_surrogate_pair():
    text = "😀" * 5000  # 10000 UTF-16 units, no boundary at all
    parts = split_text(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == text
    for part in parts:
        part.encode("utf-8")  # would raise on a lone surrogate
    odd = "a" + "😀" * 3000
    parts = split_text(odd)
    assert "".join(parts) == odd and all(utf16_len(p) <= 4096 for p in parts)


def test_split_without_any_boundary_cuts_hard():
    text = "字" * 9000
    parts = split_text(text, 4096)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_callback_data_fits_64_bytes_for_long_chinese_payloads():
    store = CallbackStore()
    payload = '/inform{"benefit":"荣军微心愿","district":"西海岸新区","veteran_category":"因公牺牲军人遗属"}'  # noqa: E501
    assert len(payload.encode()) > MAX_CALLBACK_BYTES
    data = store.encode(payload, "荣军微心愿")
    assert len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
    assert store.decode(data).payload == payload
    assert store.decode(data).title == "荣军微心愿"
    short = store.encode("/affirm")
    assert short == "p:/affirm" and store.decode(short).payload == "/affirm"
    assert len(store) == 1  # only the long one needed a token
    long_ascii = "/inform" + json.dumps({"x": "y" * 80})
    assert len(store.encode(long_ascii).encode()) <= MAX_CALLBACK_BYTES


def test_callback_store_expiry_and_bound():
    now = [0.0]
    store = CallbackStore(max_size=3, ttl=100, clock=lambda: now[0])
    tokens = [store.encode(f'/inform{{"n":"{i}号"}}') for i in range(5)]
    assert len(store) == 3
    assert store.decode(tokens[0]) is None and store.decode(tokens[1]) is None
    assert store.decode(tokens[4]).payload == '/inform{"n":"4号"}'
    now[0] = 101
    assert store.decode(tokens[4]) is None
    assert (
        store.decode("t:unknown") is None
        and store.decode("garbage") is None
        and store.decode(None) is None
    )


def test_keyboard_layout_and_url_buttons():
    store = CallbackStore()
    markup = build_keyboard(
        [
            {"title": "是", "payload": "/affirm"},
            {"title": "否", "payload": "/deny"},
            {"title": "官网", "url": "https://example.org"},
            {"title": "", "payload": ""},
        ],
        store,
    )
    rows = markup.inline_keyboard
    flat = [b for row in rows for b in row]
    assert [b.text for b in flat] == ["是", "否", "官网"]
    assert flat[2].url == "https://example.org" and flat[2].callback_data is None
    assert len(rows) == 1  # three very short titles share a row
    long_titles = build_keyboard(
        [
            {"title": "我要预约退役军人服务中心报到", "payload": "/book_appointment"},
            {"title": "查询", "payload": "/check_appointment"},
        ],
        store,
    )
    assert [len(r) for r in long_titles.inline_keyboard] == [1, 1]
    assert build_keyboard([], store) is None
    untitled = build_keyboard([{"payload": "/affirm"}], store)  # Rasa would show the payload
    assert untitled.inline_keyboard[0][0].text == "/affirm"


pytestmark_async = pytest.mark.asyncio


@pytestmark_async
async def test_long_reply_is_split_and_keyboard_on_last_part(gateway_factory, fake_api, fake_rasa):
    long_text = "\n".join(
        f"第{i}条：荣军优待政策说明，请携带身份证和优待证办理。" for i in range(400)
    )
    fake_rasa.reply = lambda s, m, md: [
        {
            "recipient_id": s,
            "text": long_text,
            "buttons": [{"title": "预约报到", "payload": "/book_appointment"}],
        }
    ]
    harness = await gateway_factory(fake_rasa.url)
    await harness.say(2001, "政策")
    expected = len(split_text(long_text))
    assert expected >= 3
    await fake_api.wait_for("sendMessage", expected, chat_id=2001)
    calls = fake_api.calls_of("sendMessage", 2001)
    assert len(calls) == expected
    assert all(utf16_len(c.params["text"]) <= 4096 for c in calls)
    assert all("reply_markup" not in c.params for c in calls[:-1])
    assert calls[-1].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "预约报到"
    assert _same_content([c.params["text"] for c in calls], long_text)


@pytestmark_async
async def test_buttons_become_inline_keyboard_with_short_callback_data(
    gateway_factory, fake_api, fake_rasa
):
    payload = '/inform{"benefit":"荣军微心愿","district":"西海岸新区","veteran_category":"因公牺牲军人遗属"}'  # noqa: E501
    fake_rasa.reply = lambda s, m, md: [
        {
            "recipient_id": s,
            "text": "请选择：",
            "buttons": [
                {"title": "荣军微心愿", "payload": payload},
                {"title": "取消", "payload": "/cancel"},
            ],
        }
    ]
    harness = await gateway_factory(fake_rasa.url)
    await harness.say(2002, "心愿")
    (call,) = await fake_api.wait_for("sendMessage", 1, chat_id=2002)
    buttons = [b for row in call.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["荣军微心愿", "取消"]
    assert all(len(b["callback_data"].encode("utf-8")) <= 64 for b in buttons)
    assert buttons[1]["callback_data"] == "p:/cancel"
    assert harness.gateway.store.decode(buttons[0]["callback_data"]).payload == payload


@pytestmark_async
async def test_buttons_without_text_get_a_prompt(gateway_factory, fake_api, fake_rasa):
    from bot.channels.telegram.texts import default_texts

    fake_rasa.reply = lambda s, m, md: [
        {"recipient_id": s, "buttons": [{"title": "是", "payload": "/affirm"}]}
    ]
    harness = await gateway_factory(fake_rasa.url)
    await harness.say(2003, "?")
    (call,) = await fake_api.wait_for("sendMessage", 1, chat_id=2003)
    assert call.params["text"] == default_texts().get("buttons_prompt")
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "p:/affirm"


@pytestmark_async
async def test_image_custom_and_unknown_items(gateway_factory, fake_api, fake_rasa, caplog):
    fake_rasa.reply = lambda s, m, md: [
        {"recipient_id": s, "image": "https://example.org/map.png"},
        {
            "recipient_id": s,
            "custom": {"text": "自定义文字", "buttons": [{"title": "好", "payload": "/affirm"}]},
        },
        {"recipient_id": s, "custom": {"location": {"latitude": 36.06, "longitude": 120.38}}},
        {
            "recipient_id": s,
            "custom": {
                "location": {
                    "latitude": 36.06,
                    "longitude": 120.38,
                    "title": "市南区服务中心（示例）",
                    "address": "示例路1号",
                }
            },
        },
        {"recipient_id": s, "custom": {"something": "unknown"}},
        {"recipient_id": s, "attachment": "https://example.org/form.pdf"},
        {"recipient_id": s, "text": "最后一条"},
    ]
    harness = await gateway_factory(fake_rasa.url)
    caplog.set_level("INFO", logger="bot.channels.telegram.rendering")
    await harness.say(2004, "地图")
    await fake_api.wait_for("sendMessage", 3, chat_id=2004)
    photo = fake_api.calls_of("sendPhoto", 2004)
    assert [c.params["photo"] for c in photo] == ["https://example.org/map.png"]
    assert fake_api.texts_to(2004) == ["自定义文字", "https://example.org/form.pdf", "最后一条"]
    assert len(fake_api.calls_of("sendLocation", 2004)) == 1
    venue = fake_api.calls_of("sendVenue", 2004)
    assert venue[0].params["title"] == "市南区服务中心（示例）"
    assert "unknown shape" in caplog.text
    # Order of Telegram calls follows the order of items.
    order = [c.method for c in fake_api.calls if c.params.get("chat_id") == 2004]
    assert order == [
        "sendPhoto",
        "sendMessage",
        "sendLocation",
        "sendVenue",
        "sendMessage",
        "sendMessage",
    ]


@pytestmark_async
async def test_telegram_error_on_one_item_does_not_stop_the_gateway(
    gateway_factory, fake_api, fake_rasa
):
    harness = await gateway_factory(fake_rasa.url)
    fake_api.fail_chats[2005] = (403, "Forbidden: bot was blocked by the user")
    await harness.say(2005, "你好")
    await fake_api.wait_for("sendMessage", 1, chat_id=2005)
    await harness.say(2006, "还在吗")
    assert await harness.replies(2006, 1) == ["收到：还在吗"]
