"""Handoff end to end at unit level: web chat → fake Rasa → SQL events → hub → queue → take
(pause) → agent reply reaches /chat → hand back (resume) → the bot answers again."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.console.events import SQLEventSource
from bot.console.models import AgentMessage
from bot.core import db, handoff, outbox
from tests.console.conftest import NOW, csrf_of, eventually, login


async def receive_until(ws, predicate, timeout=5.0):
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError("expected websocket message not received")
        msg = await ws.receive_json(timeout=left)
        if predicate(msg):
            return msg


def sql_source(events_db):
    return SQLEventSource(f"sqlite:///{events_db}", poll_interval=0.03, replay=0)


async def test_full_handoff_cycle(make_client, accounts, events_db, fake_rasa, engine, browser):
    agent = await make_client(event_source=sql_source(events_db))
    token = await login(agent, "agent1")
    veteran = await browser(agent)
    chat_token = await csrf_of(veteran, "/chat")
    agent_ws = await agent.ws_connect("/ws")
    hello = await agent_ws.receive_json(timeout=2)
    assert hello["type"] == "hello" and hello["queue"] == []

    # 1. the veteran asks for a human
    resp = await veteran.post(
        "/chat/api/message", json={"text": "我要人工"}, headers={"X-CSRF-Token": chat_token}
    )
    assert "转接人工" in (await resp.json())["messages"][0]["text"]
    sender = fake_rasa.calls_to("/webhooks/rest/webhook")[0][2]["sender"]
    live = await receive_until(
        agent_ws, lambda m: m["type"] == "message" and m["message"]["kind"] == "user"
    )
    assert live["message"]["intent"] == "request_human" and live["message"]["confidence"] == 0.93
    queued = await receive_until(agent_ws, lambda m: m["type"] == "queue" and m["items"])
    item = queued["items"][0]
    assert (item["sender_id"], item["reason"], item["status"]) == (sender, "human", "waiting")
    page = await (await agent.get("/queue")).text()
    assert sender in page and "请求人工" in page

    # 2. agent1 takes it over: Rasa is paused
    resp = await agent.post(
        f"/handoffs/{item['id']}/take", data={"_csrf": token}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == f"/conversations/{sender}"
    assert fake_rasa.calls_to(f"/conversations/{sender}/tracker/events")[-1][2] == {
        "event": "pause"
    }
    assert fake_rasa.tracker(sender)["paused"]
    page = await (await agent.get(f"/conversations/{sender}")).text()
    assert "交还机器人" in page and "reply-form" in page

    # 3. the agent's reply arrives in the open chat in real time
    chat_ws = await veteran.ws_connect("/chat/ws")
    assert (await chat_ws.receive_json(timeout=2))["type"] == "hello"
    resp = await agent.post(
        f"/conversations/{sender}/reply",
        json={"text": "您好，我是坐席小王。"},
        headers={"X-CSRF-Token": token},
    )
    body = await resp.json()
    assert body["ok"] and body["status"] == "delivered"
    received = [await chat_ws.receive_json(timeout=2), await chat_ws.receive_json(timeout=2)]
    # the veteran is told a person joined (queued at take-over, delivered on connect), and gets
    # the reply
    assert any("工作人员，已经接入" in m["text"] for m in received)
    assert {
        "type": "message",
        "from": "agent",
        "text": "您好，我是坐席小王。",
        "buttons": [],
    } in received
    shown = await receive_until(
        agent_ws, lambda m: m["type"] == "message" and m["message"]["kind"] == "agent"
    )
    assert shown["message"]["agent"] == "agent1"
    with db.session_scope(engine) as s:
        row = s.execute(select(AgentMessage)).scalar_one()  # notices are not agent replies
        assert (row.sender_id, row.agent, row.status, row.handoff_id) == (
            sender,
            "agent1",
            "delivered",
            item["id"],
        )

    # 4. while paused the bot is silent, the agent still sees what the veteran writes
    resp = await veteran.post(
        "/chat/api/message", json={"text": "好的谢谢"}, headers={"X-CSRF-Token": chat_token}
    )
    assert (await resp.json())["messages"] == []
    await receive_until(
        agent_ws, lambda m: m["type"] == "message" and m["message"]["text"] == "好的谢谢"
    )

    # 5. another agent can neither take nor answer it
    other = await browser(agent)
    other_token = await login(other, "agent2")
    resp = await other.post(f"/handoffs/{item['id']}/take", data={"_csrf": other_token})
    assert resp.status == 409 and "已被其他坐席接管" in await resp.text()
    resp = await other.post(
        f"/conversations/{sender}/reply", json={"text": "x"}, headers={"X-CSRF-Token": other_token}
    )
    assert resp.status == 403
    resp = await other.post(f"/handoffs/{item['id']}/release", data={"_csrf": other_token})
    assert resp.status == 403

    # 6. hand back: Rasa resumes and the bot answers again
    resp = await agent.post(
        f"/handoffs/{item['id']}/release", data={"_csrf": token}, allow_redirects=False
    )
    assert resp.status == 302
    assert fake_rasa.calls_to(f"/conversations/{sender}/tracker/events")[-1][2] == {
        "event": "resume"
    }
    left = await chat_ws.receive_json(timeout=2)
    assert "荣军助手继续为您服务" in left["text"]
    with db.session_scope(engine) as s:
        assert handoff.get(s, item["id"]).status == "closed"
    resp = await veteran.post(
        "/chat/api/message", json={"text": "你好"}, headers={"X-CSRF-Token": chat_token}
    )
    assert (await resp.json())["messages"][0]["text"].startswith("您好")
    await receive_until(agent_ws, lambda m: m["type"] == "queue" and m["items"] == [])
    await chat_ws.close()
    await agent_ws.close()


async def test_crisis_comes_first_with_an_alert(
    make_client, accounts, events_db, fake_rasa, engine, clock
):
    agent = await make_client(event_source=sql_source(events_db))
    await login(agent, "agent1")
    with db.session_scope(engine) as s:
        handoff.request(s, "tg-1", "human", "人工", NOW)
    agent_ws = await agent.ws_connect("/ws")
    await agent_ws.receive_json(timeout=2)
    fake_rasa.publish(
        "tg-9",
        {
            "event": "user",
            "text": "我不想活了",
            "parse_data": {
                "intent": {"name": "crisis", "confidence": 1.0},
                "entities": [{"entity": "crisis_kind", "value": "mind"}],
            },
        },
    )
    msg = await receive_until(agent_ws, lambda m: m["type"] == "queue" and len(m["items"]) == 2)
    assert [i["sender_id"] for i in msg["items"]] == ["tg-9", "tg-1"]
    crisis = msg["items"][0]
    assert crisis["reason"] == "crisis" and msg["alert"] == [crisis["id"]]
    page = await (await agent.get("/queue")).text()
    assert re.search(rf'<tr class="reason-crisis" data-id="{crisis["id"]}">', page)
    assert "危机" in page and "crisis-alert" in page  # banner + WebAudio beep live in console.js
    await agent_ws.close()


async def test_two_fallbacks_open_a_request(make_client, accounts, events_db, fake_rasa, engine):
    agent = await make_client(event_source=sql_source(events_db))
    await login(agent, "agent1")
    chat_token = await csrf_of(agent, "/chat")  # the agent's browser doubles as a veteran here
    for text in ("呜啦啦", "咕噜咕噜"):
        await agent.post(
            "/chat/api/message", json={"text": text}, headers={"X-CSRF-Token": chat_token}
        )

    def opened():
        with db.session_scope(engine) as s:
            return [(h.reason, h.first_text) for h in handoff.queue(s)]

    assert await eventually(opened) == [("fallback", "咕噜咕噜")]


async def test_reply_to_telegram_goes_through_the_gateway(
    client, accounts, engine, gateway, fake_rasa
):
    token = await login(client, "agent1")
    with db.session_scope(engine) as s:
        req = handoff.request(s, "tg-5", "human", "人工", NOW)
    await client.post(f"/handoffs/{req.id}/take", data={"_csrf": token})
    resp = await client.post(
        "/conversations/tg-5/reply", json={"text": "坐席回复"}, headers={"X-CSRF-Token": token}
    )
    assert (await resp.json())["status"] == "pushed"
    joined, reply = gateway.pushes  # the "a person joined" notice, then the reply
    assert joined[1]["recipient"] == "tg-5" and "已经接入" in joined[1]["text"]
    assert reply == ("Bearer test-push-token", {"recipient": "tg-5", "text": "坐席回复"})
    gateway.status = 503  # gateway down: the reply waits in the outbox for the gateway's worker
    resp = await client.post(
        "/conversations/tg-5/reply", json={"text": "第二条"}, headers={"X-CSRF-Token": token}
    )
    assert (await resp.json())["status"] == "queued"
    with db.session_scope(engine) as s:
        rows = s.execute(select(outbox.OutboxMessage)).scalars().all()
        assert [(r.recipient, r.text, r.status) for r in rows] == [("tg-5", "第二条", "pending")]


async def test_take_is_undone_when_rasa_cannot_be_paused(client, accounts, engine, fake_rasa):
    token = await login(client, "agent1")
    with db.session_scope(engine) as s:
        req = handoff.request(s, "tg-6", "crisis", "救命", NOW)
    fake_rasa.down = True
    resp = await client.post(f"/handoffs/{req.id}/take", data={"_csrf": token})
    assert resp.status == 502 and "未能暂停机器人" in await resp.text()
    with db.session_scope(engine) as s:
        again = handoff.get(s, req.id)
        assert (again.status, again.agent) == ("waiting", None)


async def test_rasa_auth_token_is_sent(make_client, accounts, engine, fake_rasa):
    fake_rasa.token = "s3cret"
    client = await make_client(rasa_token="s3cret")
    token = await login(client, "agent1")
    with db.session_scope(engine) as s:
        req = handoff.request(s, "tg-7", "human", "人工", NOW)
    resp = await client.post(
        f"/handoffs/{req.id}/take", data={"_csrf": token}, allow_redirects=False
    )
    assert resp.status == 302
    assert fake_rasa.tracker("tg-7")["paused"]


async def test_supervisor_can_hand_back_someone_elses_conversation(
    make_client, accounts, engine, fake_rasa
):
    agent = await make_client()
    token = await login(agent, "agent1")
    with db.session_scope(engine) as s:
        req = handoff.request(s, "tg-8", "human", "人工", NOW)
    await agent.post(f"/handoffs/{req.id}/take", data={"_csrf": token})
    sup = await make_client()
    sup_token = await login(sup, "sup")
    resp = await sup.post(
        f"/handoffs/{req.id}/release", data={"_csrf": sup_token}, allow_redirects=False
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        assert handoff.get(s, req.id).status == "closed"
