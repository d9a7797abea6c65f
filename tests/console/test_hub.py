"""The hub: Rasa events → live conversations, intents/confidence, masking, handoff triggers."""

from __future__ import annotations

from bot.console.hub import Hub, serialise_conversation


def user(sender, text, intent, confidence=0.9, ts=1.0):
    # a crisis phrase carries the crisis gate's entity, as the NLU pipeline sets it
    entities = [{"entity": "crisis_kind", "value": "mind"}] if intent == "crisis" else []
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": ts,
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": entities},
    }


def bot(sender, text, ts=2.0, buttons=None):
    return {
        "sender_id": sender,
        "event": "bot",
        "timestamp": ts,
        "text": text,
        "data": {"buttons": buttons or []},
    }


class Recorder:
    def __init__(self):
        self.triggers = []

    async def __call__(self, sender, reason, text):
        self.triggers.append((sender, reason, text))


async def test_messages_with_intent_confidence_and_latest_first():
    hub = Hub()
    await hub.handle_event(user("tg-1", "你好", "greet", 0.97, ts=10))
    await hub.handle_event(
        bot("tg-1", "您好！", ts=11, buttons=[{"title": "荣军卡", "payload": "/x"}])
    )
    await hub.handle_event(user("web-2", "荣军卡怎么办", "ask_benefit", 0.61, ts=20))
    await hub.handle_event(
        {"sender_id": "web-2", "event": "action", "name": "action_listen", "timestamp": 21}
    )
    assert [c["sender_id"] for c in hub.summaries()] == ["web-2", "tg-1"]
    conv = serialise_conversation(hub.conversation("tg-1"), with_messages=True)
    assert conv["channel"] == "tg" and conv["channel_label"] == "Telegram"
    first, second = conv["messages"]
    assert (first["kind"], first["intent"], first["confidence"]) == ("user", "greet", 0.97)
    assert second["kind"] == "bot" and second["buttons"] == [{"title": "荣军卡", "payload": "/x"}]
    await hub.handle_event(user("tg-1", "再问一下", "ask_allowance", ts=30))
    assert hub.summaries()[0]["sender_id"] == "tg-1"


async def test_personal_data_is_masked_for_agents():
    hub = Hub()
    await hub.handle_event(user("tg-1", "我的电话13812345678，身份证370202199001011234", "inform"))
    shown = serialise_conversation(hub.conversation("tg-1"), with_messages=True)
    text = shown["messages"][0]["text"]
    assert "13812345678" not in text and "138****5678" in text
    assert "370202199001011234" not in text and "3702**********1234" in text
    assert "13812345678" not in shown["preview"]


async def test_triggers_for_crisis_human_and_two_fallbacks():
    rec = Recorder()
    hub = Hub(on_trigger=rec)
    await hub.handle_event(user("tg-1", "不想活了", "crisis", 1.0))
    await hub.handle_event(user("tg-2", "我要人工", "request_human"))
    await hub.handle_event(user("tg-3", "呜啦啦", "nlu_fallback", 0.2))
    assert [r[:2] for r in rec.triggers] == [("tg-1", "crisis"), ("tg-2", "human")]
    await hub.handle_event(user("tg-3", "咕噜咕噜", "nlu_fallback", 0.2))
    assert rec.triggers[-1] == ("tg-3", "fallback", "咕噜咕噜")


async def test_core_fallback_action_counts_and_an_understood_turn_resets():
    rec = Recorder()
    hub = Hub(on_trigger=rec)
    fallback = {
        "sender_id": "tg-4",
        "event": "action",
        "name": "action_default_fallback",
        "timestamp": 3,
    }
    await hub.handle_event(user("tg-4", "a", "greet"))
    await hub.handle_event(fallback)
    await hub.handle_event(user("tg-4", "b", "thank"))  # understood
    await hub.handle_event(user("tg-4", "c", "greet"))
    await hub.handle_event(fallback)
    assert rec.triggers == []
    await hub.handle_event(user("tg-4", "d", "nlu_fallback"))
    await hub.handle_event(fallback)  # same turn: counted once
    assert [r[1] for r in rec.triggers] == ["fallback"]


async def test_replayed_history_never_triggers_and_pause_resume_show():
    rec = Recorder()
    hub = Hub(on_trigger=rec)
    await hub.handle_event(user("tg-5", "不想活了", "crisis"), live=False)
    assert rec.triggers == []
    await hub.handle_event({"sender_id": "tg-5", "event": "pause", "timestamp": 5})
    assert hub.conversation("tg-5").paused
    await hub.handle_event({"sender_id": "tg-5", "event": "resume", "timestamp": 6})
    conv = serialise_conversation(hub.conversation("tg-5"), with_messages=True)
    assert not conv["paused"]
    assert [m["text"] for m in conv["messages"] if m["kind"] == "system"] == [
        "机器人已暂停，由人工坐席接待",
        "机器人已恢复自动回复",
    ]


async def test_bounded_memory():
    hub = Hub(max_conversations=3, max_messages=5)
    for i in range(5):
        for j in range(8):
            await hub.handle_event(user(f"tg-{i}", f"m{j}", "greet", ts=i * 10 + j))
    assert len(hub.conversations) == 3
    assert len(hub.conversation("tg-4").messages) == 5


async def test_a_classifier_only_crisis_and_a_replayed_message_do_not_trigger():
    """Only the crisis gate's phrases alert at once; a replayed message is shown once."""
    rec = Recorder()
    hub = Hub(on_trigger=rec)
    guess = user("tg-7", "怎么又问 刚才不是填了吗", "crisis", 0.8)
    guess["parse_data"]["entities"] = []
    await hub.handle_event(guess)
    replayed = {**user("tg-8", "不想活了", "crisis"), "metadata": {"replayed": True}}
    await hub.handle_event(replayed)
    assert rec.triggers == []
    assert hub.conversations.get("tg-8") is None or not hub.conversations["tg-8"].messages
