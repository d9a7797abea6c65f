"""Round trips through the real Rasa server (REST channel) and the real action server."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.integration.rasa_client import RasaClient, texts
from tests.integration.waiting import eventually

pytestmark = pytest.mark.stack


@pytest.fixture
def rasa(stack) -> RasaClient:
    return RasaClient(f"http://127.0.0.1:{stack.rasa_port}", stack.rasa_token)


def open_handoffs(stack_env, sender: str):
    engine = create_engine(stack_env["DATABASE_URL"], future=True)
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT reason, status FROM handoff_requests WHERE sender_id = :s"), {"s": sender}
        ).all()


def test_first_contact_greeting_says_bot_privacy_and_emergency_numbers(rasa, sender_id):
    reply = texts(rasa.say(sender_id, "您好"))
    assert "智能助手" in reply and "不是真人" in reply
    assert "身份证号" in reply
    for number in ("110", "120", "119", "12356"):
        assert number in reply


def test_traditional_question_gets_a_traditional_answer(rasa, sender_id):
    replies = rasa.say(sender_id, "榮軍卡怎麼辦理？")
    reply = texts(replies)
    assert "榮軍卡" in reply and "荣军卡" not in reply
    assert "以官方最新公佈為準" in reply


def test_simplified_question_gets_a_simplified_answer(rasa, sender_id):
    reply = texts(rasa.say(sender_id, "荣军卡怎么办理？"))
    assert "荣军卡" in reply and "以官方最新公布为准" in reply


def test_traditional_parses_exactly_as_simplified(rasa):
    for simplified, traditional in [
        ("荣军保怎么报销", "榮軍保怎麼報銷"),
        ("我想预约报到", "我想預約報到"),
        ("服务中心几点下班", "服務中心幾點下班"),
    ]:
        a, b = rasa.parse(simplified), rasa.parse(traditional)
        assert a["intent"] == b["intent"]
        assert a["entities"] == b["entities"]


def test_crisis_answers_with_hotlines_and_flags_a_human(rasa, sender_id, stack_env):
    reply = texts(rasa.say(sender_id, "我真的不想活了"))
    for number in ("12356", "110", "120", "119"):
        assert number in reply
    # recorded right after the answer, off the reply path
    handoffs = eventually(lambda: open_handoffs(stack_env, sender_id), bool)
    assert ("crisis", "waiting") in handoffs


def test_request_human_is_acknowledged_and_recorded(rasa, sender_id, stack_env):
    reply = texts(rasa.say(sender_id, "我要人工"))
    assert "人工" in reply
    assert ("human", "waiting") in open_handoffs(stack_env, sender_id)
    again = texts(rasa.say(sender_id, "转人工"))
    assert "已经登记" in again
    assert len(open_handoffs(stack_env, sender_id)) == 1


def test_fallback_twice_offers_a_human_and_queues_the_conversation(rasa, sender_id, stack_env):
    # Which real messages fall below the threshold depends on the model; the wiring must not.
    first = texts(rasa.say(sender_id, "/nlu_fallback"))
    assert "没有完全理解" in first
    second = texts(rasa.say(sender_id, "/nlu_fallback"))
    assert "转人工" in second
    assert ("fallback", "waiting") in open_handoffs(stack_env, sender_id)
