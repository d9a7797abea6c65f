"""微心愿 and 求职登记 forms and actions."""

from __future__ import annotations

from sqlalchemy import select

from actions import jobs as J
from actions import wishes as W
from actions.forms_common import domain_text
from bot.core import jobs, wishes
from tests.actions.trackers import MOBILE, SENDER, responses, run, slot_events, state, tracker


def wish_turn(requested, text, intent="inform", slots=None, **kwargs):
    return tracker(
        text,
        intent,
        slots or {},
        form="wish_form",
        requested_slot=requested,
        candidates={requested: text},
        **kwargs,
    )


async def test_wish_category_by_button_or_words(domain):
    events, _ = await run(
        W.ValidateWishForm(), wish_turn("wish_category", '/inform{"wish_category":"助医"}'), domain
    )
    assert slot_events(events)["wish_category"] == "助医"
    events, _ = await run(W.ValidateWishForm(), wish_turn("wish_category", "算是维修吧"), domain)
    assert slot_events(events)["wish_category"] == "维修"
    events, messages = await run(W.ValidateWishForm(), wish_turn("wish_category", "不好说"), domain)
    assert slot_events(events)["wish_category"] is None
    assert responses(messages) == ["utter_invalid_wish_category"]


async def test_wish_budget(domain):
    for text, expected in [
        ("三百块左右", "300"),
        ("200元", "200"),
        ("不知道", "none"),
        ('/inform{"choice":"unknown"}', "none"),
        ("不需要钱", "none"),
    ]:
        events, _ = await run(W.ValidateWishForm(), wish_turn("wish_budget", text), domain)
        assert slot_events(events)["wish_budget"] == expected, text
    events, messages = await run(W.ValidateWishForm(), wish_turn("wish_budget", "看着给"), domain)
    assert slot_events(events)["wish_budget"] is None and responses(messages) == [
        "utter_invalid_wish_budget"
    ]


async def test_wish_consent_and_phone(domain):
    events, _ = await run(W.ValidateWishForm(), wish_turn("wish_consent", "/deny", "deny"), domain)
    assert slot_events(events)["wish_consent"] is False
    events, messages = await run(
        W.ValidateWishForm(), wish_turn("wish_consent", "看情况吧", "nlu_fallback"), domain
    )
    assert slot_events(events)["wish_consent"] is None and responses(messages) == [
        "utter_please_yes_no"
    ]
    events, messages = await run(W.ValidateWishForm(), wish_turn("mobile", "138123"), domain)
    assert slot_events(events)["mobile"] is None and responses(messages) == [
        "utter_invalid_mobile_bad_format"
    ]


async def test_a_question_mid_wish_is_not_taken_as_the_description(domain):
    """The from_text mapping ignores protected intents, so Rasa sends no candidate; the
    validator then has nothing to validate and the form is rejected (rules answer instead)."""
    t = tracker(
        "荣军卡怎么办",
        "ask_benefit",
        {"wish_category": "助医"},
        form="wish_form",
        requested_slot="wish_description",
    )
    events, messages = await run(W.ValidateWishForm(), t, domain)
    assert "wish_description" not in slot_events(events) and messages == []


async def test_submit_and_check_wish(domain, session):
    events, messages = await run(
        W.ActionSubmitWish(), tracker("/affirm", "affirm", state("wish_ready")), domain
    )
    assert responses(messages) == ["utter_wish_submitted", "utter_wish_next_public"]
    code = messages[0]["code"]
    wish = session.execute(select(wishes.Wish)).scalar_one()
    assert (
        wish.code == code
        and wish.sender_id == SENDER
        and wish.budget == 300
        and wish.consent_publish
    )
    assert wish.mobile == MOBILE and wish.status == wishes.SUBMITTED
    assert all(slot_events(events)[slot] is None for slot in W.WISH_SLOTS)
    session.rollback()  # SQLite: release the test's read transaction before the action writes

    _, messages = await run(W.ActionCheckWish(), tracker("我的心愿怎么样了", "check_wish"), domain)
    assert len(messages) == 1
    text = messages[0]["text"]
    assert code in text and "生活用品" in text and "已提交，等待审核" in text
    assert "2026年12月1日" in text


async def test_check_wish_in_traditional(domain, session):
    await run(
        W.ActionSubmitWish(),
        tracker("/affirm", "affirm", state("wish_ready", wish_consent=False)),
        domain,
    )
    _, messages = await run(W.ActionCheckWish(), tracker("我的心願進度", "check_wish"), domain)
    text = messages[0]["text"]
    assert "當前狀態" in text and "已提交" in text and "审" not in text


async def test_no_wishes(domain):
    _, messages = await run(W.ActionCheckWish(), tracker("查心愿", "check_wish"), domain)
    assert responses(messages) == ["utter_no_wishes"]


# --------------------------------------------------------------------------- jobs


def job_turn(requested, text, intent="inform", slots=None):
    return tracker(
        text,
        intent,
        slots or {},
        form="job_seeker_form",
        requested_slot=requested,
        candidates={requested: text},
    )


async def test_job_form_answers(domain):
    events, _ = await run(
        J.ValidateJobSeekerForm(), job_turn("job_desired", '/inform{"choice":"any"}'), domain
    )
    assert slot_events(events)["job_desired"] == "any"
    events, _ = await run(J.ValidateJobSeekerForm(), job_turn("job_desired", "保安"), domain)
    assert slot_events(events)["job_desired"] == "保安"
    events, messages = await run(J.ValidateJobSeekerForm(), job_turn("job_skills", "x"), domain)
    assert slot_events(events)["job_skills"] is None and responses(messages) == [
        "utter_invalid_job_skills"
    ]


async def test_register_and_match_shows_real_jobs_never_demo_ones(domain, session):
    from bot.core import clock

    jobs.seed_jobs(session)  # demo (示例) rows, e.g. a 货车司机 that fits this seeker perfectly
    demo_ids = {j.id for j in jobs.list_jobs(session)}
    real = jobs.add_job(
        session,
        employer="青岛某物流公司",
        title="配送司机",
        requirements="持C1驾照",
        skills="驾驶、驾驶证",
        district="城阳区",
        pay=None,
        now=clock.now(),
    ).id
    session.commit()
    events, messages = await run(
        J.ActionRegisterJobSeeker(), tracker("13812345678", "inform", state("job_ready")), domain
    )
    assert responses(messages)[:2] == ["utter_job_registered", "utter_job_matches"]
    assert messages[0]["mobile"] == "138****5678"
    matches = [m for m in messages if m.get("response") == "utter_job_match"]
    assert [m["title"] for m in matches] == ["配送司机"]
    unknown = domain_text(domain, "utter_job_unknown")  # what an empty optional field reads
    assert matches[0]["district"] == "城阳区" and matches[0]["pay"] == unknown
    assert all("示例" not in str(m) for m in messages)
    payload = matches[0]["buttons"][0]["payload"]
    assert payload == f'/inform{{"job_id": "{real}"}}'
    seeker = jobs.get_seeker(session, "tg-4242")
    assert seeker.skills.startswith("会开车") and seeker.district == "城阳区"
    assert all(slot_events(events)[slot] is None for slot in J.JOB_SLOTS)
    session.rollback()

    t = tracker(payload, "inform", entities=[{"entity": "job_id", "value": str(real)}])
    _, messages = await run(J.ActionJobDetails(), t, domain)
    assert messages[0]["response"] == "utter_job_details" and messages[0]["title"] == "配送司机"
    assert messages[0]["requirements"] == "持C1驾照" and messages[0]["pay"] == unknown
    for demo_id in demo_ids:  # a typed demo id is "not found", never shown
        t = tracker(
            f'/inform{{"job_id": "{demo_id}"}}',
            "inform",
            entities=[{"entity": "job_id", "value": str(demo_id)}],
        )
        _, messages = await run(J.ActionJobDetails(), t, domain)
        assert responses(messages) == ["utter_job_not_found"]


async def test_no_jobs_no_match(domain, session):
    _, messages = await run(
        J.ActionRegisterJobSeeker(), tracker("x", "inform", state("job_ready")), domain
    )
    assert responses(messages) == ["utter_job_registered", "utter_job_no_match"]


async def test_a_typed_reply_to_the_job_offer_naming_work_starts_the_registration(domain):
    """ "开大车的也行 保安也中" after the offer got "没有完全理解"; the skill said before the offer
    ("会开车") is kept too, so the form asks neither again."""
    t = tracker("开大车的也行 保安也中", "nlu_fallback", history=["俺是退伍兵 想找个活干 会开车"])
    events, messages = await run(J.ActionJobOfferReply(), t, domain)
    values = slot_events(events)
    assert values == {
        "job_desired": "开大车的也行 保安也中",
        "job_skills": "俺是退伍兵 想找个活干 会开车",
    }
    assert [e["name"] for e in events if e["event"] == "followup"] == ["job_seeker_form"]
    assert responses(messages) == ["utter_job_registration_started"]


async def test_a_skill_typed_after_the_job_offer_is_the_skill(domain):
    t = tracker("俺会电焊 有电工证", "nlu_fallback", history=["退伍军人就业有啥政策"])
    events, _ = await run(J.ActionJobOfferReply(), t, domain)
    assert slot_events(events) == {"job_skills": "俺会电焊 有电工证"}


async def test_a_reply_to_the_job_offer_about_something_else_gets_the_fallback(domain):
    t = tracker("今天天气不错", "nlu_fallback", history=["退伍军人就业有啥政策"])
    events, messages = await run(J.ActionJobOfferReply(), t, domain)
    assert events == [{"event": "followup", "name": "action_default_fallback", "timestamp": None}]
    assert messages == []
