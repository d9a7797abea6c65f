"""Queue tools of issue #15: agent online/away status, bulk close of stale requests with a
reason (supervisors only, never crises), crises by severity then recency, dates on old rows."""

from __future__ import annotations

from datetime import timedelta

from bot.core import db, handoff, presence
from tests.console.conftest import NOW, login


async def test_status_toggle_makes_an_agent_available(client, accounts, engine):
    token = await login(client, "agent1")
    page = await (await client.get("/queue")).text()
    assert "设为在线" in page and "无（机器人会告诉来访者暂时无人值守）" in page
    with db.session_scope(engine) as s:
        assert presence.available(s, NOW) is False
    resp = await client.post(
        "/agent/status", data={"_csrf": token, "status": "online"}, allow_redirects=False
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        assert presence.online_agents(s, NOW) == ["agent1"]
    page = await (await client.get("/queue")).text()
    assert "设为离开" in page and "当前在线坐席：agent1" in page
    resp = await client.post("/agent/status", data={"_csrf": token, "status": "busy"})
    assert resp.status == 400
    await client.post("/agent/status", data={"_csrf": token, "status": "away"})
    with db.session_scope(engine) as s:
        assert presence.online_agents(s, NOW) == []


async def test_bulk_close_of_stale_requests(client, accounts, engine):
    with db.session_scope(engine) as s:
        old = handoff.request(s, "tg-1", "human", "荣军卡怎么办", NOW - timedelta(days=3)).id
        handoff.request(s, "tg-2", "crisis", "不想活了", NOW - timedelta(days=3))
        handoff.request(s, "tg-3", "human", "刚问的", NOW - timedelta(minutes=5))
    token = await login(client, "agent1")
    resp = await client.post(
        "/handoffs/close-stale", data={"_csrf": token, "hours": "24", "reason": "测试遗留"}
    )
    assert resp.status == 403  # supervisors only
    token = await login(client, "sup")
    page = await (await client.get("/queue")).text()
    assert "批量关闭" in page and "11-28 10:00" in page  # an old row shows its date
    resp = await client.post(
        "/handoffs/close-stale", data={"_csrf": token, "hours": "24", "reason": ""}
    )
    assert resp.status == 400
    resp = await client.post(
        "/handoffs/close-stale",
        data={"_csrf": token, "hours": "24", "reason": "测试遗留"},
        allow_redirects=False,
    )
    assert resp.status == 302
    page = await (await client.get("/queue")).text()
    assert "已关闭 1 条超过 24 小时" in page
    with db.session_scope(engine) as s:
        closed = handoff.get(s, old)
        assert (closed.status, closed.close_reason, closed.agent) == ("closed", "测试遗留", "sup")
        assert sorted(r.sender_id for r in handoff.queue(s)) == ["tg-2", "tg-3"]


async def test_queue_ranks_a_new_serious_crisis_first_and_shows_the_question(
    client, accounts, engine
):
    with db.session_scope(engine) as s:
        for n in range(5):
            handoff.request(s, f"tg-{n}", "crisis", "心里难受", NOW - timedelta(hours=n + 1))
        handoff.request(s, "tg-new", "crisis", "药都攒好了", NOW)
        handoff.request(s, "tg-q", "human", "我想问问俺娘的优待金", NOW)
    await login(client, "agent1")
    items = (await (await client.get("/api/queue")).json())["items"]
    assert items[0]["sender_id"] == "tg-new"
    assert any(i["text"] == "我想问问俺娘的优待金" for i in items)


async def test_canned_replies_seeded_edited_by_supervisors_read_by_agents(client, accounts):
    token = await login(client, "agent1")
    items = (await (await client.get("/api/canned")).json())["items"]
    assert items and items[0]["title"] == "问候"
    resp = await client.post("/canned", data={"_csrf": token, "title": "x", "text": "y"})
    assert resp.status == 403  # agents use them, supervisors edit them
    token = await login(client, "sup")
    resp = await client.post(
        "/canned",
        data={"_csrf": token, "title": "报到材料", "text": "报到请带退役证件和身份证。"},
        allow_redirects=False,
    )
    assert resp.status == 302
    first = items[0]["id"]
    await client.post(f"/canned/{first}", data={"_csrf": token, "action": "retire"})
    items = (await (await client.get("/api/canned")).json())["items"]
    titles = [i["title"] for i in items]
    assert "报到材料" in titles and "问候" not in titles
    resp = await client.post("/canned", data={"_csrf": token, "title": "", "text": "y"})
    assert resp.status == 400


async def test_transfer_to_a_colleague(client, accounts, engine, fake_rasa):
    with db.session_scope(engine) as s:
        req = handoff.request(s, "tg-9", "human", "人工", NOW).id
    token = await login(client, "agent1")
    await client.post(f"/handoffs/{req}/take", data={"_csrf": token})
    page = await (await client.get("/conversations/tg-9")).text()
    assert "transfer-form" in page and "sup（班长）" in page
    resp = await client.post(
        f"/handoffs/{req}/transfer", data={"_csrf": token, "to_agent": "nobody"}
    )
    assert resp.status == 400
    resp = await client.post(
        f"/handoffs/{req}/transfer",
        data={"_csrf": token, "to_agent": "sup"},
        allow_redirects=False,
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        moved = handoff.get(s, req)
        assert (moved.status, moved.agent) == ("active", "sup")
    resp = await client.post(
        f"/handoffs/{req}/transfer", data={"_csrf": token, "to_agent": "agent2"}
    )
    assert resp.status == 403  # no longer agent1's


async def test_search_finds_messages_handoffs_and_bookings(client, accounts, engine, fake_rasa):
    from bot.core import appointments as ap
    from bot.core import people

    fake_rasa.publish("tg-31", {"event": "user", "text": "荣军卡丢了怎么补办"})
    fake_rasa.publish("tg-32", {"event": "user", "text": "报到要带什么"})
    with db.session_scope(engine) as s:
        handoff.request(s, "tg-31", "human", "荣军卡丢了怎么补办", NOW)
        slot = ap.nearest_free(s, "licang", NOW + timedelta(days=1), NOW, limit=1)[0]
        first17 = "37020219600101003"
        code = ap.book(
            s,
            sender_id="tg-33",
            category="退役士兵",
            name="李明华",
            mobile="13812340033",
            id_number=first17 + people.id_check_digit(first17),
            centre_id="licang",
            start=slot,
            now=NOW,
        ).code
    await login(client, "agent1")
    html = await (await client.get("/search?q=荣军卡")).text()
    assert "来访者的消息（1）" in html and "tg-31" in html and "tg-32" not in html
    assert "转人工请求（1）" in html
    html = await (await client.get("/search?q=13812340033")).text()
    assert code in html and "138****0033" in html and "13812340033</" not in html


async def test_job_seeker_list_is_masked(client, accounts, engine):
    from bot.core import jobs

    with db.session_scope(engine) as s:
        jobs.register_seeker(
            s,
            sender_id="tg-41",
            skills="驾驶 保安",
            desired_job="保安",
            district="李沧区",
            mobile="13812340041",
            name="王建国",
            now=NOW,
        )
    await login(client, "agent1")
    html = await (await client.get("/seekers")).text()
    assert "保安" in html and "138****0041" in html and "13812340041" not in html
    assert "/conversations/tg-41" in html
