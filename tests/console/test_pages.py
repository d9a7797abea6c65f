"""Phone-call assist, account management, live view pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.console.models import ConsoleUser
from bot.core import db
from tests.console.conftest import PASSWORD, csrf_of, login


async def test_phone_assist_intent_entities_and_answers(client, accounts, fake_rasa):
    token = await login(client, "agent1")
    page = await (await client.get("/phone")).text()
    assert "来电助手" in page and "伤残军人" in page
    resp = await client.post(
        "/phone/analyse", data={"_csrf": token, "text": "荣军卡怎么办理？我电话13812345678"}
    )
    html = await resp.text()
    assert resp.status == 200
    assert "荣军矩阵项目" in html and "93%" in html and "项目：荣军卡" in html
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "ask_benefit" not in visible and "benefit：" not in visible  # no codes for agents
    assert "怎么办：" in html and "来源：" in html  # programme card from the catalogue
    assert "您好，我是服务中心的工作人员" in html  # read out as is, in the agent's voice
    assert "13812345678" not in html and "138****5678" in html
    resp = await client.post(
        "/phone/analyse", data={"_csrf": token, "text": "我是三级伤残，补助怎么领"}
    )
    html = await resp.text()
    assert "抚恤补助" in html and "伤残抚恤金" in html and "以官方最新公布为准" in html
    # the policy form is pre-filled from what the caller said
    assert '<option value="伤残军人" selected>' in html and '<option value="3" selected>' in html
    assert fake_rasa.calls_to("/webhooks/rest/webhook") == []  # no chat channel involved


async def test_phone_assist_when_rasa_is_down(client, accounts, fake_rasa):
    token = await login(client, "agent1")
    fake_rasa.down = True
    resp = await client.post("/phone/analyse", data={"_csrf": token, "text": "你好"})
    assert resp.status == 502 and "助手暂时无法连接" in await resp.text()


async def test_entitlement_check_form(client, accounts):
    token = await login(client, "agent1")
    resp = await client.post(
        "/phone/entitlements",
        data={
            "_csrf": token,
            "veteran_category": "伤残军人",
            "qingdao_hukou": "yes",
            "age": "65",
            "disability_grade": "4",
            "income_difficulty": "",
        },
    )
    html = await resp.text()
    assert resp.status == 200 and "伤残抚恤金" in html and "荣军卡" in html and "符合条件" in html
    assert html.index("伤残抚恤金") < html.index("荣军卡")  # statutory before 荣军矩阵 perks
    assert "条件未知" in html  # 住房优待: income unknown, not claimed
    assert 'value="65"' in html and '<option value="伤残军人" selected>' in html
    resp = await client.post(
        "/phone/entitlements",
        data={
            "_csrf": token,
            "veteran_category": "现役军人家属",
            "qingdao_hukou": "no",
            "age": "abc",
        },
    )
    assert resp.status == 200


async def test_supervisor_creates_and_disables_agents(client, accounts, engine, browser):
    token = await login(client, "sup")
    page = await (await client.get("/users")).text()
    assert "agent1" in page and "新建账号" in page
    resp = await client.post(
        "/users",
        data={
            "_csrf": token,
            "username": "newbie",
            "password": PASSWORD,
            "password2": PASSWORD,
            "role": "agent",
        },
        allow_redirects=False,
    )
    assert resp.status == 302
    for form, message in (
        ({"username": "newbie"}, "已存在"),
        ({"username": "x"}, "用户名只能包含"),
        ({"username": "other", "password2": "different-42"}, "不一致"),
        ({"username": "other", "password": "short", "password2": "short"}, "至少 10 位"),
    ):
        data = {
            "_csrf": token,
            "password": PASSWORD,
            "password2": PASSWORD,
            "role": "agent",
            **form,
        }
        resp = await client.post("/users", data=data)
        assert resp.status == 400 and message in await resp.text(), form
    with db.session_scope(engine) as s:
        newbie = s.execute(select(ConsoleUser).where(ConsoleUser.username == "newbie")).scalar_one()
        assert (newbie.role, newbie.created_by, newbie.active) == ("agent", "sup", True)
        newbie_id = newbie.id
        sup_id = s.execute(select(ConsoleUser.id).where(ConsoleUser.username == "sup")).scalar_one()
    resp = await client.post(
        f"/users/{newbie_id}/active", data={"_csrf": token, "active": "0"}, allow_redirects=False
    )
    assert resp.status == 302
    resp = await client.post(f"/users/{sup_id}/active", data={"_csrf": token, "active": "0"})
    assert resp.status == 400 and "不能停用自己的账号" in await resp.text()
    with db.session_scope(engine) as s:
        assert not s.get(ConsoleUser, newbie_id).active
    other = await browser(client)
    token2 = await csrf_of(other)
    resp = await other.post(
        "/login", data={"username": "newbie", "password": PASSWORD, "_csrf": token2}
    )
    assert resp.status == 401


async def test_live_page_lists_conversations_and_rebuilds_from_the_tracker(
    client, accounts, fake_rasa
):
    from tests.console.fake_rasa import parse

    fake_rasa.tracker("tg-300")["events"] = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {
            "event": "user",
            "text": "补助怎么领",
            "timestamp": 2.0,
            "parse_data": parse("补助怎么领"),
        },
        {"event": "bot", "text": "抚恤补助按条例执行。", "timestamp": 3.0, "data": {}},
    ]
    await login(client, "agent1")
    page = await (await client.get("/live")).text()
    assert "暂无会话" in page
    data = await (await client.get("/api/conversations/tg-300")).json()
    assert [m["kind"] for m in data["messages"]] == ["user", "bot"]
    assert data["messages"][0]["intent"] == "ask_allowance"
    page = await (await client.get("/live")).text()
    assert "tg-300" in page  # now in the hub, so listed
    assert (await client.get("/api/conversations/tg-unknown")).status == 404
    page = await (await client.get("/conversations/tg-300")).text()
    assert "补助怎么领" in page and "没有待处理的转人工请求" in page


async def test_agent_replies_survive_a_console_restart(make_client, accounts, fake_rasa, engine):
    from bot.core import handoff
    from tests.console.conftest import NOW
    from tests.console.fake_rasa import parse

    with db.session_scope(engine) as s:
        req = handoff.request(s, "tg-301", "human", "人工", NOW)
    fake_rasa.tracker("tg-301")["events"] = [
        {"event": "user", "text": "我要人工", "timestamp": 1000.0, "parse_data": parse("我要人工")}
    ]
    first = await make_client()
    token = await login(first, "agent1")
    await first.post(f"/handoffs/{req.id}/take", data={"_csrf": token})
    await first.post(
        "/conversations/tg-301/reply", json={"text": "坐席已接入"}, headers={"X-CSRF-Token": token}
    )
    second = await make_client()  # a fresh console process: empty hub
    await login(second, "agent1")
    data = await (await second.get("/api/conversations/tg-301")).json()
    shown = [(m["kind"], m["text"]) for m in data["messages"] if m["kind"] != "system"]
    assert shown == [("user", "我要人工"), ("agent", "坐席已接入")]


async def test_phone_lookup_by_mobile_or_code(client, accounts, engine):
    from datetime import timedelta

    from bot.core import appointments as ap
    from bot.core import people, wishes
    from tests.console.conftest import NOW

    with db.session_scope(engine) as s:
        slot = ap.nearest_free(s, "licang", NOW + timedelta(days=1), NOW, limit=1)[0]
        first17 = "370202196001010011"[:17]
        booked = ap.book(
            s,
            sender_id="tg-77",
            category="退役士兵",
            name="王建国",
            mobile="13812340077",
            id_number=first17 + people.id_check_digit(first17),
            centre_id="licang",
            start=slot,
            now=NOW,
        )
        code = booked.code
        wish = wishes.submit(
            s,
            sender_id="tg-77",
            category="生活用品",
            description="想要一个轮椅",
            mobile="13812340077",
            now=NOW,
        )
        wish_code = wish.code
    token = await login(client, "agent1")
    html = await (
        await client.post("/phone/lookup", data={"_csrf": token, "query": "13812340077"})
    ).text()
    assert code in html and wish_code in html and "代为取消" in html
    assert "13812340077" not in html and "138****0077" in html
    assert "/conversations/tg-77" in html
    html = await (
        await client.post("/phone/lookup", data={"_csrf": token, "query": code.lower()})
    ).text()
    assert code in html and "王" in html
    html = await (
        await client.post("/phone/lookup", data={"_csrf": token, "query": "ZZZZZZ"})
    ).text()
    assert "没有找到" in html
    resp = await client.post("/phone/lookup", data={"_csrf": token, "query": ""})
    assert resp.status == 400


async def test_phone_registers_a_wish_and_a_job_seeker_and_logs_the_call(client, accounts, engine):
    from bot.core import jobs, wishes

    token = await login(client, "agent1")
    resp = await client.post(
        "/phone/wish",
        data={
            "_csrf": token,
            "mobile": "13812340088",
            "category": "生活用品",
            "description": "想要一台轮椅",
            "district": "李沧区",
        },
        allow_redirects=False,
    )
    assert resp.status == 302
    page = await (await client.get("/phone")).text()
    assert "已代为登记微心愿，编号" in page
    with db.session_scope(engine) as s:
        wish = s.execute(select(wishes.Wish)).scalar_one()
        assert wish.sender_id.startswith("tel-") and "13812340088" not in wish.sender_id
        assert wish.status == "submitted" and wish.mobile == "13812340088"
    html = await (
        await client.post("/phone/lookup", data={"_csrf": token, "query": "13812340088"})
    ).text()
    assert wish.code in html  # found again by mobile
    resp = await client.post(
        "/phone/seeker",
        data={
            "_csrf": token,
            "mobile": "13812340088",
            "skills": "开大车 B本",
            "desired_job": "司机",
        },
        allow_redirects=False,
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        assert [x.desired_job for x in jobs.list_seekers(s)] == ["司机"]
    resp = await client.post("/phone/wish", data={"_csrf": token, "mobile": "123"})
    assert resp.status == 400
    resp = await client.post(
        "/phone/calls",
        data={
            "_csrf": token,
            "mobile": "13812340088",
            "category": "微心愿",
            "summary": "代登记轮椅心愿，电话13812340088",
            "resolved": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 302
    page = await (await client.get("/phone")).text()
    assert "代登记轮椅心愿" in page and "138****0088" in page and "13812340088" not in page
