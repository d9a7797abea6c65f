"""来电代约报到 / 代为改约 on the real core (SQLite): the console clock is ``conftest.NOW`` =
Tuesday 2026-12-01 10:00; the 李沧 centre is set to one place per slot, so a booked slot
really leaves the free list and a released one really comes back."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select, text

from bot.core import appointments as ap
from bot.core import db, people, workdays
from bot.core.caller_lookup import caller_id
from tests.console.conftest import NOW, login
from tests.console.test_staff_pages import fake_id

THU_9 = "2026-12-03T09:00"
THU_930 = "2026-12-03T09:30"
MOBILE = "13812345600"


def book_thursday_nine(s, n: int):
    """Another caller's booking (李明华, number n) of the licang centre on Thursday 9:00."""
    return ap.book(
        s,
        sender_id=f"tg-{n}",
        category="退役士兵",
        name="李明华",
        mobile=f"1380000000{n}",
        id_number=fake_id(n),
        centre_id="licang",
        start=datetime(2026, 12, 3, 9, 0),
        now=NOW,
    )


def one_place_per_slot(engine, closed: date | None = None) -> None:
    with db.session_scope(engine) as s:
        ap.set_capacity(s, "licang", 1, "sup", NOW)
        if closed is not None:
            workdays.add_closure(s, "licang", closed, "内部培训", "sup", NOW)


def booking_form(token: str, **overrides) -> dict:
    values = {
        "_csrf": token,
        "action": "book",
        "centre": "licang",
        "date": "2026-12-03",
        "start": THU_9,
        "name": "王建国",
        "mobile": MOBILE,
        "id_number": fake_id(5),
        "category": "退役士兵",
        "discharge_date": "2026-11-20",
    }
    values.update(overrides)
    return values


def offered(html: str) -> list[str]:
    """The slot starts the page offers as radio buttons."""
    return re.findall(r'name="start" value="([^"]+)"', html)


def day_options(html: str) -> list[str]:
    select_html = html.split('id="booking-date"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]+)"', select_html)


def all_appointments(engine):
    with db.session_scope(engine) as s:
        return [
            (
                a.code,
                a.start,
                a.status,
                a.sender_id,
                [(e.action, e.actor) for e in ap.history(s, a)],
            )
            for a in s.execute(select(ap.Appointment).order_by(ap.Appointment.id)).scalars()
        ]


async def test_agent_books_a_free_slot_for_a_caller(client, accounts, engine):
    one_place_per_slot(engine, closed=date(2026, 12, 2))
    token = await login(client, "agent1")
    html = await (await client.get("/phone/book?centre=licang")).text()
    days = day_options(html)
    # soonest first; the closure (Wed) and the weekend are not offered
    assert days[:4] == ["2026-12-01", "2026-12-03", "2026-12-04", "2026-12-07"]
    assert "2026-12-02" not in days and "2026-12-05" not in days
    # today: only slots after 10:00
    assert offered(html)[0] == "2026-12-01T10:30"
    html = await (await client.get("/phone/book?centre=licang&date=2026-12-03")).text()
    assert offered(html)[:2] == [THU_9, THU_930]
    html = await (await client.get("/phone/book?centre=licang&date=2026-12-02")).text()
    assert offered(html) == [] and "该日停诊：内部培训" in html

    resp = await client.post("/phone/book", data=booking_form(token), allow_redirects=False)
    assert resp.status == 302, await resp.text()
    page = await (await client.get(resp.headers["Location"])).text()
    [(code, start, status, sender, history)] = all_appointments(engine)
    assert start == datetime(2026, 12, 3, 9, 0) and status == ap.BOOKED
    assert sender == caller_id(MOBILE) and history == [("booked", "agent1")]
    assert f"确认码 {code}" in page and "12月3日（周四）09:00" in page
    assert "李沧区退役军人服务中心" in page and "王*国" in page and MOBILE not in page
    # name and number sealed in the database, found again by mobile
    with db.session_scope(engine) as s:
        row = s.execute(text("SELECT name_cipher, mobile_cipher FROM appointments")).one()
    assert "王建国" not in str(row) and MOBILE not in str(row)
    html = await (await client.post("/phone/lookup", data={"_csrf": token, "query": MOBILE})).text()
    assert code in html and "代为改约" in html
    # one place per slot: the booked slot is gone from the free list
    html = await (await client.get("/phone/book?centre=licang&date=2026-12-03")).text()
    assert THU_9 not in offered(html) and THU_930 in offered(html)


async def test_bad_input_is_explained_and_nothing_typed_is_lost(client, accounts, engine):
    token = await login(client, "agent1")
    bad_id = fake_id(5)[:-1] + ("0" if fake_id(5)[-1] != "0" else "1")
    resp = await client.post(
        "/phone/book",
        data=booking_form(token, id_number=bad_id, mobile="1234", name="王建国", start=""),
    )
    assert resp.status == 400 and resp.headers["Cache-Control"] == "no-store"
    html = await resp.text()
    assert "校验位不对" in html and "正确的手机号" in html and "请选择一个空闲时段" in html
    assert 'value="王建国"' in html and f'value="{bad_id}"' in html and 'value="1234"' in html
    assert 'value="licang" selected' in html and 'value="2026-11-20"' in html
    # a name that is not one, a category that does not exist, a future discharge date
    resp = await client.post(
        "/phone/book",
        data=booking_form(token, name="不知道", category="路人", discharge_date="2027-01-01"),
    )
    html = await resp.text()
    assert resp.status == 400 and "真实姓名" in html
    assert "请选择人员类别" in html and "退役日期不对" in html
    # choosing another day keeps what was typed and books nothing
    resp = await client.post(
        "/phone/book", data=booking_form(token, action="show", date="2026-12-04")
    )
    html = await resp.text()
    assert resp.status == 200 and 'value="王建国"' in html
    assert offered(html)[0] == "2026-12-04T09:00"
    assert all_appointments(engine) == []


async def test_full_slot_and_second_booking_are_refused_with_a_way_on(client, accounts, engine):
    one_place_per_slot(engine)
    with db.session_scope(engine) as s:  # someone else takes Thursday 9:00 first
        book_thursday_nine(s, 1)
    token = await login(client, "agent1")
    resp = await client.post("/phone/book", data=booking_form(token))
    html = await resp.text()
    assert resp.status == 409 and "刚刚被约满" in html
    assert 'value="王建国"' in html and THU_930 in offered(html)  # nearest alternatives
    assert len(all_appointments(engine)) == 1
    resp = await client.post(
        "/phone/book", data=booking_form(token, start=THU_930), allow_redirects=False
    )
    assert resp.status == 302
    # the same person again: the existing booking is named, not a second one made
    resp = await client.post("/phone/book", data=booking_form(token, start="2026-12-04T09:00"))
    html = await resp.text()
    code = all_appointments(engine)[1][0]
    assert resp.status == 409 and f"确认码 {code}" in html and 'id="existing-link"' in html
    assert len(all_appointments(engine)) == 2
    # a slot on a closed day (weekend) or one that has passed
    for start, words in (("2026-12-05T09:00", "不接待（周末）"), ("2026-12-01T09:00", "已经过了")):
        resp = await client.post(
            "/phone/book", data=booking_form(token, start=start, id_number=fake_id(9))
        )
        assert resp.status == 409 and words in await resp.text()


async def test_reschedule_moves_the_booking_frees_the_old_slot_and_keeps_the_code(
    client, accounts, engine
):
    one_place_per_slot(engine, closed=date(2026, 12, 4))
    with db.session_scope(engine) as s:
        booked = book_thursday_nine(s, 2)
        appointment_id, code = booked.id, booked.code
    token = await login(client, "agent2")
    page = f"/phone/appointments/{appointment_id}"
    html = await (await client.get(f"{page}?date=2026-12-03")).text()
    assert code in html and THU_9 not in offered(html) and THU_930 in offered(html)
    free = await (await client.get("/phone/book?centre=licang&date=2026-12-03")).text()
    assert THU_9 not in offered(free)

    resp = await client.post(
        f"{page}/reschedule",
        data={"_csrf": token, "date": "2026-12-03", "start": THU_930},
        allow_redirects=False,
    )
    assert resp.status == 302
    html = await (await client.get(page)).text()
    assert f"已代为改约到 12月3日（周四）09:30，确认码仍是 {code}" in html
    [(same_code, start, status, _, history)] = all_appointments(engine)
    assert same_code == code and start == datetime(2026, 12, 3, 9, 30) and status == ap.BOOKED
    assert history[-1] == ("rescheduled", "agent2")
    free = await (await client.get("/phone/book?centre=licang&date=2026-12-03")).text()
    assert THU_9 in offered(free) and THU_930 not in offered(free)  # old place released
    with db.session_scope(engine) as s:
        counts = dict(s.execute(select(ap.Slot.start, ap.Slot.booked)).all())
    assert counts == {datetime(2026, 12, 3, 9, 0): 0, datetime(2026, 12, 3, 9, 30): 1}

    # refusals leave the booking as it was
    for start, status_code, words in (
        ("2026-12-04T09:00", 409, "不接待（内部培训）"),
        (THU_930, 409, "和原来的一样"),
        ("nonsense", 400, "请选择一个空闲时段"),
    ):
        resp = await client.post(
            f"{page}/reschedule", data={"_csrf": token, "date": "2026-12-03", "start": start}
        )
        assert resp.status == status_code and words in await resp.text()
    assert all_appointments(engine)[0][1] == datetime(2026, 12, 3, 9, 30)
    # the closed day offers nothing to choose
    resp = await client.post(
        f"{page}/reschedule", data={"_csrf": token, "action": "show", "date": "2026-12-04"}
    )
    assert offered(await resp.text()) == []
    # a cancelled booking cannot be moved
    with db.session_scope(engine) as s:
        ap.cancel(s, s.get(ap.Appointment, appointment_id), "agent2", NOW)
    resp = await client.post(
        f"{page}/reschedule",
        data={"_csrf": token, "date": "2026-12-07", "start": "2026-12-07T09:00"},
    )
    assert resp.status == 409 and "不能改约" in await resp.text()
    assert (await client.get("/phone/appointments/999999")).status == 404


async def test_booking_needs_login_and_csrf(client, accounts, engine):
    resp = await client.get("/phone/book", allow_redirects=False)
    assert resp.status == 302 and "/login" in resp.headers["Location"]
    token = await login(client, "agent1")
    form = booking_form(token)
    del form["_csrf"]
    resp = await client.post("/phone/book", data=form)
    assert resp.status == 403
    resp = await client.post(
        "/phone/appointments/1/reschedule", data={"start": THU_9}, allow_redirects=False
    )
    assert resp.status == 403
    assert all_appointments(engine) == []
    assert people.mask_phone(MOBILE) == "138****5600"
