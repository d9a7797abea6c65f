from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normaliser import ChineseNormaliser, classifier_text


def normalised(text: str, **data) -> str:
    message = Message(data={TEXT: text, **data})
    ChineseNormaliser().process([message])
    return message.get(TEXT)


def test_traditional_becomes_simplified():
    assert normalised("榮軍卡怎麼辦理") == "荣军卡怎么办理"
    assert normalised("我想預約報到，帶哪些材料？") == normalised("我想预约报到，带哪些材料？")


def test_full_width_becomes_half_width_and_whitespace_is_tidied():
    assert normalised("  １２月５號　９點半  ") == "12月5号 9点半"
    assert normalised("ＡＢＣ\t荣军卡\n\n怎么办") == "ABC 荣军卡 怎么办"


def test_simplified_text_is_unchanged():
    assert normalised("荣军保怎么报销") == "荣军保怎么报销"


def test_training_examples_keep_entity_offsets():
    text = "住在　西海岸新區，想問榮軍卡"
    entities = [
        {"start": 3, "end": 8, "value": "黄岛区", "entity": "district"},
        {"start": 11, "end": 14, "value": "荣军卡", "entity": "benefit"},
    ]
    example = Message(data={TEXT: text, "intent": "ask_benefit", "entities": entities})
    ChineseNormaliser().process_training_data(TrainingData([example]))
    converted = example.get(TEXT)
    assert converted[3:8] == "西海岸新区"
    assert converted[11:14] == "荣军卡"
    assert len(converted) == len(text)


def test_the_classifier_sees_long_numbers_as_zeros_and_keeps_short_ones():
    assert classifier_text("身份证37021419530315123x 电话13953221187") == (
        "身份证00000000000000000x 电话00000000000"
    )
    assert classifier_text("12月5号9点半 300元 2026年") == "12月5号9点半 300元 2026年"
