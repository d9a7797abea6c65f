import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core import crisis
from bot.nlu.crisis_gate import CrisisGate, crisis_phrase

CRISIS = [
    ("我真的不想活了", crisis.MIND),
    ("活着真没意思，想一了百了", crisis.MIND),
    ("安眠药我攒了一瓶", crisis.MIND),
    ("我不想再活下去了", crisis.MIND),
    ("真的不愿再活着了", crisis.MIND),
    ("最近老想着死了算了", crisis.MIND),
    ("热得要死，我真不想活了", crisis.MIND),  # an idiom does not hide a real phrase
    ("我爸摔倒了起不来", crisis.MEDICAL),
    ("老伴晕倒了叫不醒", crisis.MEDICAL),
    ("胸口疼得厉害喘不上气", crisis.MEDICAL),
    ("家里着火了", crisis.DANGER),
    ("邻居拿着刀在楼道里闹", crisis.DANGER),
    ("他喊着要砍人", crisis.DANGER),
    ("他打我 还拿刀比划", crisis.DANGER),
    ("我不想活著了", crisis.MIND),  # Traditional
    ("救命", crisis.DANGER),
]
NOT_CRISIS = [
    "荣军卡怎么办理",
    "抚恤金标准是多少",
    "我想预约报到",
    "单位不落实待遇怎么办，我很生气",
    "烈士遗属有什么优待",
    "活动中心几点开门",
    # idioms that only sound like a crisis
    "热得要死 今天多少度",
    "最近忙得要死",
    "笑死我了",
    "累死了 跑了好几趟",
    "在家闲得要死 有啥活动",
    "饿得快要死了 先吃饭",
    "想死你了老战友",
    "手机卡死了",
    "冷得要死 暖气啥时候来",
    "他打我电话我没接着",  # a phone call, not a blow
]


@pytest.mark.parametrize(("text", "kind"), CRISIS)
def test_crisis_phrases_are_found_with_their_kind(text, kind):
    assert crisis_phrase(text)
    assert crisis.find(text).kind == kind


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_ordinary_messages_and_idioms_are_not_crisis(text):
    assert crisis_phrase(text) is None


def test_gate_overrides_the_classifier_keeps_the_ranking_and_names_the_kind():
    message = Message(data={TEXT: "我真的不想活了"})
    message.set(INTENT, {"name": "out_of_scope", "confidence": 0.8})
    message.set(INTENT_RANKING_KEY, [{"name": "out_of_scope", "confidence": 0.8}])
    CrisisGate().process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert [item["name"] for item in message.get(INTENT_RANKING_KEY)] == ["crisis", "out_of_scope"]
    assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [("crisis_kind", "mind")]


def test_gate_leaves_other_messages_alone_even_a_classifier_only_crisis():
    message = Message(data={TEXT: "荣军卡怎么办理"})
    message.set(INTENT, {"name": "ask_benefit", "confidence": 0.9})
    CrisisGate().process([message])
    assert message.get(INTENT)["name"] == "ask_benefit"
    guess = Message(data={TEXT: "怎么又问一遍"})
    guess.set(INTENT, {"name": "crisis", "confidence": 0.7})
    CrisisGate().process([guess])
    assert guess.get(INTENT)["name"] == "crisis" and not guess.get(ENTITIES)
