"""What a message gets after a crisis answer or a check question (bot/core/crisis.py)."""

import pytest

from bot.core import crisis
from bot.core.crisis import BETTER, CHECK, COMFORT, ESCALATE, RESUME, SUPPORT, next_step


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("check_wish", "就是心里难受，没人管"),  # a misread message is still support
        ("ask_entitlements", "老伴走了以后一个人过，孩子也不回来"),
        ("ask_rights_protection", "已经打了120，现在咋办"),
        ("out_of_scope", "他还有气 就是不说话"),
        ("affirm", "嗯"),
        ("inform", "报警了 警察还没来"),
        ("ask_benefit", "荣军卡在哪办 唉 我心里还是难受"),  # distress wins over the topic
        ("crisis", "没人在乎俺"),
    ],
)
def test_after_a_crisis_everything_but_a_clear_topic_change_gets_support(intent, text):
    assert next_step(SUPPORT, intent, text) == COMFORT


@pytest.mark.parametrize(
    ("intent", "text", "entity"),
    [
        ("ask_benefit", "那我换个事问问，荣军卡在哪办", True),
        ("book_appointment", "对了 另外想约个报到", False),
        ("ask_benefit", "荣军保是管什么的", True),  # a named programme is a topic of its own
    ],
)
def test_a_clear_change_of_topic_goes_back_to_the_normal_flow(intent, text, entity):
    assert next_step(SUPPORT, intent, text, topic_entity=entity) == RESUME


def test_a_service_guess_without_a_marker_is_not_a_topic_change():
    assert next_step(SUPPORT, "ask_allowance", "我一个人咋过啊") == COMFORT
    assert next_step(SUPPORT, "ask_allowance", "补助咋领") == COMFORT


def test_feeling_better_gets_a_warm_reply_and_a_new_crisis_phrase_escalates():
    assert next_step(SUPPORT, "thank", "跟你说说好多了，谢谢你") == BETTER
    assert next_step(SUPPORT, "thank", "谢谢 可我还是难受") == COMFORT
    assert next_step(SUPPORT, "crisis", "我还是想死", gate_match=True) == ESCALATE


@pytest.mark.parametrize(
    ("intent", "text", "gate"),
    [
        ("affirm", "是的", False),
        ("inform", "是", False),
        ("crisis", "心里很难受", False),
        ("out_of_scope", "就是心里难受 撑不住", False),
        ("crisis", "不想活了", True),
    ],
)
def test_a_yes_or_distress_after_the_check_question_escalates(intent, text, gate):
    assert next_step(CHECK, intent, text, gate_match=gate) == ESCALATE


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("deny", "没事 就是报到的事太麻烦"),
        ("deny", "不是"),
        ("ask_reporting_process", "没事 报到要带啥材料"),
        ("inform", "370202198001011234"),
    ],
)
def test_a_no_or_another_subject_after_the_check_question_resumes(intent, text):
    assert next_step(CHECK, intent, text) == RESUME


def test_traditional_text_is_read_like_simplified():
    assert next_step(SUPPORT, "out_of_scope", "心裡就是難受") == COMFORT
    assert crisis.find("活著沒意思，想一了百了").kind == crisis.MIND
