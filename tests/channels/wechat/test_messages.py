"""Kinds of incoming messages and how answers are shaped: menus, voice, follow, media, script,
WeChat's 2048-byte limit."""

from __future__ import annotations

from datetime import timedelta

from bot.core import clock, contacts
from bot.core.db import session_scope
from tests.channels.telegram.fake_rasa import FakeRasa

USER = "oUSER_messages_0001"

CATEGORIES = [
    {"title": "退役士兵", "payload": '/inform{"category":"veteran"}'},
    {"title": "军属", "payload": '/inform{"category":"family"}'},
    {"title": "政策原文", "url": "https://example.gov.cn/policy"},
]


def _with_buttons(sender, message, metadata):
    if message == "我想预约报到":
        return [{"text": "请问您的身份是？", "buttons": CATEGORIES}]
    if message == "几个人":
        return [{"text": "请问几位来办理？"}]
    return [{"text": f"收到：{message}"}]


async def _gateway_with(gateway_factory, reply, **overrides):
    rasa = FakeRasa(reply=reply)
    await rasa.start()
    return rasa, await gateway_factory(rasa.url, **overrides)


async def test_buttons_become_a_numbered_menu_and_the_number_picks_the_payload(gateway_factory):
    rasa, harness = await _gateway_with(gateway_factory, _with_buttons)
    try:
        reply = await harness.platform.text(USER, "我想预约报到")
        assert reply.content.splitlines() == [
            "请问您的身份是？",
            "",
            "请回复数字选择：",
            "1. 退役士兵",
            "2. 军属",
            "",
            "政策原文：https://example.gov.cn/policy",
        ]
        await harness.platform.text(USER, "２")  # full-width, as some keyboards type it
        assert rasa.requests[-1].message == '/inform{"category":"family"}'
        assert rasa.requests[-1].metadata["button_title"] == "军属"
        # The menu is used up: a second "2" is just text.
        await harness.platform.text(USER, "2")
        assert rasa.requests[-1].message == "2"
    finally:
        await rasa.stop()


async def test_the_title_also_picks_the_button_even_in_traditional(gateway_factory):
    rasa, harness = await _gateway_with(gateway_factory, _with_buttons)
    try:
        await harness.platform.text(USER, "我想预约报到")
        await harness.platform.text(USER, "軍屬")
        assert rasa.requests[-1].message == '/inform{"category":"family"}'
    finally:
        await rasa.stop()


async def test_a_reply_without_buttons_withdraws_the_menu(gateway_factory):
    rasa, harness = await _gateway_with(gateway_factory, _with_buttons)
    try:
        await harness.platform.text(USER, "我想预约报到")
        await harness.platform.text(USER, "几个人")
        await harness.platform.text(USER, "1")
        assert rasa.requests[-1].message == "1"
    finally:
        await rasa.stop()


async def test_an_expired_menu_number_goes_to_rasa_as_text(gateway_factory):
    rasa, harness = await _gateway_with(gateway_factory, _with_buttons, menu_ttl=0.0)
    try:
        await harness.platform.text(USER, "我想预约报到")
        await harness.platform.text(USER, "1")
        assert rasa.requests[-1].message == "1"
    finally:
        await rasa.stop()


async def test_voice_uses_wechats_recognition_as_text(gateway, fake_rasa):
    reply = await gateway.platform.voice(USER, "我想问一下荣军卡")
    assert reply.content == "收到：我想问一下荣军卡"
    assert fake_rasa.requests[0].metadata["msg_type"] == "voice"


async def test_voice_without_recognition_is_answered_kindly(gateway, fake_rasa):
    reply = await gateway.platform.voice(USER, None)
    assert "语音" in reply.content and "没有听清" in reply.content
    assert fake_rasa.requests == []


async def test_follow_sends_greet_to_rasa_and_opens_the_push_window(gateway, fake_rasa, engine):
    reply = await gateway.platform.event(USER, "subscribe")
    assert reply.content == "收到：/greet"
    await gateway.gateway.relay.drain()  # the contact is recorded off the reply path
    with session_scope(engine) as session:
        state = contacts.reachability(session, f"wx-{USER}", clock.now(), timedelta(hours=47))
    assert state.reachable


async def test_follow_by_qr_code_also_greets(gateway, fake_rasa):
    reply = await gateway.platform.event(USER, "subscribe", EventKey="qrscene_123")
    assert reply.content == "收到：/greet"


async def test_unfollow_answers_nothing_and_stops_pushes(gateway, fake_rasa, engine):
    await gateway.platform.text(USER, "你好")
    reply = await gateway.platform.event(USER, "unsubscribe")
    assert reply.body == "success"
    await gateway.gateway.relay.drain()  # both contact writes happen off the reply path
    with session_scope(engine) as session:
        state = contacts.reachability(session, f"wx-{USER}", clock.now(), timedelta(hours=47))
    assert state.reason == "unsubscribed"


async def test_images_get_a_polite_text(gateway, fake_rasa):
    reply = await gateway.platform.image(USER)
    assert "文字和语音" in reply.content
    assert fake_rasa.requests == []


async def test_channel_texts_follow_the_users_script(gateway, fake_rasa):
    await gateway.platform.text(USER, "請問榮軍卡怎麼辦理")
    reply = await gateway.platform.image(USER)
    assert "文字和語音" in reply.content


async def test_long_answers_are_split_at_2048_bytes_first_passive_rest_customer_service(
    gateway_factory, fake_api
):
    paragraph = "退役军人服务中心提供政策咨询、报到登记、优待证办理等服务。" * 12
    long_answer = "\n\n".join([paragraph] * 4)

    rasa, harness = await _gateway_with(
        gateway_factory, lambda s, m, md: [{"text": long_answer}, {"text": "以官方最新公布为准"}]
    )
    try:
        reply = await harness.platform.text(USER, "介绍一下")
        rest = await fake_api.wait_for(4, USER)  # four paragraphs of 1 KB, then the note
        parts = [reply.content, *rest]
        assert all(len(p.encode()) <= 2048 for p in parts)
        assert "".join(parts).replace("\n", "") == (long_answer + "以官方最新公布为准").replace(
            "\n", ""
        )
        assert parts[-1] == "以官方最新公布为准"
    finally:
        await rasa.stop()


async def test_several_short_items_are_joined_into_one_passive_reply(gateway_factory, fake_api):
    rasa, harness = await _gateway_with(
        gateway_factory, lambda s, m, md: [{"text": "第一段"}, {"text": "第二段"}]
    )
    try:
        reply = await harness.platform.text(USER, "你好")
        assert reply.content == "第一段\n\n第二段"
        assert fake_api.sent == []
    finally:
        await rasa.stop()


async def test_a_flood_is_limited_and_told_once(gateway_factory, fake_rasa):
    harness = await gateway_factory(fake_rasa.url, rate_capacity=2, rate_window=60.0)
    replies = [await harness.platform.text(USER, f"消息{i}") for i in range(4)]
    assert [r.content for r in replies[:2]] == ["收到：消息0", "收到：消息1"]
    assert "有点快" in replies[2].content
    assert replies[3].content is None and replies[3].body == "success"
    assert len(fake_rasa.requests) == 2


async def test_too_long_messages_are_not_forwarded(gateway_factory, fake_rasa):
    harness = await gateway_factory(fake_rasa.url, max_message_chars=10)
    reply = await harness.platform.text(USER, "很" * 11)
    assert "太长" in reply.content and fake_rasa.requests == []
