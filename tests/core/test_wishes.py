"""荣军微心愿: lifecycle, audit trail, moderation queries and anonymised public text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.core import wishes as W
from bot.core.wishes import InvalidTransition, InvalidWish
from tests.core.test_anonymise import NASTY

OWNER = "tg-1001"
MOD = "agent:moderator1"


def _submit(session, now, **overrides):
    data = {
        "sender_id": OWNER,
        "category": "生活用品",
        "description": "想要一台电暖器过冬",
        "budget": 300,
        "district": "李沧区",
        "mobile": "138 1234 5678",
        "consent_publish": True,
        "now": now,
    }
    data.update(overrides)
    return W.submit(session, **data)


def _to(session, now, status, **submit_kwargs):
    """A wish driven along the happy path to ``status`` (or to rejected / withdrawn)."""
    wish = _submit(session, now, **submit_kwargs)
    t = now
    steps = {
        W.SUBMITTED: [],
        W.APPROVED: ["approve"],
        W.PUBLISHED: ["approve", "publish"],
        W.CLAIMED: ["approve", "publish", "claim"],
        W.FULFILLED: ["approve", "publish", "claim", "fulfil"],
        W.REJECTED: ["reject"],
        W.WITHDRAWN: ["withdraw"],
    }[status]
    for step in steps:
        t += timedelta(minutes=5)
        if step == "approve":
            W.approve(session, wish.id, MOD, t)
        elif step == "publish":
            W.publish(session, wish.id, MOD, t)
        elif step == "claim":
            W.claim(session, wish.id, "示例商户", "merchant", MOD, t)
        elif step == "fulfil":
            W.fulfil(session, wish.id, MOD, "已送达", t)
        elif step == "reject":
            W.reject(session, wish.id, MOD, "内容不完整", t)
        elif step == "withdraw":
            W.withdraw(session, wish.id, OWNER, t)
    assert wish.status == status
    return wish


# --- submission -----------------------------------------------------------------------------------


def test_submit_creates_a_submitted_wish_with_code_and_event(session, now):
    wish = _submit(session, now)
    assert wish.status == W.SUBMITTED
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", wish.code)
    assert wish.mobile == "13812345678"
    assert wish.mobile_masked == "138****5678"
    assert wish.budget == 300
    assert wish.created_at == wish.updated_at == now
    [event] = wish.events
    assert (event.from_status, event.to_status, event.actor, event.at) == (
        None,
        W.SUBMITTED,
        OWNER,
        now,
    )
    assert "13812345678" not in repr(wish)


def test_codes_are_unique(session, now):
    codes = {_submit(session, now).code for _ in range(30)}
    assert len(codes) == 30


BAD_INPUT = [
    ({"category": "买房"}, "bad_category"),
    ({"description": "   "}, "empty_description"),
    ({"description": "长" * (W.MAX_DESCRIPTION + 1)}, "description_too_long"),
    ({"budget": -5}, "bad_budget"),
    ({"budget": "很多"}, "bad_budget"),
    ({"mobile": "12345"}, "bad_mobile"),
    ({"mobile": "12345678901"}, "bad_mobile"),
    ({"sender_id": " "}, "sender_required"),
]


def test_submit_rejects_bad_input(session, now):
    for overrides, code in BAD_INPUT:
        with pytest.raises(InvalidWish) as err:
            _submit(session, now, **overrides)
        assert err.value.code == code, overrides
    assert W.list_for_sender(session, OWNER) == []


def test_district_is_normalised(session, now):
    assert _submit(session, now, district="西海岸新区").district == "黄岛区"
    assert _submit(session, now, district="市南").district == "市南区"
    assert _submit(session, now, district="济南市").district is None


def test_budget_and_mobile_are_optional(session, now):
    wish = _submit(session, now, budget=None, mobile=None, district=None)
    assert wish.budget is None and wish.mobile is None and wish.mobile_masked is None


# --- lifecycle ------------------------------------------------------------------------------------


def test_full_lifecycle_records_every_transition(session, now):
    wish = _submit(session, now)
    W.approve(session, wish.id, MOD, now + timedelta(hours=1))
    W.publish(session, wish.code, MOD, now + timedelta(hours=2))  # by public code, too
    W.claim(session, wish.id, "爱心人士李女士", "donor", MOD, now + timedelta(hours=3))
    W.fulfil(session, wish.id, MOD, "电暖器已送到", now + timedelta(days=2))
    assert wish.status == W.FULFILLED
    assert wish.claimed_by == "爱心人士李女士" and wish.claimant_kind == "donor"
    assert wish.updated_at == now + timedelta(days=2)
    trail = [(e.from_status, e.to_status, e.actor, e.at) for e in wish.events]
    assert trail == [
        (None, W.SUBMITTED, OWNER, now),
        (W.SUBMITTED, W.APPROVED, MOD, now + timedelta(hours=1)),
        (W.APPROVED, W.PUBLISHED, MOD, now + timedelta(hours=2)),
        (W.PUBLISHED, W.CLAIMED, MOD, now + timedelta(hours=3)),
        (W.CLAIMED, W.FULFILLED, MOD, now + timedelta(days=2)),
    ]
    assert wish.events[-1].note == "电暖器已送到"
    assert wish.events[3].note == "爱心人士李女士"


def test_reject_requires_a_reason_and_stores_it(session, now):
    wish = _submit(session, now)
    for reason in ("", "   ", None):
        with pytest.raises(InvalidTransition) as err:
            W.reject(session, wish.id, MOD, reason, now)
        assert err.value.code == "reason_required"
    assert wish.status == W.SUBMITTED and len(wish.events) == 1
    W.reject(session, wish.id, MOD, "不属于微心愿范围", now + timedelta(hours=1))
    assert wish.status == W.REJECTED
    assert wish.reject_reason == "不属于微心愿范围"
    assert wish.events[-1].note == "不属于微心愿范围"


def test_publish_needs_consent(session, now):
    wish = _submit(session, now, consent_publish=False)
    W.approve(session, wish.id, MOD, now)
    with pytest.raises(InvalidTransition) as err:
        W.publish(session, wish.id, MOD, now)
    assert err.value.code == "no_consent"
    assert wish.status == W.APPROVED
    assert W.published_feed(session) == []


def test_wish_without_consent_can_be_arranged_privately(session, now):
    wish = _submit(session, now, consent_publish=False)
    W.approve(session, wish.id, MOD, now)
    W.claim(session, wish.id, "示例商户（荣军联盟）", "merchant", MOD, now + timedelta(hours=1))
    assert wish.status == W.CLAIMED and wish.claimant_kind == "merchant"
    W.fulfil(session, wish.id, MOD, None, now + timedelta(days=1))
    assert wish.status == W.FULFILLED


def test_wish_with_consent_must_be_published_before_it_is_claimed(session, now):
    wish = _to(session, now, W.APPROVED)
    with pytest.raises(InvalidTransition) as err:
        W.claim(session, wish.id, "某人", "donor", MOD, now)
    assert err.value.code == "wrong_status"


@pytest.mark.parametrize(
    "claimant, kind, code",
    [("", "donor", "claimant_required"), ("示例商户", "bank", "bad_claimant_kind")],
)
def test_claim_validates_claimant(session, now, claimant, kind, code):
    wish = _to(session, now, W.PUBLISHED)
    with pytest.raises(InvalidTransition) as err:
        W.claim(session, wish.id, claimant, kind, MOD, now)
    assert err.value.code == code
    assert wish.status == W.PUBLISHED


@pytest.mark.parametrize("start", [W.SUBMITTED, W.APPROVED])
def test_owner_can_withdraw_before_publication(session, now, start):
    wish = _to(session, now, start)
    W.withdraw(session, wish.code.lower(), OWNER, now + timedelta(hours=1))
    assert wish.status == W.WITHDRAWN
    assert (wish.events[-1].from_status, wish.events[-1].actor) == (start, OWNER)


def test_only_the_owner_can_withdraw(session, now):
    wish = _submit(session, now)
    with pytest.raises(InvalidTransition) as err:
        W.withdraw(session, wish.id, "tg-9999", now)
    assert err.value.code == "not_owner"
    assert wish.status == W.SUBMITTED


def test_actor_is_required(session, now):
    wish = _submit(session, now)
    with pytest.raises(InvalidTransition) as err:
        W.approve(session, wish.id, "  ", now)
    assert err.value.code == "actor_required"


def test_unknown_wish(session, now):
    for ref in (424242, "ZZZZZZ", "234567"):
        with pytest.raises(InvalidTransition) as err:
            W.approve(session, ref, MOD, now)
        assert err.value.code == "not_found"


ACTIONS = {
    "approve": lambda s, w, t: W.approve(s, w.id, MOD, t),
    "reject": lambda s, w, t: W.reject(s, w.id, MOD, "理由", t),
    "publish": lambda s, w, t: W.publish(s, w.id, MOD, t),
    "claim": lambda s, w, t: W.claim(s, w.id, "示例商户", "merchant", MOD, t),
    "fulfil": lambda s, w, t: W.fulfil(s, w.id, MOD, None, t),
    "withdraw": lambda s, w, t: W.withdraw(s, w.id, OWNER, t),
}
LEGAL = {
    (W.SUBMITTED, "approve"),
    (W.SUBMITTED, "reject"),
    (W.SUBMITTED, "withdraw"),
    (W.APPROVED, "publish"),
    (W.APPROVED, "withdraw"),
    (W.PUBLISHED, "claim"),
    (W.CLAIMED, "fulfil"),
}
ILLEGAL = sorted(
    (status, action) for status in W.STATUSES for action in ACTIONS if (status, action) not in LEGAL
)


def test_illegal_transitions_raise_and_change_nothing(session, now):
    assert len(ILLEGAL) == len(W.STATUSES) * len(ACTIONS) - len(LEGAL)
    for status, action in ILLEGAL:
        wish = _to(session, now, status)
        events = len(wish.events)
        with pytest.raises(InvalidTransition) as err:
            ACTIONS[action](session, wish, now + timedelta(days=1))
        assert err.value.code == "wrong_status", (status, action)
        assert err.value.status == status and err.value.wish_code == wish.code
        assert wish.status == status and len(wish.events) == events, (status, action)


def test_transition_table_matches_the_documented_lifecycle():
    legal = {(frm, action) for action, (froms, _) in W.TRANSITIONS.items() for frm in froms}
    assert legal == LEGAL


def test_a_wish_is_claimed_once_even_when_two_claims_race(make_session, now):
    import threading

    setup = make_session()
    wish = _to(setup, now, W.PUBLISHED)
    setup.commit()
    wish_id = wish.id
    setup.close()

    first, second = make_session(), make_session()
    W.claim(first, wish_id, "爱心人士甲", "donor", MOD, now)  # holds the row lock until commit
    outcome = {}

    def contender():
        try:
            W.claim(second, wish_id, "示例商户乙", "merchant", MOD, now)
            second.commit()
            outcome["result"] = "claimed"
        except InvalidTransition as exc:
            second.rollback()
            outcome["result"] = exc.code

    thread = threading.Thread(target=contender)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the lock
    first.commit()
    thread.join(30)
    assert outcome == {"result": "wrong_status"}
    check = make_session()
    final = check.get(W.Wish, wish_id)
    assert (final.status, final.claimed_by) == (W.CLAIMED, "爱心人士甲")
    assert [e.to_status for e in final.events].count(W.CLAIMED) == 1
    for s in (first, second, check):
        s.close()


def test_a_stale_copy_in_the_session_does_not_allow_a_second_claim(make_session, now):
    setup = make_session()
    if setup.bind.dialect.name == "sqlite":
        setup.close()
        pytest.skip(
            "SQLite serialises whole transactions (BEGIN IMMEDIATE); no stale reads to test"
        )
    wish = _to(setup, now, W.PUBLISHED)
    setup.commit()
    setup.close()
    second = make_session()
    stale = second.get(W.Wish, wish.id)
    assert stale.status == W.PUBLISHED  # loaded, transaction still open
    first = make_session()
    W.claim(first, wish.id, "爱心人士甲", "donor", MOD, now)
    first.commit()
    with pytest.raises(InvalidTransition) as err:
        W.claim(second, wish.id, "示例商户乙", "merchant", MOD, now)
    assert err.value.code == "wrong_status" and stale.claimed_by == "爱心人士甲"
    for s in (first, second):
        s.rollback()
        s.close()


# --- queries --------------------------------------------------------------------------------------


def test_list_for_sender_has_history_newest_first(session, now):
    first = _to(session, now, W.PUBLISHED)
    second = _submit(
        session, now + timedelta(days=1), category="陪伴", description="希望有人周末陪我下棋"
    )
    _submit(session, now, sender_id="tg-2002")
    listed = W.list_for_sender(session, OWNER)
    assert [w["code"] for w in listed] == [second.code, first.code]
    assert [h["to_status"] for h in listed[1]["history"]] == [W.SUBMITTED, W.APPROVED, W.PUBLISHED]
    assert listed[1]["history"][1]["actor"] == MOD
    assert listed[0]["mobile_masked"] == "138****5678"
    assert "13812345678" not in str(listed)
    assert W.list_for_sender(session, "tg-none") == []


def test_get_by_code_is_forgiving(session, now):
    wish = _submit(session, now)
    assert W.get_by_code(session, wish.code) is wish
    assert W.get_by_code(session, f" {wish.code.lower()} ") is wish
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in wish.code)
    assert W.get_by_code(session, fullwidth) is wish
    assert W.get_by_code(session, "") is None
    assert W.get_by_code(session, "AAAAAA" if wish.code != "AAAAAA" else "BBBBBB") is None


def test_list_by_status_is_a_fifo_queue(session, now):
    a = _submit(session, now)
    b = _submit(session, now + timedelta(minutes=1))
    c = _to(session, now, W.APPROVED)
    assert [w.id for w in W.list_by_status(session, W.SUBMITTED)] == [a.id, b.id]
    assert [w.id for w in W.list_by_status(session, W.APPROVED)] == [c.id]
    assert len(W.list_by_status(session, W.SUBMITTED, limit=1)) == 1
    with pytest.raises(ValueError):
        W.list_by_status(session, "lost")


def test_published_feed_shows_only_public_fields(session, now):
    published = _to(
        session,
        now,
        W.PUBLISHED,
        description="我叫王建国，电话13812345678，想要一台轮椅",
        category="助医",
        district="市北区",
        budget=800,
    )
    _to(session, now, W.APPROVED)
    _to(session, now, W.CLAIMED)
    feed = W.published_feed(session)
    assert feed == [
        {
            "public_text": published.public_text,
            "district": "市北区",
            "category": "助医",
            "budget": 800,
        }
    ]
    text = str(feed)
    for secret in ("王建国", "13812345678", "5678", OWNER, published.code):
        assert secret not in text
    assert W.published_feed(session, district="李沧区") == []
    assert W.published_feed(session, category="助医") == feed


def test_moderator_may_reword_public_text_but_it_is_anonymised_again(session, now):
    wish = _submit(session, now)
    W.approve(session, wish.id, MOD, now, public_text="老兵张秀英（电话 139-8765-4321）想要电暖器")
    assert "张秀英" not in wish.public_text and "4321" not in wish.public_text
    assert "电暖器" in wish.public_text


def test_moderator_can_undo_a_false_name_guess(session, now):
    wish = _submit(session, now, description="想要一罐金银花茶，电话13812345678")
    assert "金银花" not in wish.public_text  # jieba tags 金银花 as a name: over-masked
    W.approve(
        session,
        wish.id,
        MOD,
        now,
        public_text="想要一罐金银花茶，我叫王建国，电话13812345678",
        guess_names=False,
    )
    assert (
        wish.public_text == "想要一罐金银花茶，我叫王某，电话***"
    )  # numbers and cued names still go


# --- public text (the anonymisation rules are in test_anonymise.py) ---------------------------


def test_submit_stores_the_original_and_publishes_the_anonymised_text(session, now):
    for description, _, _ in NASTY:
        wish = _submit(session, now, description=description)
        assert wish.description == " ".join(description.split())  # moderators keep the original
        assert wish.public_text == W.anonymise(description)


def test_public_text_is_bounded():
    assert len(W.anonymise("想要" * 400)) <= W.MAX_PUBLIC_TEXT


# --- migration 0002_wishes_jobs -------------------------------------------------------------------

MY_TABLES = {"wishes", "wish_events", "job_seekers", "jobs"}


def _diffs_for_my_tables(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.core import jobs  # noqa: F401  (registers the job tables)
    from bot.core.db import Base

    def table_of(diff):
        if isinstance(diff, list):  # modify_* diffs come grouped per column
            diff = diff[0]
        kind = diff[0]
        if kind in ("add_table", "remove_table"):
            return diff[1].name
        if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
            return diff[2]
        if kind in (
            "add_index",
            "remove_index",
            "add_constraint",
            "remove_constraint",
            "add_fk",
            "remove_fk",
        ):
            return diff[1].table.name
        return None

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if table_of(d) in MY_TABLES]


def test_migration_creates_the_same_schema_as_the_models(engine_url, engine, now):
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from bot.core import jobs, migrate

    assert {d[1].name for d in _diffs_for_my_tables(engine) if d[0] == "add_table"} == MY_TABLES
    migrate.upgrade(engine_url, "0002_wishes_jobs")
    assert set(inspect(engine).get_table_names()) >= MY_TABLES
    migrate.upgrade(engine_url)  # 0007 seals the mobile, name and description columns
    assert _diffs_for_my_tables(engine) == []
    with Session(engine, future=True) as s:  # the migrated schema works for the services
        wish = _to(s, now, W.CLAIMED)
        jobs.seed_jobs(s, now=now)
        jobs.register_seeker(s, sender_id=OWNER, skills="开叉车", district="城阳区", now=now)
        s.commit()
        assert W.get_by_code(s, wish.code).status == W.CLAIMED
        assert jobs.match_jobs(s, jobs.get_seeker(s, OWNER))[0].job.title == "叉车工（示例）"
    command.downgrade(migrate.alembic_config(engine_url), "0001_core")
    assert not (MY_TABLES & set(inspect(engine).get_table_names()))
