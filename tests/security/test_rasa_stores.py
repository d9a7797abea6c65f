"""Finding 3: personal data in Rasa's tracker store and event broker.

Before: the SQL tracker store and SQL event broker wrote the user's raw text and the
``person_name``/``mobile`` slot events as typed (this test's grep finds all three values in
``rasa_tracker.db`` and ``rasa_events.db`` when ``PrivateSQLTrackerStore`` is replaced by
Rasa's ``SQLTrackerStore``, see ``test_plain_rasa_store_would_leak``).
"""

from __future__ import annotations

import json

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core import people
from bot.rasa_stores import SEALED, PrivateSQLTrackerStore, known_values, protect, reveal
from tests.security.conftest import leaks

NAME, MOBILE, ID_NUMBER = "王建国", "13812345678", "370202198001011232"
DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "slots": {
            name: {
                "type": "text",
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            }
            for name in ("person_name", "mobile", "id_number", "wish_text")
        },
    }
)


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for event in (
        ActionExecuted("action_listen"),
        UserUttered(
            f"我叫{NAME}，电话 {MOBILE}，身份证{ID_NUMBER}",
            parse_data={
                "intent": {"name": "inform", "confidence": 1.0},
                "entities": [{"entity": "mobile", "value": MOBILE}],
            },
        ),
        SlotSet("person_name", NAME),
        SlotSet("mobile", MOBILE),
        SlotSet("id_number", people.encrypt_id(ID_NUMBER)),
        BotUttered(f"{NAME}您好，手机 {people.mask_phone(MOBILE)}"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)
    return tracker


def stores(folder, store_class=PrivateSQLTrackerStore):
    broker = SQLEventBroker(db=str(folder / "rasa_events.db"))
    store = store_class(domain=DOMAIN, db=str(folder / "rasa_tracker.db"), event_broker=broker)
    return store, broker


async def test_nothing_personal_reaches_the_files_and_forms_still_work(tmp_path):
    store, broker = stores(tmp_path)
    await store.save(conversation("web-1"))
    store.flush_events()
    store.engine.dispose()
    broker.engine.dispose()

    assert leaks(tmp_path, [NAME, MOBILE, ID_NUMBER]) == []

    again, _ = stores(tmp_path)
    tracker = await again.retrieve("web-1")
    # the next turn's form still has the values …
    assert tracker.get_slot("person_name") == NAME and tracker.get_slot("mobile") == MOBILE
    assert people.decrypt_id(tracker.get_slot("id_number")) == ID_NUMBER
    # … but what the user typed is stored masked
    assert tracker.latest_message.text == "我叫王*国，电话 138****5678，身份证3702**********1232"
    assert [e for e in tracker.events if isinstance(e, BotUttered)][0].text.startswith("王*国您好")


async def test_plain_rasa_store_would_leak(tmp_path):
    """The same conversation through Rasa's own store: the grep above is able to fail."""
    store, broker = stores(tmp_path, SQLTrackerStore)
    await store.save(conversation("web-1"))
    found = set(leaks(tmp_path, [NAME, MOBILE, ID_NUMBER]))
    assert {
        f"{db}: {value}"
        for db in ("rasa_events.db", "rasa_tracker.db")
        for value in (NAME, MOBILE, ID_NUMBER)
    } == found


async def test_each_turn_appends_only_its_events(tmp_path):
    store, _ = stores(tmp_path)
    tracker = conversation("web-2")
    await store.save(tracker)
    tracker = await store.retrieve("web-2")
    tracker.update(UserUttered("/affirm", parse_data={"intent": {"name": "affirm"}}))
    tracker.update(SlotSet("person_name", None))
    await store.save(tracker)
    with store.session_scope() as session:
        count = session.query(store.SQLEvent).filter_by(sender_id="web-2").count()
    assert count == len(tracker.events) == 9
    assert (await store.retrieve("web-2")).get_slot("person_name") is None


def test_sealed_slots_round_trip_and_broker_copy_is_masked():
    replacements = known_values([{"event": "slot", "name": "person_name", "value": NAME}])
    event = {"event": "slot", "name": "mobile", "value": MOBILE, "timestamp": 1.0}
    sealed = protect(event, replacements, seal=True)
    assert sealed["value"].startswith(SEALED) and MOBILE not in json.dumps(sealed)
    assert reveal(sealed) == event
    assert protect(event, replacements, seal=False)["value"] == "138****5678"
    free_text = {"event": "slot", "name": "wish_text", "value": f"请{NAME}回电{MOBILE}"}
    assert protect(free_text, replacements, seal=True)["value"] == "请王*国回电138****5678"


def test_a_value_sealed_with_another_key_is_dropped_not_fatal(monkeypatch):
    sealed = protect({"event": "slot", "name": "mobile", "value": MOBILE}, {}, seal=True)
    from cryptography.fernet import Fernet

    monkeypatch.setenv("RJ_ID_KEY", Fernet.generate_key().decode())
    assert reveal(sealed)["value"] is None


@pytest.mark.parametrize("slot", ["person_name", "mobile"])
def test_empty_values_are_left_alone(slot):
    assert protect({"event": "slot", "name": slot, "value": None}, {}, seal=True)["value"] is None
