"""Direct questions, follow-ups and money questions (data/knowledge_followups.yml).

Plain Python. Given what the user wrote (and the topic answered just before), ``plan`` decides
what to answer: each topic the message names (坐公交, 优待证, 伤残抚恤金 …), the aspect it asks
about (在哪办, 带啥, 网上能办吗, 能打几折, 多少钱 …), a second request (预约报到, 微心愿, 找工作)
to offer after the answer, and — when the same topic and aspect were just answered — a plain
"not known, here is who knows, shall I get a human" instead of the same block again.

Texts are Simplified; the caller converts to Traditional. Every text reply ends with the source
line and the notice (rendered from the topic's sources through bot.core.sources).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core import entitlements, knowledge, settings, sources
from bot.core.script import to_simplified

FOLLOWUPS_FILE = settings.DATA_FILES / "knowledge_followups.yml"

# Aspects in the order they win when a message has several ("退役证明丢了 要带啥" is about the
# loss; "电话多少" asks for a phone, not an amount).
ASPECT_ORDER = ("lost", "online", "discount", "coverage", "phone", "amount", "documents", "where")
# Programme aspects answered from a template only where the template fits the programme.
DISCOUNT_PROGRAMMES = {"rongjun_card", "rongjun_union"}
COVERAGE_PROGRAMMES = {"rongjun_insure"}
# Second requests: tasks the assistant runs, found anywhere in a message (parsing vocabulary).
TASKS = {
    "book_appointment": re.compile(
        r"预约.{0,3}报到|预约|约.{0,3}报到|[想要来去].{0,2}报到|办.{0,2}报到"
    ),
    "submit_wish": re.compile(r"心愿"),
    "ask_employment": re.compile(r"找.{0,2}(工作|活|事)|求职|就业|上班"),
}
TASK_LABELS = {
    "book_appointment": "预约报到",
    "submit_wish": "许微心愿",
    "ask_employment": "找工作",
}
# "那荣军保呢" / "那崂山的呢": a short follow-up that only names something new.
HUMAN_OFFER = re.compile(r"要不要.{0,8}转人工")
FOLLOW_UP_TAIL = re.compile(r"(呢|的呢|咋样|怎么样|如何)[？?。！!\s]*$")


@dataclass(frozen=True)
class Reply:
    """One answer: ``kind`` is "text" (``text`` ready), "programme" (render the programme's
    details), "intent" (the knowledge answer of ``intent``) or "contact" (the contact answer and
    the service centres)."""

    kind: str
    topic: str
    aspect: str = ""
    text: str = ""
    programme: str = ""
    intent: str = ""
    offer_human: bool = False
    offer_finder: bool = False
    escalated: bool = False

    @property
    def key(self) -> str:
        return f"{self.topic}:{self.aspect or 'main'}"


@dataclass
class Plan:
    replies: list[Reply] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)  # second requests to offer, in text order

    def __bool__(self) -> bool:
        return bool(self.replies)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> Mapping:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def _data(path: str | Path | None = None) -> Mapping:
    path = Path(path or FOLLOWUPS_FILE)
    return _read(str(path), path.stat().st_mtime)


def normalise(text: str | None) -> str:
    return to_simplified(_text(text))


def _topic_table(path=None) -> dict[str, Mapping]:
    return {str(k): v for k, v in (_data(path).get("topics") or {}).items()}


def _programme(pid: str) -> entitlements.Programme | None:
    return next((p for p in entitlements.load_catalogue() if p.id == pid), None)


def find_topics(text: str, *, path=None) -> list[str]:
    """Topics named in ``text``, in the order they appear; the longest match wins where two
    overlap (伤残抚恤金 → disability_pension, not the generic 抚恤金), and the generic allowance
    topic is dropped when a specific money topic is named too. Programme names not listed in the
    data file (荣军保, 荣军居 …) are topics of their own (the programme id)."""
    text = normalise(text)
    table = _topic_table(path)
    spans: list[tuple[int, int, str]] = []
    for topic, entry in table.items():
        for pattern in entry.get("patterns") or ():
            spans += [(m.start(), m.end(), topic) for m in re.finditer(str(pattern), text)]
    listed = {_text(e.get("programme")) for e in table.values()}
    for programme in entitlements.load_catalogue():
        if programme.id in listed:
            continue
        spans += [(m.start(), m.end(), programme.id) for m in re.finditer(programme.name, text)]
    for task, pattern in TASKS.items():
        spans += [(m.start(), m.end(), "task:" + task) for m in pattern.finditer(text)]
    taken: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(span[1] <= t[0] or span[0] >= t[1] for t in taken):
            taken.append(span)
    found: list[str] = []
    for _start, _end, topic in sorted(taken):
        if topic not in found:
            found.append(topic)
    specific_money = [t for t in found if (table.get(t) or {}).get("money") and t != "allowance"]
    if specific_money and "allowance" in found:
        found.remove("allowance")
    return found


def find_aspects(text: str, *, path=None) -> list[str]:
    text = normalise(text)
    table = _data(path).get("aspects") or {}
    found = []
    for aspect in ASPECT_ORDER:
        patterns = (table.get(aspect) or {}).get("patterns") or ()
        if any(re.search(str(p), text) for p in patterns):
            found.append(aspect)
    return found


def is_short_follow_up(text: str) -> bool:
    """ "那荣军保呢", "那崂山的呢": a follow-up that only swaps the thing asked about."""
    text = normalise(text)
    return len(text) <= 12 and bool(FOLLOW_UP_TAIL.search(text))


def _footer(refs: Any, where: str, path=None) -> str:
    """The footer for ``refs`` (a list of ``{ref, art}``), or for a rendered citation string."""
    data = _data(path)
    citation = refs if isinstance(refs, str) else sources.cite(refs, where=where)
    return sources.footer(citation, _text(data.get("source_label")), _text(data.get("notice")))


def _with_footer(text: str, refs: Any, where: str, path=None) -> str:
    return f"{_text(text)}\n\n{_footer(refs, where, path)}"


def _template(name: str, path=None) -> str:
    return _text((_data(path).get("templates") or {}).get(name))


def _first_line(text: str) -> str:
    """The first place of a "where" text ("户籍地…服务站；可拨打…" → the station)."""
    return re.split(r"[；;\n]", _text(text))[0].rstrip("。")


def topic_name(topic: str, *, path=None) -> str:
    if topic.startswith("task:"):
        return TASK_LABELS.get(topic[5:], topic)
    entry = _topic_table(path).get(topic) or {}
    pid = _text(entry.get("programme")) or topic
    programme = _programme(pid)
    if programme:
        return programme.name
    if entry.get("intent"):
        return knowledge.label(_text(entry["intent"])) or topic
    return _text(entry.get("label")) or topic


def _where_short(topic: str, path=None) -> str:
    entry = _topic_table(path).get(topic) or {}
    programme = _programme(_text(entry.get("programme")) or topic)
    if programme and programme.where:
        return _first_line(programme.where)
    return "户籍地镇（街道）退役军人服务站或区（市）退役军人事务局"


def escalate(topic: str, aspect: str, *, path=None) -> Reply:
    """The same question again: say plainly it is not known here, who knows, and offer a human."""
    asked = _text((_data(path).get("asked") or {}).get(aspect or "details"))
    text = _template("escalate", path).format(
        name=topic_name(topic, path=path), asked=asked, where_short=_where_short(topic, path)
    )
    refs = _topic_refs(topic, path) or [{"ref": "hotlines_national"}]
    return Reply(
        "text",
        topic,
        aspect or "details",
        _with_footer(text, refs, f"followup {topic}", path),
        offer_human=True,
        escalated=True,
    )


def _topic_refs(topic: str, path=None) -> list | str:
    entry = _topic_table(path).get(topic) or {}
    programme = _programme(_text(entry.get("programme")) or topic)
    if programme:
        return programme.source  # the rendered citation
    return list(entry.get("sources") or entry.get("money_sources") or [])


def _grade_note(text: str) -> str:
    found = re.search(r"([一二三四五六七八九十]|10|[1-9])\s*级", normalise(text))
    return f"（您说的是{found.group(1)}级，以残疾军人证上的性质和等级为准）" if found else ""


def _programme_reply(topic: str, programme: entitlements.Programme, aspect: str, text: str, path):
    parts = entitlements.details(programme)
    refs = programme.source  # the rendered citation
    fill = {
        "name": programme.name,
        "where": _text(parts["where"]),
        "where_short": _first_line(parts["where"]),
        "how_to_apply": _text(parts["how_to_apply"]),
        "documents": parts["documents_text"],
        "gives": _text(parts["gives"]),
        "figures": _text(programme.figures),
    }
    name = {
        "where": "where",
        "documents": "documents_known" if programme.documents else "documents_unknown",
        "online": "online",
        "discount": "discount" if programme.id in DISCOUNT_PROGRAMMES else "",
        "coverage": "coverage" if programme.id in COVERAGE_PROGRAMMES else "",
        "lost": "lost",
        "phone": "phone",
    }.get(aspect, "")
    if not name:
        return escalate(topic, aspect, path=path) if aspect == "amount" else None
    body = _template(name, path).format(**fill)
    body = re.sub(r"\n\s*\n", "\n", body)
    return Reply(
        "text",
        topic,
        aspect,
        _with_footer(body, refs, f"followup {topic}", path),
        offer_human=name in {"online", "lost"},
    )


def answer_topic(
    topic: str, aspect: str = "", text: str = "", *, category: str | None = None, path=None
) -> Reply | None:
    """The answer to ``aspect`` (or the topic itself) of ``topic``; None when this module has
    nothing better than the caller's default answer."""
    entry = _topic_table(path).get(topic) or {}
    if topic.startswith("task:"):
        return None
    if aspect == "amount" and entry.get("money"):
        body = _text(entry["money"]).format(grade_note=_grade_note(text))
        refs = entry.get("money_sources")
        return Reply("text", topic, aspect, _with_footer(body, refs, f"money {topic}", path))
    intent = _text(entry.get("intent"))
    if intent:
        return _intent_reply(topic, intent, aspect, path, category)
    programme = _programme(_text(entry.get("programme")) or topic)
    if programme is not None:
        if aspect:
            reply = _programme_reply(topic, programme, aspect, text, path)
            if reply is not None:
                return reply
        return Reply(
            "programme",
            topic,
            "",
            programme=programme.id,
            offer_finder=bool(entry.get("finder_offer")),
        )
    if entry.get("answer"):
        body = _text(entry["answer"])
        return Reply(
            "text",
            topic,
            "",
            _with_footer(body, entry.get("sources"), f"topic {topic}", path),
            offer_finder=bool(entry.get("finder_offer")),
        )
    return None


def _intent_reply(topic: str, intent: str, aspect: str, path, category: str | None = None) -> Reply:
    if intent == "ask_contact":
        return Reply("contact", topic, "", intent=intent)
    if intent == "ask_reporting_process" and aspect == "documents":
        # the category already known (e.g. from the booking just made) picks its own list
        requirements = knowledge.reporting_requirements(category)
        if not category or not requirements["documents"]:
            requirements = knowledge.reporting_requirements(None)
            category = None
        documents = "\n".join(f"- {d}" for d in requirements["documents"])
        body = (
            _template("reporting_documents_for", path).format(
                category=category, documents=documents
            )
            if category
            else _template("reporting_documents", path).format(documents=documents)
        )
        citation = requirements["source"]
        text = sources.with_footer(
            body, citation, _text(_data(path).get("source_label")), requirements["notice"]
        )
        return Reply("text", topic, aspect, text)
    if intent == "ask_reporting_process" and aspect == "lost":
        body = _template("reporting_lost", path)
        return Reply(
            "text",
            topic,
            aspect,
            _with_footer(body, [{"ref": "hotlines_national"}], "followup reporting", path),
            offer_human=True,
        )
    if aspect == "phone":
        body = _template("phone", path).format(
            name=topic_name(topic, path=path), where_short=_where_short(topic, path)
        )
        text = _with_footer(body, [{"ref": "hotlines_national"}], f"followup {topic}", path)
        return Reply("text", topic, aspect, text)
    return Reply("intent", topic, "", intent=intent)


def _topic_replies(
    topic: str,
    aspects: list[str],
    text: str,
    path,
    from_context: bool = False,
    category: str | None = None,
) -> list[Reply]:
    """Up to two aspects of one topic (一个问题里问"在哪办、带什么"); an escalation is dropped
    when the topic got a real answer besides."""
    replies: list[Reply] = []
    for aspect in aspects[:2] or [""]:
        reply = answer_topic(topic, aspect, text, category=category, path=path)
        fits = reply is not None and reply.aspect == aspect and (aspect or not from_context)
        if fits and all(reply.key != r.key for r in replies):
            replies.append(reply)
    if not replies and from_context:
        # a follow-up on the topic just shown: its whole block again would be a repeat
        return [escalate(topic, aspects[0], path=path)]
    if not replies:
        reply = answer_topic(topic, "", text, path=path)
        replies = [reply] if reply is not None else []
    answered = [r for r in replies if not r.escalated]
    return answered or replies[:1]


def plan(
    text: str,
    *,
    recent_topic: str | None = None,
    last_keys: list[str] | tuple[str, ...] = (),
    max_topics: int = 2,
    category: str | None = None,
    path=None,
) -> Plan:
    """What to answer for ``text``: the topics it names (at most ``max_topics``), else the aspect
    it asks of ``recent_topic``. When an answer was just given (its key is in ``last_keys``), the
    topic gets the plain escalation instead of the same block again. Tasks named besides are
    returned to be offered."""
    named = find_topics(text, path=path)
    tasks = [t[5:] for t in named if t.startswith("task:")]
    topics = [t for t in named if not t.startswith("task:")]
    aspects = find_aspects(text, path=path)
    result = Plan(tasks=tasks)
    from_context = not topics and bool(recent_topic and aspects)
    if from_context:
        topics = [recent_topic]
    for topic in topics[:max_topics]:
        replies = _topic_replies(topic, aspects, text, path, from_context, category)
        # the contact answer differs by district; everything else asked again is escalated
        repeated = [r for r in replies if r.key in last_keys and r.kind != "contact"]
        if repeated:
            replies = [escalate(topic, repeated[0].aspect, path=path)]
        result.replies += replies
    return result


def offered_human(text: str) -> bool:
    """Did the bot just ask whether to get a human ("要不要我为您转人工…？")?"""
    return bool(HUMAN_OFFER.search(normalise(text)))


def button_labels(*, path=None) -> dict[str, str]:
    return {str(k): _text(v) for k, v in (_data(path).get("buttons") or {}).items()}


def task_offer(task: str, current: str | None = None, *, path=None) -> str:
    """The second request, remembered aloud; with ``current`` (the task starting now) it says
    which comes first ("先帮您许微心愿。您还提到找工作…")."""
    other = TASK_LABELS.get(task, task)
    if current in TASK_LABELS:
        return _template("second_request_after", path).format(
            current=TASK_LABELS[current], other=other
        )
    return _template("second_request", path).format(other=other)


def finder_offer(*, path=None) -> str:
    return _template("finder_offer", path)


def category_note(topic: str, category: str | None, *, path=None) -> Reply | None:
    """The topic's answer for one category ("俺是伤残军人" after the bus answer)."""
    entry = _topic_table(path).get(topic) or {}
    notes = entry.get("by_category") or {}
    key = entitlements.canonical_category(category) if category else None
    body = _text(notes.get(key)) or _text(notes.get("default"))
    if not body:
        return None
    return Reply(
        "text", topic, f"category:{key}", _with_footer(body, entry.get("sources"), topic, path)
    )
