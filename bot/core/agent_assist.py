"""Help for a human agent who takes over a conversation: suggested replies and a takeover summary.

Plain Python over plain data, so the console, the phone page and ``make bench-assist`` share it:

* ``turns_from_events(events)`` — the veteran's messages from a Rasa tracker's events, each with
  its intent ranking and entities (the NLU result Rasa stored for that turn);
* ``suggestions(turns, ...)`` — replies in the agent's voice, drawn from the *whole* conversation:
  the veteran's question before the handoff first (a bare "转人工" is not a question;
  "转人工吧，我想问问俺娘的优待金" is, once the trigger words are taken out), then earlier
  questions. Sources: the
  knowledge answers, the programme cards, the entitlement finder, the booking and wish state. At a
  crisis the crisis script for agents comes first;
* ``summary(turns, ...)`` — why the handoff happened, the question in the veteran's words, the
  facts known (category, district, disability grade incl. "三级"), bookings, wishes and the few
  entitlements that apply, statutory ones first, "条件未知" where a condition is unknown.

Texts come from ``data/agent_assist.yml``; policy content keeps the source line of its data file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core import entitlements, knowledge, settings, sources
from bot.core.agent_facts import (  # noqa: F401  (re-exported: the console uses them from here)
    KIND_ORDER,
    MAX_ENTITLEMENTS,
    MAX_ENTITLEMENTS_CRISIS,
    applicable_entitlements,
    fact_text,
    facts,
    grade_from_text,
)
from bot.core.people import mask_text

ASSIST_FILE = settings.DATA_FILES / "agent_assist.yml"

# Turns that carry no question of their own.
SMALL_TALK = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "cancel",
    "bot_challenge",
    "complain_repeated",
}
TRIGGERS = {"request_human"}
FACT_INTENTS = {"inform"}
APPOINTMENT_INTENTS = {
    "book_appointment",
    "check_appointment",
    "cancel_appointment",
    "reschedule_appointment",
}
WISH_INTENTS = {"submit_wish", "check_wish"}
JOB_INTENTS = {"ask_employment"}
MIN_CONFIDENCE = 0.15  # a runner-up intent below this is noise
QUESTIONS_CONSIDERED = 3  # the latest few questions of the conversation


_CJK_RE = re.compile(r"[\u4e00-\u9fff\w]")


# ------------------------------------------------------------------ data
@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> Mapping:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def data(path: str | Path | None = None) -> Mapping:
    path = Path(path or ASSIST_FILE)
    return _read(str(path), path.stat().st_mtime)


def _tpl(name: str) -> str:
    return str((data().get("templates") or {}).get(name) or "")


def notice(key: str) -> str:
    """What the veteran is told when a person joins (``joined``) or leaves (``left``)."""
    return str((data().get("notices") or {}).get(key) or "")


def _footer(refs: Any) -> str:
    d = data()
    return sources.footer(sources.cite(refs), d.get("source_label", ""), d.get("notice", ""))


# ------------------------------------------------------------------ turns
def turns_from_events(events: Iterable[Mapping] | None) -> list[dict]:
    """The veteran's messages in order: ``{"text", "intent", "confidence", "ranking",
    "entities"}`` (button payloads such as ``/request_human`` keep their intent, text "")."""
    turns = []
    for event in events or ():
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        text = str(event.get("text") or "")
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0))
            for r in (parse.get("intent_ranking") or [])
            if r.get("name")
        ]
        if not ranking and intent.get("name"):
            ranking = [(str(intent["name"]), float(intent.get("confidence") or 0))]
        turns.append(
            {
                "text": "" if text.startswith("/") else text,
                "intent": intent.get("name") or (ranking[0][0] if ranking else None),
                "confidence": float(intent.get("confidence") or 0),
                "ranking": ranking,
                "entities": [
                    {"entity": e.get("entity"), "value": e.get("value")}
                    for e in parse.get("entities") or []
                ],
            }
        )
    return turns


def strip_request(text: str | None) -> str:
    """The message without the words that ask for a human ("转人工吧，我想问问俺娘的优待金" →
    "我想问问俺娘的优待金"); "" when nothing else is left."""
    rest = str(text or "")
    for word in sorted(data().get("human_request_words") or (), key=len, reverse=True):
        rest = rest.replace(word, " ")
    rest = re.sub(r"^[\s，,。.！!？?、；;：:吧啊呀呢嘛]+", "", rest).strip()
    rest = re.sub(r"^(我要|帮我|给我|请|麻烦)[\s，,。]*$", "", rest)
    return rest if len(_CJK_RE.findall(rest)) >= 4 else ""


def is_trigger(turn: Mapping, last: bool = False) -> bool:
    """A request for a human: the intent, or — for the last message, which is usually the request —
    the words ("有点复杂，转人工吧" read by the NLU as another topic)."""
    if turn.get("intent") in TRIGGERS:
        return True
    if not last or turn.get("intent") == "crisis":
        return False
    text = str(turn.get("text") or "")
    return any(str(w) in text for w in data().get("human_request_words") or ())


def _residual_asks(turn: Mapping) -> bool:
    """Whether what is left of a trigger message is a question of its own: it names a programme,
    or its own NLU result is a real topic (without one, a longer remainder)."""
    rest = strip_request(turn.get("text"))
    if not rest:
        return False
    if programmes_in({"text": rest, "entities": turn.get("question_entities") or []}):
        return True
    ranking = turn.get("question_ranking")
    if ranking is None:
        return len(_CJK_RE.findall(rest)) >= 8
    uninformative = SMALL_TALK | FACT_INTENTS | TRIGGERS | {"nlu_fallback", "out_of_scope"}
    return bool(ranking) and ranking[0][0] not in uninformative and ranking[0][1] >= 0.5


def is_question(turn: Mapping, last: bool = False) -> bool:
    """A turn that asks something of its own (not a greeting, a yes/no or a bare trigger)."""
    intent = turn.get("intent")
    if is_trigger(turn, last):
        return _residual_asks(turn)
    if intent in SMALL_TALK or intent in FACT_INTENTS:
        return False
    return bool(turn.get("text"))


def residual_questions(turns: Sequence[Mapping]) -> list[tuple[int, str]]:
    """``(index, question)`` for trigger turns that also ask something; the caller parses each
    question with the NLU and hands the result to :func:`with_question_parse`."""
    out = []
    for index, turn in enumerate(turns):
        if is_trigger(turn, index == len(turns) - 1):
            rest = strip_request(turn.get("text"))
            if rest:
                out.append((index, rest))
    return out


def with_question_parse(turn: Mapping, parse: Mapping) -> dict:
    """``turn`` with the NLU result of its question part (a Rasa /model/parse answer)."""
    ranking = [
        (str(r.get("name")), float(r.get("confidence") or 0))
        for r in parse.get("intent_ranking") or []
        if r.get("name")
    ]
    return dict(
        turn,
        question_ranking=[r for r in ranking if r[0] not in TRIGGERS],
        question_entities=list(parse.get("entities") or []),
    )


def question_turns(turns: Sequence[Mapping]) -> list[Mapping]:
    """Questions, latest first; a trigger turn with a question in it counts with the trigger words
    taken out (and the question's own NLU result when the caller parsed it)."""
    out = []
    for index in range(len(turns) - 1, -1, -1):
        turn, last = turns[index], index == len(turns) - 1
        if not is_question(turn, last):
            continue
        if is_trigger(turn, last):
            ranking = list(turn.get("question_ranking") or [])
            turn = dict(
                turn,
                text=strip_request(turn.get("text")),
                intent=ranking[0][0] if ranking else None,
                ranking=ranking,
                entities=list(turn.get("question_entities") or turn.get("entities") or []),
            )
        out.append(turn)
    return out


def the_question(turns: Sequence[Mapping]) -> str:
    """The veteran's question in their own words (masked), crisis words included."""
    found = question_turns(turns)
    if found:
        return mask_text(str(found[0].get("text") or ""))
    said = [  # no question: what they last said that is more than small talk or the trigger
        t
        for n, t in enumerate(turns)
        if t.get("text")
        and t.get("intent") not in SMALL_TALK
        and not is_trigger(t, n == len(turns) - 1)
    ]
    return mask_text(str(said[-1]["text"])) if said else ""


def crisis_severity(text: str | None) -> int:
    """3 = a plan or means named ("药都攒好了"), 2 = wishes to die, 1 = distress, 0 = none."""
    text = str(text or "")
    levels = data().get("crisis_severity") or {}
    for level in sorted((int(k) for k in levels), reverse=True):
        if any(word in text for word in levels.get(level) or levels.get(str(level)) or ()):
            return level
    return 0


def is_crisis(turns: Sequence[Mapping], reason: str | None = None) -> bool:
    return reason == "crisis" or any(t.get("intent") == "crisis" for t in turns)


# ------------------------------------------------------------------ suggestions
def _voice(text: str) -> str:
    for bot_says, agent_says in (data().get("voice") or {}).items():
        text = text.replace(str(bot_says), str(agent_says))
    return re.sub(r"^您好[！!，,。]\s*", "", text.strip())


def _opening(topic: str | None) -> str:
    d = data()
    if topic:
        return str(d.get("opening", "")).format(topic=topic)
    return str(d.get("opening_plain", ""))


def programmes_in(turn: Mapping) -> list[str]:
    """Programme ids a message names (the NLU's benefit entity, then known words)."""
    found: list[str] = []
    for e in turn.get("entities") or ():
        if e.get("entity") in ("benefit", "programme"):
            p = entitlements.programme_by_name(str(e.get("value")))
            if p is not None and p.id not in found:
                found.append(p.id)
    text = str(turn.get("text") or "")
    words = data().get("programme_words") or {}
    for word in sorted(words, key=len, reverse=True):
        if word in text and words[word] not in found:
            found.append(str(words[word]))
    p = entitlements.programme_by_name(text) if text else None
    if p is not None and p.id not in found and p.name in text:
        found.append(p.id)
    return found


def programme_suggestion(pid: str) -> dict | None:
    by_id = {p.id: p for p in entitlements.load_catalogue()}
    p = by_id.get(pid)
    if p is None:
        return None
    d = entitlements.details(p)
    body = _tpl("programme").format(
        name=d["name"],
        summary=d["summary"],
        gives=d["gives"].strip() or "请向经办部门确认",
        eligibility=d["eligibility_text"].strip() or "请向经办部门确认",
        how_to_apply=d["how_to_apply"].strip() or "请向经办部门确认",
        documents=d["documents_text"],
    )
    text = f"{_opening(d['name'])}\n{body}\n\n{d['footer']}"
    return {"source": "programme", "ref": pid, "label": d["name"], "text": text}


def knowledge_suggestion(intent: str | None) -> dict | None:
    if not intent:
        return None
    found = knowledge.answer(intent)
    if found is None:
        return None
    topic = knowledge.label(intent) or ""
    return {
        "source": "knowledge",
        "ref": intent,
        "label": topic,
        "text": f"{_opening(topic)}\n{_voice(found.text)}",
        "origin": found.source,
    }


def _reporting_text(category: str | None) -> str:
    req = knowledge.reporting_requirements(category)
    deadline = ""
    if req["deadline_days"]:
        deadline = _tpl("reporting_deadline").format(
            days=req["deadline_days"], start=req["deadline_from"] or "退出现役之日"
        )
    text = _tpl("reporting").format(documents="、".join(req["documents"]), deadline=deadline)
    d = data()
    return f"{text}\n{sources.footer(req['source'], d.get('source_label', ''), req['notice'])}"


def appointment_suggestion(intent: str, appointments: Sequence[Mapping], known: Mapping) -> dict:
    if appointments:
        a = appointments[0]
        text = _tpl("appointment").format(centre=a["centre"], start=a["start"], code=a["code"])
        return {
            "source": "appointment",
            "ref": a["code"],
            "label": "预约报到",
            "text": f"{_opening('预约报到')}\n{text}",
        }
    if intent != "book_appointment":  # a booking they cannot find: look it up by mobile
        return {
            "source": "appointment",
            "ref": intent,
            "label": "预约报到",
            "text": f"{_opening('预约报到')}\n{_tpl('appointment_not_found')}",
        }
    text = _tpl("no_appointment")
    if intent == "book_appointment":
        text += "\n" + _reporting_text(known.get("veteran_category"))
    return {
        "source": "appointment",
        "ref": intent,
        "label": "预约报到",
        "text": f"{_opening('预约报到')}\n{text}",
    }


def wish_suggestion(wishes: Sequence[Mapping], intent: str = "submit_wish") -> dict:
    from bot.core.wishes import CATEGORIES

    if wishes:
        w = wishes[0]
        status = (data().get("wish_status") or {}).get(w.get("status"), w.get("status"))
        text = _tpl("wish").format(code=w.get("code"), category=w.get("category"), status=status)
        ref = str(w.get("code"))
    elif intent == "check_wish":
        text, ref = _tpl("wish_not_found"), "check_wish"
    else:
        text = _tpl("no_wish").format(categories="、".join(c for c in CATEGORIES if c != "其他"))
        ref = "submit_wish"
    return {
        "source": "wish",
        "ref": ref,
        "label": "微心愿",
        "text": f"{_opening('微心愿')}\n{text}",
    }


def entitlement_suggestion(known: Mapping) -> dict:
    rows = applicable_entitlements(known)
    if not rows:
        return {
            "source": "entitlements",
            "ref": "ask_profile",
            "label": "优待政策",
            "text": f"{_opening('优待政策')}\n{_tpl('entitlements_unknown')}",
        }
    items = "；".join(
        r["name"]
        + (
            _tpl("condition_unknown").format(missing="、".join(r["missing"]))
            if r["missing"]
            else ""
        )
        for r in rows
    )
    refs = [s for r in rows for s in entitlements.programme_by_name(r["id"]).source_keys]
    text = _tpl("entitlements_known").format(facts=fact_text(known), items=items)
    try:
        footer = _footer(list(dict.fromkeys(refs))) if refs else ""
    except sources.SourceError:  # laws need articles: fall back to the rendered citations
        d = data()
        citation = "；".join(dict.fromkeys(r["source"] for r in rows))
        footer = sources.footer(citation, d.get("source_label", ""), d.get("notice", ""))
    return {
        "source": "entitlements",
        "ref": "finder",
        "label": "可能享受的政策",
        "text": f"{_opening('优待政策')}\n{text}\n\n{footer}",
    }


def crisis_script() -> dict:
    """Guidance for the agent (not sent) and messages to send, with the sources behind them."""
    c = data().get("crisis") or {}
    return {
        "guidance": [str(g) for g in c.get("guidance") or ()],
        "messages": [str(m) for m in c.get("messages") or ()],
        "footer": _footer(c.get("sources")),
    }


def matching_scripts(text: str) -> list[dict]:
    """The scripts (急症, 防诈骗 …) whose words the messages contain, in file order, as
    suggestions with their sources."""
    from bot.core.script import to_simplified

    text = to_simplified(text or "")
    out = []
    for key, script in (data().get("scripts") or {}).items():
        if not any(to_simplified(str(w)) in text for w in script.get("words") or ()):
            continue
        footer = _footer(script.get("sources"))
        for number, message in enumerate(script.get("messages") or (), start=1):
            out.append(
                {
                    "source": "script",
                    "ref": f"{key}_{number}",
                    "label": str(script.get("label") or key),
                    "text": f"{message}\n{footer}",
                }
            )
    return out


def _with_apology(said: str, found: list[dict]) -> list[dict]:
    """A complaint: every reply (but the urgent scripts) starts with an apology and ends with
    where to complain (``complaint`` in agent_assist.yml)."""
    complaint = data().get("complaint") or {}
    if not any(str(w) in said for w in complaint.get("words") or ()):
        return found
    before, after = str(complaint.get("before", "")), str(complaint.get("after", ""))
    return [
        item
        if item["source"] in ("crisis", "script")
        else dict(item, text=f"{before}{item['text']}\n{after}")
        for item in found
    ]


def _intents(turn: Mapping) -> list[str]:
    ranking = turn.get("ranking") or []
    out = [turn.get("intent")] if turn.get("intent") else []
    for rank, (name, conf) in enumerate(ranking):
        if name not in out and (rank == 0 or conf >= MIN_CONFIDENCE):
            out.append(name)
    return [i for i in out if i not in SMALL_TALK and i not in TRIGGERS and i != "crisis"]


def _for_turn(turn: Mapping, known: Mapping, appointments, wishes) -> list[dict]:
    found: list[dict] = []
    intents = _intents(turn)
    main = intents[0] if intents else None
    for pid in programmes_in(turn):
        item = programme_suggestion(pid)
        if item:
            found.append(item)
    if main in APPOINTMENT_INTENTS:
        found.insert(0, appointment_suggestion(main, appointments, known))
    elif main in WISH_INTENTS:
        found.insert(0, wish_suggestion(wishes, main))
    elif main == "ask_entitlements":
        found.append(entitlement_suggestion(known))
    for intent in intents:
        item = knowledge_suggestion(intent)
        if item:
            found.append(item)
        if intent in JOB_INTENTS:
            found.append(
                {
                    "source": "job",
                    "ref": "job_seeker",
                    "label": "求职登记",
                    "text": f"{_opening('找工作')}\n{_tpl('job')}",
                }
            )
    return found


def suggestions(
    turns: Sequence[Mapping],
    *,
    slots: Mapping | None = None,
    appointments: Sequence[Mapping] = (),
    wishes: Sequence[Mapping] = (),
    reason: str | None = None,
) -> list[dict]:
    """Replies for the agent, best first: ``{"source", "ref", "label", "text"}``."""
    known = facts(turns, slots)
    found: list[dict] = []
    said = " ".join(str(t.get("text") or "") for t in turns)
    urgent = matching_scripts(said)
    found.extend(item for item in urgent if item["ref"].startswith("medical"))
    medical_only = bool(found) and crisis_severity(said) < 2
    if is_crisis(turns, reason) and not medical_only:
        script = crisis_script()
        for number, message in enumerate(script["messages"], start=1):
            found.append(
                {
                    "source": "crisis",
                    "ref": f"crisis_{number}",
                    "label": "危机话术",
                    "text": f"{message}\n{script['footer']}" if number == 1 else message,
                }
            )
    found.extend(item for item in urgent if not item["ref"].startswith("medical"))
    asked = question_turns(turns) or [  # only facts ("我妈是烈士遗属，想要个助听器"): use them
        t for t in reversed(turns) if t.get("text") and t.get("intent") in FACT_INTENTS
    ]
    for turn in asked[:QUESTIONS_CONSIDERED]:
        found.extend(_for_turn(turn, known, appointments, wishes))
    if not found:
        found.append(
            {"source": "generic", "ref": "rephrase", "label": "询问需求", "text": _tpl("rephrase")}
        )
    found = _with_apology(said, found)
    seen, unique = set(), []
    for item in found:
        key = (item["source"], item["ref"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def summary(
    turns: Sequence[Mapping],
    *,
    slots: Mapping | None = None,
    appointments: Sequence[Mapping] = (),
    wishes: Sequence[Mapping] = (),
    reason: str | None = None,
) -> dict:
    """The takeover summary (every text masked)."""
    known = facts(turns, slots)
    crisis = is_crisis(turns, reason)
    trigger = next((t for t in reversed(turns) if t.get("intent") in TRIGGERS), None)
    texts = " ".join(str(t.get("text") or "") for t in turns)
    return {
        "reason": reason or ("crisis" if crisis else "human" if trigger else None),
        "trigger": mask_text(str(trigger.get("text") or "")) if trigger else "",
        "question": the_question(turns),
        "severity": crisis_severity(texts) if crisis else 0,
        "facts": known,
        "appointments": list(appointments),
        "wishes": list(wishes),
        "entitlements": applicable_entitlements(known, crisis=crisis),
    }
