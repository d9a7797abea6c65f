"""Findings 4 and 5: unbounded input and no rate limit on Rasa's REST channel.

Before: the REST channel passed a 100 KB message straight to DIET (which tried to allocate a
[1, 4, 50000, 50000] tensor) and a lone surrogate to the normaliser, where OpenCC raised
UnicodeEncodeError (``test_normaliser_survives_a_lone_surrogate`` fails on the old normaliser);
no sender was ever limited. ``bot.rasa_channel`` and ``bot.core.inbound`` did not exist.
"""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core import inbound
from bot.nlu.normaliser import ChineseNormaliser
from bot.rasa_channel import LimitedRestInput


def test_clean_text_drops_surrogates_and_controls():
    assert inbound.clean_text("你好\ud800\x00\x1b[31m啊\t吗\r\n") == "你好[31m啊 吗  "
    assert inbound.clean_text(None) == ""


def test_normaliser_survives_a_lone_surrogate_and_caps_the_length(monkeypatch):
    monkeypatch.setenv("RJ_MAX_MESSAGE_CHARS", "50")
    messages = [Message(data={TEXT: "我想预约\ud800報到"}), Message(data={TEXT: "字" * 100_000})]
    ChineseNormaliser().process(messages)
    assert messages[0].get(TEXT) == "我想预约报到"
    assert len(messages[1].get(TEXT)) == 50


def test_rate_limiter_is_per_key_and_slides():
    now = [0.0]
    limiter = inbound.RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # another sender is not affected
    now[0] = 60.0
    assert limiter.allow("a")


def test_rate_limits_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("RJ_REST_RATE_LIMIT", "5/10")
    assert (inbound.rest_limiter().count, inbound.rest_limiter().seconds) == (5, 10.0)
    monkeypatch.setenv("RJ_RATE_LIMITS", "off")
    assert inbound.rest_limiter() is None


async def _through(channel: LimitedRestInput, text: str, sender: str = "web-1"):
    forwarded: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        forwarded.append(message.text)

    collector = CollectingOutputChannel()
    await channel.guard(on_new_message)(UserMessage(text, collector, sender))
    return forwarded, [m["text"] for m in collector.messages]


async def test_channel_answers_an_overlong_message_politely(monkeypatch):
    forwarded, replies = await _through(LimitedRestInput(), "长" * 100_000)
    assert forwarded == [] and len(replies) == 1
    assert "500" in replies[0] and "{" not in replies[0]
    # Traditional in, Traditional out
    _, replies = await _through(LimitedRestInput(), "請幫我預約報到" * 200)
    assert "您發的" in replies[0]


async def test_channel_cleans_text_and_limits_each_sender(monkeypatch):
    monkeypatch.setenv("RJ_REST_RATE_LIMIT", "2/60")
    channel = LimitedRestInput()
    assert await _through(channel, "你好\ud800") == (["你好"], [])
    assert (await _through(channel, "在吗"))[0] == ["在吗"]
    forwarded, replies = await _through(channel, "在吗")
    assert forwarded == [] and "稍等" in replies[0]
    assert (await _through(channel, "在吗", sender="web-2"))[0] == ["在吗"]


async def test_a_turn_completes_when_the_caller_gives_up():
    """Finding 4: a disconnect used to cancel the turn mid-action and drop its events."""
    finished: list[str] = []

    async def slow_turn(message: UserMessage) -> None:
        await asyncio.sleep(0.3)
        finished.append(message.text)

    guarded = LimitedRestInput().guard(slow_turn)
    message = UserMessage("确认预约", CollectingOutputChannel(), "tg-1")
    call = asyncio.ensure_future(guarded(message))
    await asyncio.sleep(0.05)
    call.cancel()  # what Sanic does when the client disconnects
    await asyncio.sleep(0.5)
    assert call.cancelled() and finished == ["确认预约"]
