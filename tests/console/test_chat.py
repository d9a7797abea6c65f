"""Public web chat: Rasa REST forwarding, buttons, websocket pushes, /push, outbox delivery."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.core import db, outbox
from tests.console.conftest import NOW, PUSH_TOKEN, csrf_of, eventually

AUTH = {"Authorization": f"Bearer {PUSH_TOKEN}"}


async def open_chat(client):
    resp = await client.get("/chat")
    assert resp.status == 200
    html = await resp.text()
    assert "荣军助手" in html and "我要人工" in html
    return await csrf_of(client, "/chat")


async def say(client, token, text):
    return await client.post(
        "/chat/api/message", json={"text": text}, headers={"X-CSRF-Token": token}
    )


async def test_message_goes_to_rasa_as_web_user_and_replies_come_back(client, fake_rasa):
    token = await open_chat(client)
    resp = await say(client, token, "你好")
    assert resp.status == 200
    body = await resp.json()
    assert body["messages"][0]["text"].startswith("您好")
    assert [b["title"] for b in body["messages"][0]["buttons"]] == ["荣军卡", "我要人工"]
    method, path, sent = fake_rasa.calls_to("/webhooks/rest/webhook")[0]
    assert sent["sender"].startswith("web-") and len(sent["sender"]) == 28
    assert sent["metadata"] == {"channel": "web"} and sent["message"] == "你好"
    # a button press sends its payload; the same cookie keeps the same sender id
    await say(client, token, '/ask_benefit{"benefit":"荣军卡"}')
    second = fake_rasa.calls_to("/webhooks/rest/webhook")[1][2]
    assert second["sender"] == sent["sender"] and second["message"].startswith("/ask_benefit")


async def test_the_pages_message_id_goes_to_rasa_and_a_bad_one_is_replaced(client, fake_rasa):
    token = await open_chat(client)
    for page_id in ("lq3x9k2abc12", "两个字", "x" * 100, 42):
        resp = await client.post(
            "/chat/api/message",
            json={"text": "你好", "id": page_id},
            headers={"X-CSRF-Token": token},
        )
        assert resp.status == 200
    ids = [c[2]["message_id"] for c in fake_rasa.calls_to("/webhooks/rest/webhook")]
    assert ids[0] == "web:lq3x9k2abc12"
    # not usable as an id: the client makes one per message instead (never the same twice)
    assert all(len(i) == 32 and not i.startswith("web:") for i in ids[1:]) and len(set(ids)) == 4


async def test_each_browser_gets_its_own_sender(make_client, fake_rasa):
    senders = set()
    for _ in range(2):
        client = await make_client()
        token = await open_chat(client)
        await say(client, token, "你好")
    senders = {c[2]["sender"] for c in fake_rasa.calls_to("/webhooks/rest/webhook")}
    assert len(senders) == 2


async def test_chat_errors_are_chinese(client, fake_rasa):
    token = await open_chat(client)
    assert (await say(client, token, "  ")).status == 400
    assert (await say(client, token, "长" * 1001)).status == 400
    fake_rasa.down = True
    resp = await say(client, token, "你好")
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert "系统繁忙" in (await resp.json())["message"]
    resp = await client.post("/chat/api/message", json={"text": "你好"})  # no CSRF header
    assert resp.status == 403


async def sender_of(client, fake_rasa, token):
    await say(client, token, "你好")
    return fake_rasa.calls_to("/webhooks/rest/webhook")[-1][2]["sender"]


async def test_push_reaches_the_open_chat_in_real_time(client, fake_rasa):
    token = await open_chat(client)
    sender = await sender_of(client, fake_rasa, token)
    ws = await client.ws_connect("/chat/ws")
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    resp = await client.post(
        "/push", json={"recipient": sender, "text": "您的预约已确认"}, headers=AUTH
    )
    assert (await resp.json()) == {"ok": True, "status": "delivered"}
    msg = await ws.receive_json(timeout=2)
    assert msg == {"type": "message", "from": "bot", "text": "您的预约已确认", "buttons": []}
    buttons = [{"title": "查看预约", "payload": "/check_appointment"}]
    resp = await client.post(
        "/push",
        json={"recipient": sender, "text": "提醒", "buttons": buttons},
        headers={"Authorization": f"bearer {PUSH_TOKEN}"},
    )
    assert (await resp.json())["status"] == "delivered"
    assert (await ws.receive_json(timeout=2))["buttons"] == buttons
    await ws.close()


async def test_push_authentication_and_validation(client):
    assert (await client.post("/push", json={"recipient": "web-x", "text": "hi"})).status == 401
    bad = {"Authorization": "Bearer wrong"}
    assert (
        await client.post("/push", json={"recipient": "web-x", "text": "hi"}, headers=bad)
    ).status == 401
    assert (
        await client.post("/push", json={"recipient": "tg-1", "text": "hi"}, headers=AUTH)
    ).status == 400
    assert (
        await client.post("/push", json={"recipient": "web-x", "text": " "}, headers=AUTH)
    ).status == 400
    assert (
        await client.post("/push", json={"recipient": "web-x", "text": 5}, headers=AUTH)
    ).status == 400
    assert (await client.post("/push", json=["web-x"], headers=AUTH)).status == 400
    assert (await client.post("/push", data="not json", headers=AUTH)).status == 400


async def test_push_to_an_offline_user_waits_in_the_outbox(client, fake_rasa, engine):
    token = await open_chat(client)
    sender = await sender_of(client, fake_rasa, token)
    resp = await client.post(
        "/push", json={"recipient": sender, "text": "人工客服回复：请带好证件"}, headers=AUTH
    )
    assert (await resp.json())["status"] == "queued"
    with db.session_scope(engine) as s:
        row = s.execute(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.recipient == sender)
        ).scalar_one()
        assert row.status == "pending"
    ws = await client.ws_connect("/chat/ws")
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    msg = await ws.receive_json(timeout=2)
    assert msg["text"] == "人工客服回复：请带好证件"

    def sent():
        with db.session_scope(engine) as s:
            return s.get(outbox.OutboxMessage, row.id).status == "sent"

    await eventually(sent)
    await ws.close()


async def test_outbox_reminders_for_connected_web_users_are_delivered(client, fake_rasa, engine):
    token = await open_chat(client)
    sender = await sender_of(client, fake_rasa, token)
    ws = await client.ws_connect("/chat/ws")
    await ws.receive_json(timeout=2)
    with db.session_scope(engine) as s:
        outbox.enqueue(
            s, sender, "提醒：明天 9:00 报到", due_at=NOW, kind="reminder", dedupe_key="appt-1"
        )
        outbox.enqueue(s, "web-someone-else-000000000", "别人的", due_at=NOW, kind="reminder")
        outbox.enqueue(s, sender, "以后再发", due_at=NOW.replace(year=2027), kind="reminder")
    msg = await ws.receive_json(timeout=3)
    assert msg["text"] == "提醒：明天 9:00 报到"
    await asyncio.sleep(0.3)
    with db.session_scope(engine) as s:
        rows = {r.text: r.status for r in s.execute(select(outbox.OutboxMessage)).scalars()}
    assert rows == {"提醒：明天 9:00 报到": "sent", "别人的": "pending", "以后再发": "pending"}
    await ws.close()


async def test_chat_socket_needs_the_chat_cookie(client):
    resp = await client.get(
        "/chat/ws",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 401
