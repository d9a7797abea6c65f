import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.crisis_gate import CrisisGate, crisis_phrase

CRISIS = [
    "我真的不想活了",
    "活着真没意思，想一了百了",
    "安眠药我攒了一瓶",
    "我爸摔倒了起不来",
    "老伴晕倒了叫不醒",
    "胸口疼得厉害喘不上气",
    "家里着火了",
    "我不想活著了",  # Traditional
    "救命",
]
NOT_CRISIS = [
    "荣军卡怎么办理",
    "抚恤金标准是多少",
    "我想预约报到",
    "单位不落实待遇怎么办，我很生气",
    "烈士遗属有什么优待",
    "活动中心几点开门",
]


@pytest.mark.parametrize("text", CRISIS)
def test_crisis_phrases_are_found(text):
    assert crisis_phrase(text)


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_ordinary_questions_are_not_crisis(text):
    assert crisis_phrase(text) is None


def test_gate_overrides_the_classifier_and_keeps_the_ranking():
    message = Message(data={TEXT: "我真的不想活了"})
    message.set(INTENT, {"name": "out_of_scope", "confidence": 0.8})
    message.set(INTENT_RANKING_KEY, [{"name": "out_of_scope", "confidence": 0.8}])
    CrisisGate().process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert [item["name"] for item in message.get(INTENT_RANKING_KEY)] == ["crisis", "out_of_scope"]


def test_gate_leaves_other_messages_alone():
    message = Message(data={TEXT: "荣军卡怎么办理"})
    message.set(INTENT, {"name": "ask_benefit", "confidence": 0.9})
    CrisisGate().process([message])
    assert message.get(INTENT)["name"] == "ask_benefit"
