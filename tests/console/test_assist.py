"""Assist panel: suggestions from the whole conversation with shown/used/edited events, summary,
profile + entitlements, PII masking and logged reveal, notes and wrap-up."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.console.models import AgentNote, PiiRevealLog, SuggestionEvent, WrapUp
from bot.core import db, handoff
from tests.console.conftest import NOW, login

SENDER = "tg-100"


def prepare(fake_rasa, text="我想问补助", slots=None):
    from tests.console.fake_rasa import parse

    tracker = fake_rasa.tracker(SENDER)
    tracker["latest_message"] = parse(text)
    tracker["slots"] = slots or {}
    tracker["events"].append(
        {"event": "user", "text": text, "timestamp": 1.0, "parse_data": parse(text)}
    )


async def take(client, engine, token):
    with db.session_scope(engine) as s:
        req = handoff.request(s, SENDER, "human", "人工", NOW)
    resp = await client.post(
        f"/handoffs/{req.id}/take", data={"_csrf": token}, allow_redirects=False
    )
    assert resp.status == 302
    return req.id


def events(engine):
    with db.session_scope(engine) as s:
        return [
            (e.source, e.ref, e.event, e.suggestion_id)
            for e in s.execute(select(SuggestionEvent).order_by(SuggestionEvent.id)).scalars()
        ]


async def test_suggestions_answer_the_question_before_the_handoff_in_the_agents_voice(
    client, accounts, fake_rasa, engine
):
    prepare(fake_rasa, "我想问补助", {"veteran_category": "伤残军人"})
    prepare(fake_rasa, "我要人工", {"veteran_category": "伤残军人"})
    token = await login(client, "agent1")
    await take(client, engine, token)
    data = await (await client.get(f"/api/conversations/{SENDER}/assist")).json()
    top = data["suggestions"][0]
    # the question before the trigger, not the trigger; never the bot's own voice
    assert (top["source"], top["ref"]) == ("knowledge", "ask_allowance")
    assert top["source_label"] == "政策答复" and top["label"] == "抚恤补助"
    assert top["text"].startswith("您好，我是服务中心的工作人员")
    assert "伤残抚恤金" in top["text"] and top["text"].endswith("以官方最新公布为准。")
    assert all("我已经通知人工客服" not in s["text"] for s in data["suggestions"])
    assert not fake_rasa.calls_to(f"/conversations/{SENDER}/predict")
    summary = data["summary"]
    assert summary["question"] == "我想问补助" and summary["reason_label"] == "请求人工"
    assert summary["entitlements"][0]["name"] == "伤残抚恤金"
    shown = [e for e in events(engine) if e[2] == "shown"]
    assert len(shown) == len(data["suggestions"])

    # sent as-is → used; changed first → edited
    resp = await client.post(
        f"/conversations/{SENDER}/reply",
        headers={"X-CSRF-Token": token},
        json={"text": top["text"], "suggestion_id": top["id"]},
    )
    assert (await resp.json())["suggestion_event"] == "used"
    other = data["suggestions"][-1]
    resp = await client.post(
        f"/conversations/{SENDER}/reply",
        headers={"X-CSRF-Token": token},
        json={"text": other["text"] + "请慢慢说。", "suggestion_id": other["id"]},
    )
    assert (await resp.json())["suggestion_event"] == "edited"
    logged = events(engine)
    assert logged[-2][:3] == ("knowledge", "ask_allowance", "used") and logged[-2][3] == top["id"]
    assert logged[-1][2] == "edited" and logged[-1][3] == other["id"]


async def test_a_trigger_with_a_question_is_parsed_for_its_question(
    client, accounts, fake_rasa, engine
):
    prepare(fake_rasa, "转人工吧，报到要带什么")
    await login(client, "agent1")
    data = await (await client.get(f"/api/conversations/{SENDER}/assist")).json()
    assert fake_rasa.calls_to("/model/parse")[-1][2] == {"text": "报到要带什么"}
    assert data["suggestions"][0]["ref"] == "ask_reporting_process"
    assert data["summary"]["question"] == "报到要带什么"


async def test_crisis_takeover_shows_the_script_and_the_severity(
    client, accounts, fake_rasa, engine
):
    prepare(fake_rasa, "药都攒好了，不想活了")
    with db.session_scope(engine) as s:
        handoff.request(s, SENDER, "crisis", "药都攒好了，不想活了", NOW)
    await login(client, "agent1")
    data = await (await client.get(f"/api/conversations/{SENDER}/assist")).json()
    assert data["suggestions"][0]["source"] == "crisis"
    assert "12356" in " ".join(s["text"] for s in data["suggestions"][:3])
    assert data["crisis_script"]["guidance"] and "中国青年报" in data["crisis_script"]["footer"]
    assert data["summary"]["severity"] == 3 and data["summary"]["severity_label"].startswith("高危")
    assert all(e["kind"] == "法定优待" for e in data["entitlements"])


async def test_profile_entitlements_and_masked_pii(client, accounts, fake_rasa, engine):
    prepare(
        fake_rasa,
        slots={
            "veteran_category": "伤残军人",
            "disability_grade": 4,
            "qingdao_hukou": True,
            "age": 65,
            "district": "市南区",
            "phone": "13812345678",
        },
    )
    token = await login(client, "agent1")
    data = await (await client.get(f"/api/conversations/{SENDER}/assist")).json()
    assert (
        data["profile"]["veteran_category"] == "伤残军人"
        and data["profile"]["qingdao_hukou"] == "是"
    )
    names = [p["name"] for p in data["entitlements"]]
    assert names[0] == "伤残抚恤金" and len(names) <= 5
    assert all(p["status"] == "符合条件" for p in data["entitlements"] if not p["missing"])
    facts = {f["label"]: f["value"] for f in data["summary"]["facts"]}
    assert facts["伤残等级"] == "4级" and facts["所在区市"] == "市南区"
    assert data["pii"] == {"phone": "138****5678"}
    text = await (await client.get(f"/api/conversations/{SENDER}/assist")).text()
    assert "13812345678" not in text

    await take(client, engine, token)  # only the agent holding the handoff may reveal
    resp = await client.post(
        "/pii/reveal", json={"sender_id": SENDER, "field": "phone"}, headers={"X-CSRF-Token": token}
    )
    assert (await resp.json())["value"] == "13812345678" and resp.headers[
        "Cache-Control"
    ] == "no-store"
    resp = await client.post(
        "/pii/reveal",
        json={"sender_id": SENDER, "field": "id_number"},
        headers={"X-CSRF-Token": token},
    )
    assert resp.status == 404
    resp = await client.post(
        "/pii/reveal",
        json={"sender_id": SENDER, "field": "password"},
        headers={"X-CSRF-Token": token},
    )
    assert resp.status == 400
    with db.session_scope(engine) as s:
        rows = s.execute(select(PiiRevealLog)).scalars().all()
        assert [(r.agent, r.field, r.subject, r.created_at) for r in rows] == [
            ("agent1", "phone", SENDER, NOW)
        ]


async def test_booked_appointment_is_the_pii_source_and_supervisors_see_the_log(
    make_client, accounts, fake_rasa, engine
):
    from bot.core import appointments, people

    prepare(fake_rasa)
    with db.session_scope(engine) as s:
        centre = appointments.load_centres()[0]
        start = appointments.nearest_free(s, centre.id, NOW, NOW)[0]
    booked = book(engine, centre, start)
    agent = await make_client()
    token = await login(agent, "agent1")
    data = await (await agent.get(f"/api/conversations/{SENDER}/assist")).json()
    assert data["pii"] == {"phone": "139****0000", "id_number": people.mask_id(booked)}
    assert data["appointments"][0]["mobile"] == "139****0000"
    await take(agent, engine, token)
    resp = await agent.post(
        "/pii/reveal",
        json={"sender_id": SENDER, "field": "id_number"},
        headers={"X-CSRF-Token": token},
    )
    assert (await resp.json())["value"] == booked
    assert (await agent.get("/pii/log")).status == 403
    sup = await make_client()
    await login(sup, "sup")
    page = await (await sup.get("/pii/log")).text()
    assert "agent1" in page and "身份证号" in page and SENDER in page and booked not in page


def book(engine, centre, start) -> str:
    """Book an appointment for SENDER through the real capability; returns the ID number."""
    from bot.core import appointments
    from bot.core.people import id_check_digit

    id_number = "37020219900101123" + id_check_digit("37020219900101123")
    with db.session_scope(engine) as s:
        appointments.book(
            s,
            sender_id=SENDER,
            category="退役士兵",
            name="王建国",
            mobile="13900000000",
            id_number=id_number,
            centre_id=centre.id,
            start=start,
            now=NOW,
            discharge_date=date(2026, 11, 20),
        )
    return id_number


async def test_notes_and_wrap_up(client, accounts, fake_rasa, engine):
    prepare(fake_rasa)
    token = await login(client, "agent1")
    handoff_id = await take(client, engine, token)
    resp = await client.post(
        f"/conversations/{SENDER}/notes",
        data={"_csrf": token, "text": "来电人电话13812345678，需回访"},
        allow_redirects=False,
    )
    assert resp.status == 302
    resp = await client.post(
        f"/conversations/{SENDER}/wrapup",
        data={
            "_csrf": token,
            "category": "抚恤补助",
            "summary": "告知伤残抚恤金办理流程",
            "resolved": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 302
    resp = await client.post(
        f"/conversations/{SENDER}/wrapup",
        data={"_csrf": token, "category": "瞎编", "summary": "x", "resolved": "yes"},
    )
    assert resp.status == 400 and "请选择诉求类别" in await resp.text()
    with db.session_scope(engine) as s:
        note = s.execute(select(AgentNote)).scalar_one()
        wrap = s.execute(select(WrapUp)).scalar_one()
        assert note.agent == "agent1" and "需回访" in note.text
        assert (wrap.category, wrap.resolved, wrap.handoff_id, wrap.agent) == (
            "抚恤补助",
            True,
            handoff_id,
            "agent1",
        )
    page = await (await client.get(f"/conversations/{SENDER}")).text()
    assert "138****5678" in page and "13812345678" not in page and "告知伤残抚恤金办理流程" in page
    assert "小结已保存" not in page


async def test_supervisors_see_which_suggestions_help(client, accounts, fake_rasa, engine):
    prepare(fake_rasa, "我想问补助")
    token = await login(client, "agent1")
    await take(client, engine, token)
    data = await (await client.get(f"/api/conversations/{SENDER}/assist")).json()
    top = data["suggestions"][0]
    await client.post(
        f"/conversations/{SENDER}/reply",
        headers={"X-CSRF-Token": token},
        json={"text": top["text"], "suggestion_id": top["id"]},
    )
    assert (await client.get("/suggestion-stats")).status == 403
    await login(client, "sup")
    html = await (await client.get("/suggestion-stats")).text()
    assert "政策答复" in html and "100%" in html
