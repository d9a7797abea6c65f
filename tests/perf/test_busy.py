"""Overload: the REST channel runs at most MAX_TURNS turns at once and answers "busy" to a
message that cannot start within BUSY_WAIT, instead of queueing it until the gateway times out."""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.core import inbound
from bot.rasa_channel import LimitedRestInput


async def test_turns_beyond_the_limit_wait_then_get_busy(monkeypatch):
    monkeypatch.setenv("RJ_RATE_LIMITS", "off")
    channel = LimitedRestInput()
    channel.MAX_TURNS, channel.BUSY_WAIT = 2, 0.2
    running, most, release = [], [0], asyncio.Event()

    async def turn(message: UserMessage) -> None:
        running.append(message.sender_id)
        most[0] = max(most[0], len(running))
        await release.wait()
        running.remove(message.sender_id)
        await message.output_channel.send_text_message(message.sender_id, "答复")

    guarded = channel.guard(turn)
    outputs = [CollectingOutputChannel() for _ in range(5)]
    calls = [
        asyncio.ensure_future(guarded(UserMessage("你好", out, f"web-{n}")))
        for n, out in enumerate(outputs)
    ]
    await asyncio.sleep(0.4)  # three could not start within BUSY_WAIT
    release.set()
    await asyncio.gather(*calls)
    texts = [[m["text"] for m in out.messages] for out in outputs]
    assert most[0] == 2
    assert sorted(t[0] for t in texts) == sorted(["答复", "答复"] + [inbound.reply("busy")] * 3)
    # the slots are free again: the next message runs
    later = CollectingOutputChannel()
    await guarded(UserMessage("你好", later, "web-9"))
    assert later.messages[0]["text"] == "答复"


async def test_a_slot_is_kept_until_an_abandoned_turn_ends(monkeypatch):
    monkeypatch.setenv("RJ_RATE_LIMITS", "off")
    channel = LimitedRestInput()
    channel.MAX_TURNS, channel.BUSY_WAIT = 1, 0.1
    done = asyncio.Event()

    async def turn(message: UserMessage) -> None:
        await done.wait()

    guarded = channel.guard(turn)
    call = asyncio.ensure_future(guarded(UserMessage("确认", CollectingOutputChannel(), "a")))
    await asyncio.sleep(0.05)
    call.cancel()  # the caller went away; the turn goes on and keeps its slot
    out = CollectingOutputChannel()
    await guarded(UserMessage("你好", out, "b"))
    assert out.messages[0]["text"] == inbound.reply("busy")
    done.set()
    await asyncio.sleep(0.05)
    out = CollectingOutputChannel()
    await asyncio.wait_for(guarded(UserMessage("你好", out, "c")), 1)
    assert out.messages == []  # ran (the stand-in turn says nothing), not refused


async def test_a_full_queue_refuses_at_once(monkeypatch):
    monkeypatch.setenv("RJ_RATE_LIMITS", "off")
    channel = LimitedRestInput()
    channel.MAX_TURNS, channel.MAX_WAITING, channel.BUSY_WAIT = 1, 1, 30.0
    release = asyncio.Event()

    async def turn(message: UserMessage) -> None:
        await release.wait()

    guarded = channel.guard(turn)
    running = asyncio.ensure_future(guarded(UserMessage("一", CollectingOutputChannel(), "a")))
    waiting = asyncio.ensure_future(guarded(UserMessage("二", CollectingOutputChannel(), "b")))
    await asyncio.sleep(0.05)
    out = CollectingOutputChannel()
    # no waiting for BUSY_WAIT (30 s): the queue is full, so the answer comes now
    await asyncio.wait_for(guarded(UserMessage("三", out, "c")), 1)
    assert out.messages[0]["text"] == inbound.reply("busy")
    release.set()
    await asyncio.gather(running, waiting)
