"""One message handled once (WeChat's retries), and the 5-second window's fallback to 客服."""

from __future__ import annotations

import asyncio

from tests.channels.telegram.fake_rasa import FakeRasa

USER = "oUSER_turns_0001"


async def test_three_deliveries_of_one_msgid_reach_rasa_once_and_get_the_same_reply(
    gateway, fake_rasa
):
    replies = [await gateway.platform.text(USER, "荣军卡怎么办理", msg_id=777001) for _ in range(3)]
    assert [r.content for r in replies] == ["收到：荣军卡怎么办理"] * 3
    assert fake_rasa.messages() == ["荣军卡怎么办理"]


async def test_concurrent_retries_share_one_turn(gateway_factory):
    rasa = FakeRasa(delay=0.3)
    await rasa.start()
    try:
        harness = await gateway_factory(rasa.url)
        replies = await asyncio.gather(
            *(harness.platform.text(USER, "你好", msg_id=777002) for _ in range(3))
        )
        assert [r.content for r in replies] == ["收到：你好"] * 3
        assert rasa.messages() == ["你好"]
    finally:
        await rasa.stop()


async def test_events_without_msgid_are_deduplicated_by_sender_and_time(gateway, fake_rasa):
    platform = gateway.platform
    xml = platform.message_xml(USER, "event", None, Event="subscribe")
    first = await platform.post(xml)
    again = await platform.post(xml)
    assert first.content == again.content == "收到：/greet"
    assert fake_rasa.messages() == ["/greet"]


async def test_slow_rasa_gets_success_at_once_and_the_answer_through_customer_service(
    gateway_factory, fake_api
):
    rasa = FakeRasa(delay=1.0)
    await rasa.start()
    try:
        harness = await gateway_factory(rasa.url, passive_timeout=0.3)
        loop = asyncio.get_running_loop()
        started = loop.time()
        reply = await harness.platform.text(USER, "我想预约报到", msg_id=777003)
        assert reply.status == 200 and reply.body == "success" and reply.content is None
        assert loop.time() - started < 0.9  # well inside WeChat's 5 s
        # WeChat retries the message while Rasa is still busy: still one Rasa request.
        retry = await harness.platform.text(USER, "我想预约报到", msg_id=777003)
        assert retry.body == "success"
        assert await fake_api.wait_for(1, USER) == ["收到：我想预约报到"]
        await asyncio.sleep(0.3)
        assert fake_api.texts_to(USER) == ["收到：我想预约报到"]
        assert rasa.messages() == ["我想预约报到"]
    finally:
        await rasa.stop()


async def test_a_users_messages_reach_rasa_in_order(gateway_factory):
    rasa = FakeRasa(delay=0.1)
    await rasa.start()
    try:
        harness = await gateway_factory(rasa.url)
        tasks = []
        for i in range(4):
            tasks.append(asyncio.create_task(harness.platform.text(USER, f"第{i}条")))
            await asyncio.sleep(0.01)
        replies = await asyncio.gather(*tasks)
        assert rasa.messages() == [f"第{i}条" for i in range(4)]
        assert [r.content for r in replies] == [f"收到：第{i}条" for i in range(4)]
    finally:
        await rasa.stop()


async def test_rasa_down_is_told_politely(gateway_factory, fake_rasa):
    fake_rasa.status = 503
    harness = await gateway_factory(fake_rasa.url)
    reply = await harness.platform.text(USER, "你好")
    assert "系统繁忙" in reply.content
    assert fake_rasa.attempts == 3  # the shared client's retries
