"""Whole form conversations through the real Rasa server (REST) and the real action server.

Needs a trained model in models/ (``make train``). Answers that are buttons in the chat are sent
as their payloads, so the conversations do not depend on how well the NLU reads free text; the
typed answers (a time, a name, a phone number) go through the NLU as a user's would.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.core import people
from tests.integration.rasa_client import RasaClient, texts
from tests.integration.waiting import eventually

pytestmark = pytest.mark.stack


@pytest.fixture
def rasa(stack) -> RasaClient:
    return RasaClient(f"http://127.0.0.1:{stack.rasa_port}", stack.rasa_token)


def rows(stack_env, sql: str, **params) -> list[Any]:
    engine = create_engine(stack_env["DATABASE_URL"], future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).all()
    finally:
        engine.dispose()


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons") or []]


def valid_id() -> str:
    first17 = "37020219800101" + f"{uuid.uuid4().int % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def active_loop(rasa: RasaClient, sender: str):
    return (rasa.tracker(sender).get("active_loop") or {}).get("name")


def test_booking_end_to_end_with_a_digression(rasa, stack_env):
    sender = f"tg-{uuid.uuid4().hex[:10]}"  # a push channel, so a reminder is queued
    reply = rasa.say(sender, "/book_appointment")
    assert '/inform{"veteran_category":"退役士兵"}' in payloads(reply)

    reply = rasa.say(sender, '/inform{"veteran_category":"退役士兵"}')
    assert '/inform{"district":"市南区"}' in payloads(reply)

    # a programme question in the middle: answered, then the same question again
    reply = rasa.say(sender, '/ask_benefit{"benefit":"荣军卡"}')
    assert "荣军卡" in texts(reply) and "以官方最新公布为准" in texts(reply)
    assert '/inform{"district":"市南区"}' in payloads(reply)
    assert active_loop(rasa, sender) == "appointment_form"

    reply = rasa.say(sender, '/inform{"district":"市南区"}')
    assert "办理时间" in texts(reply)

    reply = rasa.say(sender, "下周三上午")
    offered = [p for p in payloads(reply) if "time_choice" in p]
    if offered:  # a holiday or a full morning: take the nearest offered slot
        reply = rasa.say(sender, offered[0])
    assert "姓名" in texts(reply), texts(reply)

    reply = rasa.say(sender, "王建国")
    assert "手机号" in texts(reply), texts(reply)
    reply = rasa.say(sender, "12345")
    assert "格式不对" in texts(reply)
    reply = rasa.say(sender, "13812345678")
    assert "身份证" in texts(reply)
    id_number = valid_id()
    reply = rasa.say(sender, id_number)
    assert "退出现役" in texts(reply), texts(reply)
    reply = rasa.say(sender, '/inform{"choice":"unknown"}')
    summary = texts(reply)
    assert "请核对预约信息" in summary and people.mask_id(id_number) in summary
    assert id_number not in summary and "138****5678" in summary

    reply = rasa.say(sender, "/affirm")
    confirmation = texts(reply)
    assert "预约成功" in confirmation and "退役证明" in confirmation and "提醒" in confirmation
    code = confirmation.split("确认码：")[1][:6]

    booked = rows(
        stack_env,
        "SELECT status, sender_id, id_masked, id_cipher, id FROM appointments WHERE code = :c",
        c=code,
    )
    assert len(booked) == 1 and booked[0].status == "booked" and booked[0].sender_id == sender
    assert id_number not in booked[0].id_cipher
    reminder = rows(
        stack_env,
        "SELECT kind, recipient, status FROM outbox_messages WHERE dedupe_key = :k",
        k=f"appointment:{booked[0].id}:reminder",
    )
    assert reminder == [("reminder", sender, "pending")]

    # the personal data is gone from the conversation's slots
    slots = rasa.tracker(sender)["slots"]
    assert slots["id_number"] is None and slots["mobile"] is None and slots["person_name"] is None
    assert id_number not in json.dumps(slots, ensure_ascii=False)

    # and the same chat can look it up
    reply = rasa.say(sender, "/check_appointment")
    assert code in texts(reply)


def booking_at_the_id_question(rasa: RasaClient, sender: str) -> None:
    reply = rasa.say(sender, "/book_appointment")
    rasa.say(sender, '/inform{"veteran_category":"退役士兵"}')
    reply = rasa.say(sender, '/inform{"district":"市南区"}')
    reply = rasa.say(sender, "下周三上午")
    offered = [p for p in payloads(reply) if "time_choice" in p]
    if offered:
        rasa.say(sender, offered[0])
    rasa.say(sender, "王建国")
    reply = rasa.say(sender, "13812345678")
    assert "身份证" in texts(reply), texts(reply)


def test_a_question_naming_another_category_mid_form_is_answered_and_changes_nothing(rasa):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    booking_at_the_id_question(rasa, sender)
    # Rasa's entity mapping used to fill the category from the question, so the form did not
    # reject it: the question went unanswered and the booking's category silently changed.
    reply = texts(rasa.say(sender, '/ask_entitlements{"veteran_category":"复员军人"}'))
    assert "以官方最新公布为准" in reply and reply.rstrip().endswith("确认时只显示部分号码。"), (
        reply
    )
    slots = rasa.tracker(sender)["slots"]
    assert slots["veteran_category"] == "退役士兵"
    assert active_loop(rasa, sender) == "appointment_form"


def test_a_category_corrected_mid_form_is_acknowledged(rasa):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    booking_at_the_id_question(rasa, sender)
    reply = texts(rasa.say(sender, "不对 俺是复员军人"))
    assert "已经改过来了" in reply and "身份证" in reply, reply
    assert rasa.tracker(sender)["slots"]["veteran_category"] == "复员军人"


def test_asked_again_mid_form_gets_sorry_and_the_recap_and_keeps_the_booking(rasa):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    booking_at_the_id_question(rasa, sender)
    slots_before = rasa.tracker(sender)["slots"]
    # read as cancel (0.58) before there was an intent for it: the form stopped, all lost
    reply = texts(rasa.say(sender, "怎么又问 刚才不是填了吗"))
    assert "不好意思" in reply and "王建国" in reply and "138****5678" in reply, reply
    assert reply.rstrip().endswith("确认时只显示部分号码。"), reply  # then the ID question
    assert active_loop(rasa, sender) == "appointment_form"
    slots = rasa.tracker(sender)["slots"]
    assert {k: slots[k] for k in ("person_name", "mobile", "appointment_time")} == {
        k: slots_before[k] for k in ("person_name", "mobile", "appointment_time")
    }
    assert "退出现役" in texts(rasa.say(sender, valid_id()))


def test_a_change_typed_after_no_at_the_summary_shows_the_summary_again(rasa):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    booking_at_the_id_question(rasa, sender)
    rasa.say(sender, valid_id())
    assert "请核对预约信息" in texts(rasa.say(sender, '/inform{"choice":"unknown"}'))
    assert "要改哪一项" in texts(rasa.say(sender, "不对"))
    # the new phone was kept but "要改哪一项？" came again: rasa_sdk dropped the form's
    # appointment_change reset because it came from extraction
    reply = texts(rasa.say(sender, "手机号改成13812349191"))
    assert "请核对预约信息" in reply and "9191" in reply and "要改哪一项" not in reply, reply


def test_a_question_naming_a_district_mid_wish_keeps_the_wish_district(rasa):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    rasa.say(sender, "/submit_wish")
    rasa.say(sender, '/inform{"wish_category":"助医"}')
    slots_before = rasa.tracker(sender)["slots"]
    reply = texts(rasa.say(sender, '/ask_contact{"district":"城阳区"}'))
    assert "城阳" in reply, reply
    slots = rasa.tracker(sender)["slots"]
    assert slots["district"] == slots_before["district"]
    assert slots["requested_slot"] == slots_before["requested_slot"]
    assert active_loop(rasa, sender) == "wish_form"


def test_crisis_mid_form_stops_the_form(rasa, stack_env):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    rasa.say(sender, "/book_appointment")
    assert active_loop(rasa, sender) == "appointment_form"
    reply = texts(rasa.say(sender, "我真的不想活了"))
    for number in ("12356", "110", "120"):
        assert number in reply
    assert active_loop(rasa, sender) is None
    handoffs = eventually(  # recorded right after the answer, off the reply path
        lambda: rows(
            stack_env, "SELECT reason FROM handoff_requests WHERE sender_id = :s", s=sender
        ),
        bool,
    )
    assert handoffs == [("crisis",)]


def test_cancel_mid_form_saves_nothing(rasa, stack_env):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    rasa.say(sender, "/submit_wish")
    rasa.say(sender, '/inform{"wish_category":"助医"}')
    reply = texts(rasa.say(sender, "/cancel"))
    assert "已停止" in reply
    assert active_loop(rasa, sender) is None
    assert rows(stack_env, "SELECT id FROM wishes WHERE sender_id = :s", s=sender) == []


def test_wish_submission(rasa, stack_env):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    reply = rasa.say(sender, "/submit_wish")
    assert '/inform{"wish_category":"生活用品"}' in payloads(reply)
    rasa.say(sender, '/inform{"wish_category":"生活用品"}')
    reply = texts(rasa.say(sender, "想要一台助听器，耳朵背了"))
    assert "多少钱" in reply, reply
    rasa.say(sender, '/inform{"choice":"unknown"}')
    rasa.say(sender, '/inform{"district":"李沧区"}')
    reply = texts(rasa.say(sender, "13812345678"))
    assert "公开" in reply, reply
    reply = texts(rasa.say(sender, "/affirm"))
    assert "心愿已提交" in reply
    code = reply.split("编号：")[1][:6]
    wish = rows(
        stack_env, "SELECT status, consent_publish, budget FROM wishes WHERE code = :c", c=code
    )
    assert len(wish) == 1 and wish[0].status == "submitted" and wish[0].budget is None
    assert code in texts(rasa.say(sender, "/check_wish"))


ANSWERS = (  # the finder's questions (text fragments) and how this test answers them
    ("哪一类", '/inform{"veteran_category":"退役士兵"}'),
    ("户口", "/affirm"),
    ("多大年纪", "68"),
    ("残疾等级", '/inform{"choice":"unknown"}'),
    ("生活是否困难", "/deny"),
)


def test_entitlement_finder(rasa):
    sender = f"web-{uuid.uuid4().hex[:10]}"
    reply = rasa.say(sender, "/ask_entitlements")
    asked = []
    for _ in range(len(ANSWERS) + 1):
        said = texts(reply)
        if "以官方最新公布为准" in said:
            break
        answer = next((a for fragment, a in ANSWERS if fragment in said), None)
        assert answer is not None, said
        asked.append(answer)
        reply = rasa.say(sender, answer)
    result = texts(reply)
    assert "可以享受" in result and "以官方最新公布为准" in result
    assert len(asked) == len(set(asked))  # no question twice
    assert '/ask_benefit{"benefit": "荣军卡"}' in payloads(reply)
    # asking again: everything is known, the result comes at once
    again = rasa.say(sender, "/ask_entitlements")
    assert "可以享受" in texts(again)
