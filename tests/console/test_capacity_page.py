"""停诊与号源: supervisors change the places per slot (POST /closures/capacity).

The console clock is ``conftest.NOW`` = Tuesday 2026-12-01 10:00; bookings are for Wednesday.
deployment.yml gives every centre 3 places per slot (its defaults).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.core import appointments as ap
from bot.core import db, people
from tests.console.conftest import NOW, login

WED_9 = datetime(2026, 12, 2, 9, 0)
WED_930 = WED_9 + timedelta(minutes=30)
WED = "2026-12-02"


def fake_id(n: int) -> str:
    first17 = f"370202{1950 + n}0101{n:03d}"
    return first17 + people.id_check_digit(first17)


def book(engine, n: int, start: datetime = WED_9, centre: str = "licang") -> int:
    with db.session_scope(engine) as s:
        return ap.book(
            s,
            sender_id=f"tg-{n}",
            category="退役士兵",
            name="王建国",
            mobile=f"138{n:08d}",
            id_number=fake_id(n),
            centre_id=centre,
            start=start,
            now=NOW,
            discharge_date=date(2026, 11, 20),
        ).id


def state(engine, centre: str = "licang"):
    """(override row as (capacity, updated_by) or None, {slot start: (capacity, booked)})."""
    with db.session_scope(engine) as s:
        row = s.get(ap.CentreCapacity, centre)
        slots = {
            r.start: (r.capacity, r.booked)
            for r in s.execute(select(ap.Slot).where(ap.Slot.centre_id == centre)).scalars()
        }
        return ((row.capacity, row.updated_by) if row else None), slots


def capacity_row(html: str, centre: str = "licang") -> str:
    match = re.search(rf'<tr data-centre="{centre}">(.*?)</tr>', html, re.S)
    assert match, f"no capacity row for {centre}"
    return match.group(1)


async def post(client, token: str, **data):
    return await client.post(
        "/closures/capacity", data={"_csrf": token, **data}, allow_redirects=False
    )


async def test_supervisor_lowers_raises_and_restores_capacity(client, accounts, engine):
    book(engine, 1)
    book(engine, 2)  # Wed 09:00: 2 of 3
    book(engine, 3, start=WED_930)  # Wed 09:30: 1 of 3
    token = await login(client, "sup")
    html = await (await client.get("/closures")).text()
    row = capacity_row(html)
    assert 'action="/closures/capacity"' in row and 'name="capacity"' in row and 'value="3"' in row
    assert "默认（文件）" in row and "保存" in row and "恢复默认" not in row
    assert "capacity_per_slot" in html

    # Lower to 1: the 09:00 slot keeps its two bookings (capacity 2), the supervisor is warned.
    resp = await post(client, token, centre="licang", capacity="1", action="save")
    assert resp.status == 302 and resp.headers["Location"].startswith("/closures")
    override, slots = state(engine)
    assert override == (1, "sup")
    assert slots == {WED_9: (2, 2), WED_930: (1, 1)}
    with db.session_scope(engine) as s:
        assert all(a.status == ap.BOOKED for a in s.execute(select(ap.Appointment)).scalars())
    html = await (await client.get("/closures")).text()
    assert "已将李沧区退役军人服务中心每个时段可预约人数调整为 1 人，已更新 2 个未来时段" in html
    assert 'id="capacity-warning"' in html and "有 1 个未来时段的已约人数超过新的容量 1 人" in html
    assert "不会取消" in html
    row = capacity_row(html)
    assert '<strong class="capacity-value">1</strong>' in row and "已调整" in row and "sup" in row
    assert "2026-12-01 10:00" in row and "恢复默认（3 人）" in row
    assert capacity_row(html, "shinan").count("已调整") == 0
    html = await (await client.get("/closures")).text()  # the notice is shown once
    assert "capacity-warning" not in html and "已更新 2 个未来时段" not in html

    # Raise to 5: every future slot follows, no warning; the day view shows the new capacity.
    resp = await post(client, token, centre="licang", capacity="5", action="save")
    assert resp.status == 302
    assert state(engine) == ((5, "sup"), {WED_9: (5, 2), WED_930: (5, 1)})
    html = await (await client.get("/closures")).text()
    assert "调整为 5 人，已更新 2 个未来时段" in html and "capacity-warning" not in html
    assert '<td class="num-cell">60</td>' in capacity_row(html)  # 12 slots × 5 per day
    day = await (await client.get(f"/appointments?centre=licang&date={WED}")).text()
    assert "2 / 5" in day and "0 / 5" in day

    # 恢复默认: back to the file's 3.
    resp = await post(client, token, centre="licang", action="clear")
    assert resp.status == 302
    assert state(engine) == (None, {WED_9: (3, 2), WED_930: (3, 1)})
    html = await (await client.get("/closures")).text()
    assert "已恢复李沧区退役军人服务中心的默认号源（每个时段 3 人" in html
    assert "默认（文件）" in capacity_row(html) and "恢复默认" not in capacity_row(html)


async def test_invalid_input_is_refused_without_change(client, accounts, engine):
    token = await login(client, "sup")
    for data, message in (
        ({"centre": "licang", "capacity": "0"}, "1–50 之间的整数"),
        ({"centre": "licang", "capacity": "51"}, "1–50 之间的整数"),
        ({"centre": "licang", "capacity": "abc"}, "1–50 之间的整数"),
        ({"centre": "licang", "capacity": ""}, "1–50 之间的整数"),
        ({"centre": "nowhere", "capacity": "5"}, "请选择服务中心"),
        ({"centre": "nowhere", "action": "clear"}, "请选择服务中心"),
    ):
        resp = await post(client, token, **data)
        assert resp.status == 400 and message in await resp.text(), data
    assert state(engine) == (None, {})


async def test_agent_cannot_change_capacity(client, accounts, engine):
    token = await login(client, "agent1")
    resp = await post(client, token, centre="licang", capacity="9")
    assert resp.status == 403 and "没有权限" in await resp.text()
    resp = await post(client, token, centre="licang", action="clear")
    assert resp.status == 403
    assert state(engine) == (None, {})


async def test_capacity_change_needs_csrf(client, accounts, engine):
    await login(client, "sup")
    resp = await client.post(
        "/closures/capacity", data={"centre": "licang", "capacity": "9"}, allow_redirects=False
    )
    assert resp.status == 403 and "页面已过期" in await resp.text()
    resp = await client.post(
        "/closures/capacity",
        data={"centre": "licang", "capacity": "9", "_csrf": "forged"},
        allow_redirects=False,
    )
    assert resp.status == 403
    assert state(engine) == (None, {})
