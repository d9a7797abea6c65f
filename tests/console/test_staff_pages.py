"""Staff pages (今日报到, 微心愿审核, 停诊与号源, 岗位管理) on SQLite with the real capability
modules.

The console clock is ``conftest.NOW`` = Tuesday 2026-12-01 10:00; bookings are made for Wednesday.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.core import appointments as ap
from bot.core import db, jobs, people, wishes, workdays
from tests.console.conftest import NOW, login

WED_9 = datetime(2026, 12, 2, 9, 0)
WED = "2026-12-02"


def fake_id(n: int) -> str:
    first17 = f"370202{1950 + n}0101{n:03d}"
    return first17 + people.id_check_digit(first17)


def book(
    engine, n: int, start: datetime = WED_9, centre: str = "licang", name: str = "王建国"
) -> int:
    with db.session_scope(engine) as s:
        a = ap.book(
            s,
            sender_id=f"tg-{n}",
            category="退役士兵",
            name=name,
            mobile=f"138{n:08d}",
            id_number=fake_id(n),
            centre_id=centre,
            start=start,
            now=NOW,
            discharge_date=date(2026, 11, 20),
        )
        return a.id


def appointment(engine, appointment_id: int):
    with db.session_scope(engine) as s:
        a = s.get(ap.Appointment, appointment_id)
        return a.status, [(e.action, e.actor) for e in ap.history(s, a)]


def submit_wish(
    engine,
    *,
    consent: bool = True,
    text: str = "我叫王建国，电话13812345678，腿脚不便，想要一台轮椅。",
) -> int:
    with db.session_scope(engine) as s:
        return wishes.submit(
            s,
            sender_id="tg-77",
            category="助医",
            description=text,
            budget=800,
            district="李沧区",
            mobile="13912345678",
            consent_publish=consent,
            now=NOW,
        ).id


def wish_state(engine, wish_id: int):
    with db.session_scope(engine) as s:
        w = s.get(wishes.Wish, wish_id)
        return w.status, [(e.to_status, e.actor, e.note) for e in w.events]


async def post(client, path: str, token: str, **data):
    return await client.post(path, data={"_csrf": token, **data}, allow_redirects=False)


# ---------------------------------------------------------------- every page renders, roles
async def test_pages_render_and_nav(client, accounts):
    await login(client, "agent1")
    for path, marker in (
        ("/appointments", "报到预约"),
        ("/wishes", "微心愿审核"),
        ("/jobs", "岗位管理"),
        ("/analytics", "数据分析"),
    ):
        resp = await client.get(path)
        html = await resp.text()
        assert resp.status == 200, path
        assert marker in html and 'href="/appointments"' in html, path
        assert "staff.css" in html
    assert 'href="/closures"' not in html  # supervisor-only link hidden from agents
    resp = await client.get("/closures")
    assert resp.status == 403 and "没有权限" in await resp.text()
    assert (await client.get("/static/charts.js")).status == 200
    assert (await client.get("/static/staff.css")).status == 200


async def test_anonymous_users_are_sent_to_login(client):
    for path in (
        "/appointments",
        "/wishes/1",
        "/jobs",
        "/closures",
        "/analytics",
        "/analytics/daily.csv",
    ):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/login"), path


async def test_every_staff_post_needs_csrf(client, accounts, engine):
    await login(client, "sup")
    appt = book(engine, 1)
    wish = submit_wish(engine)
    paths = [f"/appointments/{appt}/{a}" for a in ("checkin", "noshow", "cancel")]
    paths += [f"/wishes/{wish}/{a}" for a in ("approve", "reject", "publish", "claim", "fulfil")]
    paths += ["/closures", "/closures/remove", "/jobs", "/jobs/1/deactivate", "/jobs/1/activate"]
    for path in paths:
        resp = await client.post(
            path, data={"reason": "x", "confirm": "yes"}, allow_redirects=False
        )
        assert resp.status == 403, path
        assert "页面已过期" in await resp.text()
    assert appointment(engine, appt)[0] == ap.BOOKED
    assert wish_state(engine, wish)[0] == wishes.SUBMITTED


# ---------------------------------------------------------------- 今日报到
async def test_appointments_day_view_is_masked(client, accounts, engine):
    book(engine, 1)
    book(engine, 2, start=WED_9 + timedelta(minutes=30), name="欧阳娜娜")
    book(engine, 3, centre="shinan")
    await login(client, "agent1")
    html = await (await client.get(f"/appointments?centre=licang&date={WED}")).text()
    assert "李沧区退役军人服务中心" in html
    assert html.count('<tr data-id="') == 2  # only 李沧
    assert "王*国" in html and "欧**娜" in html and "王建国" not in html
    assert "138****0001" in html and "13800000001" not in html
    assert fake_id(1) not in html and fake_id(1)[:4] + "**********" + fake_id(1)[-4:] in html
    assert "09:00" in html and "09:30" in html and "已预约" in html
    assert "距报到期限" in html  # 退役士兵: 30 days from discharge
    assert (
        html.count('<div class="c">1 / 3</div>') == 2 and '<div class="c">0 / 3</div>' in html
    )  # slot occupancy
    # before the appointment day only cancelling is possible
    assert "/cancel" in html and "/checkin" not in html and "/noshow" not in html
    # default view: today at the first centre; a bad date falls back to today
    assert (await client.get("/appointments?date=nonsense&centre=nowhere")).status == 200


async def test_cancel_needs_confirmation_and_records_who(client, accounts, engine):
    appt = book(engine, 1)
    token = await login(client, "agent1")
    resp = await post(client, f"/appointments/{appt}/cancel", token, centre="licang", date=WED)
    html = await resp.text()
    assert (
        resp.status == 200 and "确认取消这条预约" in html and 'name="confirm" value="yes"' in html
    )
    assert appointment(engine, appt)[0] == ap.BOOKED
    resp = await post(
        client, f"/appointments/{appt}/cancel", token, centre="licang", date=WED, confirm="yes"
    )
    assert (
        resp.status == 302 and resp.headers["Location"] == f"/appointments?centre=licang&date={WED}"
    )
    status, events = appointment(engine, appt)
    assert status == ap.CANCELLED and events[-1] == ("cancelled", "agent1")
    html = await (await client.get(resp.headers["Location"])).text()
    assert "预约已取消" in html and "已取消" in html
    # cancelling again is refused and changes nothing
    resp = await post(
        client, f"/appointments/{appt}/cancel", token, centre="licang", date=WED, confirm="yes"
    )
    assert resp.status == 409 and "不能进行此操作" in await resp.text()
    assert len(appointment(engine, appt)[1]) == 2
    resp = await post(client, "/appointments/9999/checkin", token, centre="licang", date=WED)
    assert resp.status == 404 and "没有找到该预约" in await resp.text()


async def test_check_in_and_no_show_on_the_day(client, accounts, engine, clock):
    first, second = book(engine, 1), book(engine, 2, start=WED_9 + timedelta(minutes=30))
    token = await login(client, "sup")
    resp = await post(client, f"/appointments/{first}/checkin", token, centre="licang", date=WED)
    assert resp.status == 409 and "还没到预约时间" in await resp.text()  # Tuesday: too early
    clock.moment = datetime(2026, 12, 2, 9, 40)
    html = await (await client.get(f"/appointments?centre=licang&date={WED}")).text()
    assert f"/appointments/{first}/checkin" in html and f"/appointments/{first}/noshow" in html
    assert f"/appointments/{first}/cancel" not in html  # started: no cancel button
    assert (
        await post(client, f"/appointments/{first}/checkin", token, centre="licang", date=WED)
    ).status == 302
    assert (
        await post(client, f"/appointments/{second}/noshow", token, centre="licang", date=WED)
    ).status == 302
    assert appointment(engine, first) == (
        ap.CHECKED_IN,
        [("booked", "tg-1"), ("checked_in", "sup")],
    )
    assert appointment(engine, second)[0] == ap.NO_SHOW
    html = await (await client.get(f"/appointments?centre=licang&date={WED}")).text()
    assert "已签到" in html and "未到" in html and "签到 · sup" in html
    # a no-show who turns up late can still be checked in
    assert (
        await post(client, f"/appointments/{second}/checkin", token, centre="licang", date=WED)
    ).status == 302
    assert appointment(engine, second)[0] == ap.CHECKED_IN
    resp = await post(client, f"/appointments/{first}/noshow", token, centre="licang", date=WED)
    assert resp.status == 409 and appointment(engine, first)[0] == ap.CHECKED_IN


# ---------------------------------------------------------------- 微心愿审核
async def test_wish_full_moderation_cycle(client, accounts, engine):
    wish_id = submit_wish(engine)
    token = await login(client, "agent1")
    html = await (await client.get("/wishes")).text()
    assert re.search(r'data-status="submitted">待审核<span class="count">1</span>', html)
    assert (
        f'href="/wishes/{wish_id}"' in html and "13812345678" not in html and "王建国" not in html
    )

    html = await (await client.get(f"/wishes/{wish_id}")).text()
    assert "139****5678" in html and "13912345678" not in html  # contact masked
    assert (
        "13812345678" not in html and "王建国" not in html and "轮椅" in html
    )  # anonymised text only
    assert 'id="btn-approve"' in html and 'id="btn-reject"' in html
    assert (
        'id="btn-publish"' not in html
        and 'id="btn-claim"' not in html
        and 'id="btn-fulfil"' not in html
    )

    steps = [
        ("approve", {}, "已通过", "btn-publish"),
        ("publish", {}, "已发布", "btn-claim"),
        ("claim", {"claimant": "青岛某某超市", "kind": "merchant"}, "已认领", "btn-fulfil"),
        ("fulfil", {"note": "12月3日已送达"}, "已实现", None),
    ]
    for action, data, label, next_button in steps:
        resp = await post(client, f"/wishes/{wish_id}/{action}", token, **data)
        assert resp.status == 302, (action, await resp.text())
        html = await (await client.get(resp.headers["Location"])).text()
        assert f'id="wish-status">{label}<' in html, action
        if next_button:
            assert f'id="{next_button}"' in html
    assert "该心愿已处于最终状态" in html and "青岛某某超市" in html and "12月3日已送达" in html
    status, events = wish_state(engine, wish_id)
    assert status == wishes.FULFILLED
    assert [(to, actor) for to, actor, _ in events] == [
        ("submitted", "tg-77"),
        ("approved", "agent1"),
        ("published", "agent1"),
        ("claimed", "agent1"),
        ("fulfilled", "agent1"),
    ]
    assert html.count('<span class="when">') == 5

    # an illegal transition shows a clear error and changes nothing
    for action, data in (
        ("publish", {}),
        ("approve", {}),
        ("reject", {"reason": "重复"}),
        ("claim", {"claimant": "张三", "kind": "donor"}),
    ):
        resp = await post(client, f"/wishes/{wish_id}/{action}", token, **data)
        assert resp.status == 409, action
        assert "当前为“已实现”，不能进行此操作" in await resp.text()
    assert wish_state(engine, wish_id) == (status, events)
    html = await (await client.get("/wishes?status=fulfilled")).text()
    assert "青岛某某超市" in html and "荣军联盟商家" in html


async def test_reject_requires_a_reason(client, accounts, engine):
    wish_id = submit_wish(engine)
    token = await login(client, "agent1")
    resp = await post(client, f"/wishes/{wish_id}/reject", token, reason="  ")
    assert resp.status == 400 and "驳回必须填写原因" in await resp.text()
    assert wish_state(engine, wish_id)[0] == wishes.SUBMITTED
    resp = await post(
        client,
        f"/wishes/{wish_id}/reject",
        token,
        reason="不属于微心愿范围，已转民政，电话13800001111",
    )
    assert resp.status == 302
    html = await (await client.get(f"/wishes/{wish_id}")).text()
    assert "未通过" in html and "不属于微心愿范围" in html and "13800001111" not in html
    assert (await client.get("/wishes?status=rejected")).status == 200


async def test_no_consent_cannot_be_published_but_can_be_claimed_privately(
    client, accounts, engine
):
    wish_id = submit_wish(engine, consent=False)
    token = await login(client, "agent1")
    assert (
        await post(client, f"/wishes/{wish_id}/approve", token, public_text="想要一台轮椅")
    ).status == 302
    html = await (await client.get(f"/wishes/{wish_id}")).text()
    assert 'id="btn-publish"' not in html and 'id="btn-claim"' in html and "线下认领" in html
    assert "想要一台轮椅" in html
    resp = await post(client, f"/wishes/{wish_id}/publish", token)
    assert resp.status == 409 and "本人未同意公开" in await resp.text()
    assert wish_state(engine, wish_id)[0] == wishes.APPROVED
    resp = await post(client, f"/wishes/{wish_id}/claim", token, claimant="", kind="donor")
    assert resp.status == 400 and "请填写认领人" in await resp.text()
    resp = await post(client, f"/wishes/{wish_id}/claim", token, claimant="李明华", kind="donor")
    assert resp.status == 302
    html = await (await client.get(f"/wishes/{wish_id}")).text()
    assert "李*华" in html and "李明华" not in html  # a private donor's name is masked
    assert wish_state(engine, wish_id)[0] == wishes.CLAIMED
    assert (await client.get("/wishes/424242")).status == 404
    assert (await post(client, "/wishes/424242/approve", token)).status == 404


# ---------------------------------------------------------------- 停诊与号源
async def test_closures_add_list_remove(client, accounts, engine, tmp_path, monkeypatch):
    closures_file = tmp_path / "closures.yml"
    closures_file.write_text(
        "closures:\n  - {centre: all, date: 2026-12-31, reason: 年终盘点}\n", encoding="utf-8"
    )
    monkeypatch.setattr(workdays, "closures_path", lambda: closures_file)
    book(engine, 1)
    token = await login(client, "sup")
    html = await (await client.get("/closures")).text()
    assert "年终盘点" in html and "closures.yml 文件" in html and "全部服务中心" in html
    assert (
        "李沧区退役军人服务中心" in html and "capacity_per_slot" in html
    )  # capacity table (read-only)
    resp = await post(client, "/closures", token, centre="licang", date=WED, reason="内部培训")
    html = await resp.text()
    assert resp.status == 200 and "已添加停诊" in html
    assert "该日已有 1 个有效预约" in html  # the booking is not cancelled: the supervisor is warned
    with db.session_scope(engine) as s:
        assert not workdays.day_status(s, "licang", date(2026, 12, 2)).open
        row = s.execute(select(workdays.CentreClosure)).scalar_one()
        assert (row.reason, row.created_by) == ("内部培训", "sup")
    html = await (await client.get("/closures")).text()
    assert "内部培训" in html and "工作台添加" in html
    html = await (await client.get(f"/appointments?centre=licang&date={WED}")).text()
    assert "停诊（内部培训）" in html
    resp = await post(
        client, "/closures", token, centre="all", date="2026-12-03", reason="系统升级"
    )
    assert resp.status == 302
    resp = await post(client, "/closures/remove", token, centre="licang", date=WED)
    assert resp.status == 302
    with db.session_scope(engine) as s:
        assert workdays.day_status(s, "licang", date(2026, 12, 2)).open
        assert not workdays.day_status(s, "shinan", date(2026, 12, 3)).open
    resp = await post(client, "/closures/remove", token, centre="licang", date=WED)
    assert resp.status == 404
    for form, message in (
        ({"date": "2026-11-30"}, "过去的日期"),
        ({"date": "x"}, "正确的日期"),
        ({"centre": "nowhere"}, "请选择服务中心"),
        ({"reason": ""}, "请填写停诊原因"),
    ):
        data = {"centre": "licang", "date": WED, "reason": "培训", **form}
        resp = await post(client, "/closures", token, **data)
        assert resp.status == 400 and message in await resp.text(), form


async def test_agents_cannot_change_closures(client, accounts, engine):
    token = await login(client, "agent1")
    for path in ("/closures", "/closures/remove"):
        resp = await post(client, path, token, centre="licang", date=WED, reason="x")
        assert resp.status == 403
    with db.session_scope(engine) as s:
        assert s.execute(select(workdays.CentreClosure)).first() is None


# ---------------------------------------------------------------- 岗位管理
async def test_jobs_list_add_deactivate(client, accounts, engine):
    with db.session_scope(engine) as s:
        seeded = jobs.seed_jobs(s, now=NOW)
    assert seeded > 0
    token = await login(client, "agent1")
    html = await (await client.get("/jobs")).text()
    assert html.count('<tr data-id="') == seeded and html.count(">示例</span>") == seeded
    resp = await post(
        client,
        "/jobs",
        token,
        employer="青岛某物流公司",
        title="仓库管理员",
        requirements="能适应倒班",
        skills="叉车、仓储管理",
        district="黄岛",
        pay="5000元/月",
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        job = s.execute(select(jobs.Job).where(jobs.Job.title == "仓库管理员")).scalar_one()
        assert (job.district, job.is_sample, job.active) == ("黄岛区", False, True)
        job_id = job.id
    html = await (await client.get("/jobs")).text()
    assert "已添加岗位" in html and "仓库管理员" in html
    assert html.index("仓库管理员") < html.index(">示例</span>")  # real postings first
    assert (await post(client, f"/jobs/{job_id}/deactivate", token)).status == 302
    html = await (await client.get("/jobs")).text()
    assert "仓库管理员" not in html and "岗位已下架" in html
    html = await (await client.get("/jobs?all=1")).text()
    assert "仓库管理员" in html and "重新上架" in html
    assert (await post(client, f"/jobs/{job_id}/activate", token)).status == 302
    with db.session_scope(engine) as s:
        assert s.get(jobs.Job, job_id).active
    for form, message in (
        ({"title": ""}, "请填写岗位名称"),
        ({"employer": ""}, "请填写用人单位"),
        ({"district": "火星区"}, "正确的区"),
    ):
        data = {"employer": "某公司", "title": "保安", **form}
        resp = await post(client, "/jobs", token, **data)
        assert resp.status == 400 and message in await resp.text(), form
    assert (await post(client, "/jobs/99999/deactivate", token)).status == 404
