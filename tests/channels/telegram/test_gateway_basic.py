"""Round trips through the real PTB client, the fake Bot API and a stand-in Rasa."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.telegram.texts import default_texts
from tests.channels.telegram.fake_bot_api import media_update, service_update

pytestmark = pytest.mark.asyncio
TEXTS = default_texts()


async def test_text_round_trip(gateway, fake_api, fake_rasa):
    await gateway.say(1001, "荣军卡怎么办理")
    assert await gateway.replies(1001, 1) == ["收到：荣军卡怎么办理"]
    request = fake_rasa.requests[0]
    assert request.sender == "tg-1001"
    assert request.metadata == {"channel": "telegram", "user_id": 1001, "chat_type": "private"}


async def test_every_reply_item_is_sent_in_order(gateway_factory, fake_api, fake_rasa):
    fake_rasa.reply = lambda s, m, md: [
        {"recipient_id": s, "text": "第一条"},
        {"recipient_id": s, "text": "第二条"},
        {"recipient_id": s, "text": "第三条"},
    ]
    harness = await gateway_factory(fake_rasa.url)
    await harness.say(1002, "你好")
    assert await harness.replies(1002, 3) == ["第一条", "第二条", "第三条"]


async def test_messages_of_one_chat_keep_their_order(gateway_factory, fake_api, fake_rasa):
    fake_rasa.delay = 0.05
    harness = await gateway_factory(fake_rasa.url)
    for i in range(5):
        await harness.say(1003, f"消息{i}")
    texts = await harness.replies(1003, 5)
    assert texts == [f"收到：消息{i}" for i in range(5)]


async def test_commands_registered_with_chinese_descriptions(gateway, fake_api):
    assert [c["command"] for c in fake_api.commands] == ["start", "help", "human", "cancel"]
    descriptions = TEXTS.command_descriptions()
    for command in fake_api.commands:
        assert command["description"] == descriptions[command["command"]]
    assert fake_api.calls_of("deleteWebhook"), "polling mode clears any webhook first"


@pytest.mark.parametrize(
    "command, intent",
    [
        ("/start", "/greet"),
        ("/help", "/ask_capabilities"),
        ("/human", "/request_human"),
        ("/cancel", "/cancel"),
        ("/start@rongjun_test_bot", "/greet"),
    ],
)
async def test_commands_map_to_intents(gateway, fake_rasa, command, intent):
    await gateway.say(1010, command)
    await fake_rasa.wait_for(1)
    assert fake_rasa.messages() == [intent]
    assert fake_rasa.requests[0].metadata["command"] == command[1:].split("@")[0]


async def test_unknown_command_is_explained_not_forwarded(gateway, fake_rasa):
    await gateway.say(1011, "/foo")
    assert await gateway.replies(1011, 1) == [TEXTS.get("unknown_command")]
    assert fake_rasa.requests == []


async def test_too_long_message_refused(gateway, fake_rasa):
    await gateway.say(1012, "长" * 1001)
    texts = await gateway.replies(1012, 1)
    assert texts == [TEXTS.get("too_long", length=1001, limit=1000)]
    await gateway.say(1012, "短" * 1000)  # exactly at the limit goes through
    await fake_rasa.wait_for(1)
    assert fake_rasa.messages() == ["短" * 1000]


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "video", "document", "location"])
async def test_non_text_gets_a_clear_reply(gateway, fake_api, fake_rasa, kind):
    await fake_api.inject(media_update(1020, kind))
    assert await gateway.replies(1020, 1) == [TEXTS.get("unsupported_media")]
    assert fake_rasa.requests == []


async def test_service_messages_get_no_reply(gateway, fake_api, fake_rasa):
    await fake_api.inject(service_update(-1009))
    await gateway.say(1021, "之后的消息")
    await gateway.replies(1021, 1)
    assert fake_api.calls_of("sendMessage", -1009) == []


async def test_group_without_mention_is_ignored(gateway, fake_api, fake_rasa):
    group = -100123
    await gateway.say(group, "大家好，今天开会", user_id=501)
    await fake_api.inject(media_update(group, "sticker", user_id=501))
    await gateway.say(group, "/foo", user_id=501)  # bare unknown command: maybe for another bot
    await gateway.say(group, "/help@other_bot", user_id=501)
    await gateway.say(group, "找 @someone_else 问问", user_id=501, mention="@someone_else")
    await gateway.say(1022, "私聊")  # a marker that the updates above were processed
    await gateway.replies(1022, 1)
    await asyncio.sleep(0.1)
    assert fake_api.calls_of("sendMessage", group) == []
    assert fake_rasa.messages() == ["私聊"]


async def test_group_mention_is_stripped_and_forwarded(gateway, fake_api, fake_rasa):
    group = -100124
    await gateway.say(
        group, "@Rongjun_Test_Bot 荣军卡怎么办理", user_id=502, mention="@Rongjun_Test_Bot"
    )
    texts = await gateway.replies(group, 1)
    assert texts == ["收到：荣军卡怎么办理"]
    request = fake_rasa.requests[0]
    assert request.sender == f"tg-{group}"  # one conversation per group (documented choice)
    assert request.metadata == {"channel": "telegram", "user_id": 502, "chat_type": "supergroup"}


async def test_group_mention_in_the_middle_and_alone(gateway, fake_api, fake_rasa):
    group = -100125
    await gateway.say(
        group, "请问😀@rongjun_test_bot预约报到", user_id=503, mention="@rongjun_test_bot"
    )
    await gateway.say(group, "@rongjun_test_bot", user_id=503, mention="@rongjun_test_bot")
    await fake_rasa.wait_for(2)
    assert fake_rasa.messages() == ["请问😀 预约报到", TEXTS.get("empty_mention_message")]


async def test_group_reply_to_bot_is_forwarded(gateway, fake_api, fake_rasa):
    group = -100126
    bot_message = {
        "message_id": 77,
        "date": 0,
        "chat": {"id": group, "type": "supergroup", "title": "群"},
        "from": fake_api.bot_user,
        "text": "请问您是哪个区的？",
    }
    await gateway.say(group, "市南区", user_id=504, reply_to=bot_message)
    assert await gateway.replies(group, 1) == ["收到：市南区"]


async def test_group_media_with_mention_caption_is_answered(gateway, fake_api):
    group = -100127
    update = media_update(group, "photo", user_id=505)
    update["message"]["caption"] = "@rongjun_test_bot 看看这个"
    update["message"]["caption_entities"] = [{"type": "mention", "offset": 0, "length": 17}]
    await fake_api.inject(update)
    assert await gateway.replies(group, 1) == [TEXTS.get("unsupported_media")]


async def test_edited_messages_are_not_resent(gateway, fake_api, fake_rasa):
    edited = {
        "edited_message": {
            "message_id": 5,
            "date": 0,
            "edit_date": 1,
            "chat": {"id": 1023, "type": "private"},
            "from": {"id": 1023, "is_bot": False, "first_name": "x"},
            "text": "改过的",
        }
    }
    await fake_api.inject(edited)
    await gateway.say(1023, "新消息")
    await gateway.replies(1023, 1)
    assert fake_rasa.messages() == ["新消息"]


async def test_health_endpoint(gateway):
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.http_url}/health") as resp,
    ):
        assert resp.status == 200
        body = await resp.json()
    assert body["ok"] is True and body["mode"] == "polling"
