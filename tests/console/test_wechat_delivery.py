"""Agent replies to WeChat users go through the WeChat gateway's /push; when WeChat will not
deliver (48-hour window) the agent is told, and undeliverable reminders show on the page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import db, handoff, outbox
from tests.console.conftest import NOW, login

SENDER = "wx-oUSER_console_01"


async def _take(client, engine) -> str:
    token = await login(client, "agent1")
    with db.session_scope(engine) as s:
        req = handoff.request(s, SENDER, "human", "人工", NOW)
    await client.post(f"/handoffs/{req.id}/take", data={"_csrf": token})
    return token


async def _reply(client, token: str, text: str) -> dict:
    resp = await client.post(
        f"/conversations/{SENDER}/reply", json={"text": text}, headers={"X-CSRF-Token": token}
    )
    return await resp.json()


async def test_reply_to_a_wechat_user_is_pushed_by_the_wechat_gateway(
    make_client, accounts, engine, gateway, fake_rasa
):
    client = await make_client(wechat_push_url=str(gateway.server.make_url("/push")))
    token = await _take(client, engine)
    body = await _reply(client, token, "坐席回复")
    assert body["status"] == "pushed" and body["ok"]
    joined, reply = gateway.pushes  # the "a person joined" notice, then the reply
    assert "已经接入" in joined[1]["text"]
    assert reply == ("Bearer test-push-token", {"recipient": SENDER, "text": "坐席回复"})

    gateway.status = 409  # outside WeChat's 48-hour window
    body = await _reply(client, token, "第二条")
    assert body["status"] == "unreachable" and not body["ok"]
    assert "48 小时" in body["status_label"] and "电话" in body["status_label"]

    gateway.status = 503  # gateway down: the reply waits in the outbox for the gateway's worker
    body = await _reply(client, token, "第三条")
    assert body["status"] == "queued"
    with db.session_scope(engine) as s:
        rows = s.execute(select(outbox.OutboxMessage)).scalars().all()
        assert [(r.recipient, r.text) for r in rows] == [(SENDER, "第三条")]


async def test_conversation_page_shows_the_channel_and_undelivered_reminders(
    client, accounts, engine
):
    with db.session_scope(engine) as s:
        row = outbox.enqueue(
            s,
            SENDER,
            "【预约提醒】明天上午报到，电话13812345678",
            due_at=NOW - timedelta(hours=1),
            now=NOW,
        )
        outbox.mark_undeliverable(s, row.id, "outside_window", NOW)
    await login(client, "agent1")
    html = await (await client.get(f"/conversations/{SENDER}")).text()
    assert "微信公众号" in html
    assert 'id="undelivered"' in html and "请电话等其他方式联系用户" in html
    assert "超过 48 小时未与公众号互动" in html and "【预约提醒】明天上午报到" in html
    assert "13812345678" not in html  # masked like every text shown to agents
