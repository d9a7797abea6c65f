from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlg import ScriptAwareNLG

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
responses:
  utter_card:
    - text: 荣军卡在区退役军人服务中心办理
      buttons:
        - title: 预约报到
          payload: /book_appointment
"""
)


def tracker_with(*texts: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("u1", [UserUttered(text) for text in texts])


async def generate(*texts: str):
    return await ScriptAwareNLG(domain=DOMAIN).generate("utter_card", tracker_with(*texts), "rest")


async def test_simplified_user_reads_simplified():
    reply = await generate("荣军卡怎么办")
    assert reply["text"] == "荣军卡在区退役军人服务中心办理"


async def test_traditional_user_reads_traditional_titles_but_same_payloads():
    reply = await generate("榮軍卡怎麼辦")
    assert reply["text"] == "榮軍卡在區退役軍人服務中心辦理"
    assert reply["buttons"] == [{"title": "預約報到", "payload": "/book_appointment"}]


async def test_neutral_message_keeps_the_last_decisive_script():
    reply = await generate("榮軍卡怎麼辦", "好的")
    assert reply["text"].startswith("榮軍卡")
    reply = await generate("榮軍卡怎麼辦", "我想预约报到", "好的")
    assert reply["text"].startswith("荣军卡")


async def test_entity_payloads_in_domain_buttons_come_out_as_rasa_reads_them():
    # Domain payloads double their braces so slot interpolation leaves them alone.
    domain = Domain.from_yaml(
        """
version: "3.1"
responses:
  utter_pick:
    - text: 您住哪个区？
      buttons:
        - {title: 市南区, payload: '/inform{{"district":"市南区"}}'}
"""
    )
    # As in the server: the tracker carries the domain's slots (Rasa always adds some).
    tracker = DialogueStateTracker.from_events("u1", [UserUttered("我想预约")], slots=domain.slots)
    assert tracker.current_slot_values()
    reply = await ScriptAwareNLG(domain=domain).generate("utter_pick", tracker, "rest")
    assert reply["buttons"] == [{"title": "市南区", "payload": '/inform{"district":"市南区"}'}]
