"""Crisis phrases and what to do with the messages that follow a crisis (plain Python).

Why: a veteran in danger must get 12356 and 110/120/119 at once, and then be stayed with —
not sent a form or a policy text because the classifier read "就是心里难受，没人管" as a 微心愿
lookup. Idioms (热得要死, 忙得要死, 笑死) must not raise the alarm, and a frustrated "怎么又问"
that only the classifier calls `crisis` gets a gentle check question instead of an alert.

* ``find(text)`` — the unmistakable crisis phrase in a message and its kind (mind / medical /
  danger), from ``data/crisis_patterns.yml``; the NLU gate (bot/nlu/crisis_gate.py) uses it.
* ``next_step(...)`` — after a crisis answer ("support" stage) or a check question ("check"
  stage), what the next message gets: more support, the crisis answer, or the normal flow again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from re import Pattern

import yaml

from bot.core.script import normalise

PATTERNS_FILE = Path(__file__).resolve().parent / "data" / "crisis_patterns.yml"

MIND, MEDICAL, DANGER = "mind", "medical", "danger"
KINDS = (MIND, MEDICAL, DANGER)

# Conversation stages (the crisis_stage slot).
CHECK, SUPPORT = "check", "support"

# What the next message gets (next_step).
ESCALATE = "escalate"  # the crisis answer now, a human alerted
COMFORT = "support"  # stay with the person: support for this kind of crisis
BETTER = "better"  # the person says it is better: glad, the numbers stay open
RESUME = "resume"  # a clear change of topic (or "no" to the check): the normal flow again

# Intents that are a request to do or answer something (a topic of its own).
SERVICE_INTENTS = frozenset(
    {
        "ask_capabilities",
        "ask_entitlements",
        "ask_benefit",
        "ask_allowance",
        "book_appointment",
        "check_appointment",
        "cancel_appointment",
        "reschedule_appointment",
        "ask_reporting_process",
        "submit_wish",
        "check_wish",
        "ask_employment",
        "ask_training",
        "ask_entrepreneurship",
        "ask_platform_usage",
        "ask_rights_protection",
        "ask_contact",
        "report_fraud",
    }
)

# Words of distress or of an emergency still going on: with any of these the message is not a
# change of topic, whatever the classifier says.
DISTRESS = re.compile(
    "难受|难过|伤心|痛苦|心里|心情|孤单|孤独|寂寞|没人|一个人|想不开|害怕|绝望|撑不住|受不了|"
    "睡不着|没意思|没意义|活着|活下去|死|哭|委屈|崩溃|没用|不在乎|不管|走了|老伴|孩子|"
    "救|120|110|119|急救|救护车|医生|医院|呼吸|有气|没气|出血|流血|醒|晕|昏|倒|动不了|不说话|"
    "警察|报警|刀|砍|打人|门口|锁|火|烟|煤气|躲|还没来|咋办|怎么办|现在"
)
# Someone says the crisis has eased.
BETTER_WORDS = re.compile("好多了|好些了|好点了|好一些|舒服多了|没事了|缓过来|谢谢|感谢|多谢")
# An explicit change of topic.
TOPIC_MARKERS = re.compile(
    "换个|另外|别的事|顺便|再问|问(一下|下|问|个事|你个事)|想(问|咨询|了解)|咨询|打听|"
    "说正事|不说这个|言归正传|对了"
)
# A clear "yes" to the check question.
YES_WORDS = re.compile("^(是|是的|对|对的|嗯|嗯嗯|有|有点|是啊|对啊)[的啊呀吧。.!！]*$")


@dataclass(frozen=True)
class Match:
    kind: str
    phrase: str


@cache
def _load(path: Path = PATTERNS_FILE) -> tuple[dict[str, Pattern], Pattern | None]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    kinds = {kind: re.compile("|".join(f"(?:{phrase})" for phrase in data[kind])) for kind in KINDS}
    idioms = data.get("idioms") or []
    return kinds, (re.compile("|".join(f"(?:{p})" for p in idioms)) if idioms else None)


def load() -> None:
    """Compile the patterns now (fail at start-up, not on a veteran's message)."""
    _load()


def _without_idioms(text: str) -> str:
    _, idioms = _load()
    if idioms is None:
        return text
    return idioms.sub(lambda m: "，" * len(m.group(0)), text)


def find(text: str | None) -> Match | None:
    """The unmistakable crisis phrase in ``text`` (any script or width) and its kind, or None."""
    if not text:
        return None
    cleaned = _without_idioms(normalise(text))
    kinds, _ = _load()
    for kind in KINDS:
        match = kinds[kind].search(cleaned)
        if match:
            return Match(kind, match.group(0))
    return None


def next_step(
    stage: str,
    intent: str | None,
    text: str | None,
    *,
    topic_entity: bool = False,
    gate_match: bool = False,
) -> str:
    """What a message gets while the conversation is in ``stage`` (CHECK or SUPPORT).

    CHECK (a classifier-only crisis asked "您是遇到危险或者心里很难受吗？"): a yes, a crisis phrase,
    `crisis` again or words of distress escalate; anything else ("没事 就是…", a question) goes
    back to the normal flow.
    SUPPORT (after the crisis answer): only a clear change of topic — a service question with an
    explicit marker (换个事问问, 另外) or a named programme, and no words of distress — goes back
    to the normal flow; thanks or "好多了" get a warm reply; everything else gets support.
    """
    simplified = normalise(text or "")
    distress = bool(DISTRESS.search(simplified))
    if stage == CHECK:
        if gate_match or intent in ("crisis", "affirm") or YES_WORDS.match(simplified):
            return ESCALATE
        if distress and intent not in SERVICE_INTENTS and intent != "deny":
            return ESCALATE
        return RESUME
    if gate_match:
        return ESCALATE
    if (
        intent in SERVICE_INTENTS
        and not distress
        and (TOPIC_MARKERS.search(simplified) or topic_entity)
    ):
        return RESUME
    better = intent in ("thank", "goodbye") or BETTER_WORDS.search(simplified)
    if better and not re.search("难受|想死|不想活|救", simplified):
        return BETTER
    return COMFORT
