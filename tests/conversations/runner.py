"""Runs whole conversations, written as data, against a running Rasa (REST channel).

A case file (``tests/conversations/*.yml``) holds ``conversations:``, each with ``id``,
``patterns`` (which failure patterns it covers) and ``turns``. A turn is one user message and
what the bot's replies (all messages of that turn, joined) must or must not contain:

    - id: many-facts-booking
      patterns: [many_facts, dialect]
      turns:
        - user: 俺叫李建国，退伍兵，电话{phone}，住城阳，想后天上午去报到
          expect: [报到]              # every entry must appear ("a|b" = either a or b)
          forbid: [您的姓名, 手机号]   # none may appear (a question already answered)
        - press: 确认                  # send the payload of the button whose title contains it
          expect: [确认码]
        - new_chat: true               # from here on a new conversation (new sender id), as
          user: 确认码{code}我约的哪天    # when a veteran comes back the next day or on another app


Placeholders in ``user``: ``{phone}`` a fresh mobile number, ``{id}`` a valid ID number (born
1966–2000), ``{elder_id}`` one of someone born 1945–1955, ``{code}``
the last 确认码 the bot showed in this conversation. Besides the per-turn checks every
conversation must pass the whole-conversation rules of the project:
* never the same answer twice in a row (identical non-empty replies in consecutive turns);
* never the same question twice (a bot line up to its last ？, sent in two turns), unless the
  case says ``repeat_ok: true`` (the user did not answer it);
* every turn gets a reply (``silent: true`` on a turn allows none, e.g. during a handoff).
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core import people

CASES_DIR = Path(__file__).resolve().parent
CODE = re.compile(r"确认码[：:\s]*([A-Z0-9]{6})")
# A question mark, not the "?" of a link's query string.
QUESTION_MARK = re.compile(r"[？?](?![A-Za-z0-9=&%_-])")


@dataclass
class Outcome:
    case_id: str
    patterns: list[str]
    failures: list[str] = field(default_factory=list)
    repeated_question: bool = False
    transcript: list[str] = field(default_factory=list)
    # Seconds each turn took, in order (benchmarks report them; tests do not time anything).
    turn_seconds: list[float] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(directory: Path = CASES_DIR) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for case in data.get("conversations") or []:
            case.setdefault("file", path.name)
            cases.append(case)
    return cases


def _post(url: str, body: dict[str, Any], timeout: float = 60) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _fresh_phone() -> str:
    """A random number the bot must accept as a mobile (e.g. 154… and 174… are not in use)."""
    while True:
        digits = "".join(random.choice("0123456789") for _ in range(9))
        number = "1" + random.choice("3578") + digits
        try:
            return people.validate_mobile(number)
        except people.InvalidMobile:
            continue


def _fresh_id(born_from: int = 1966, born_to: int = 2000) -> str:
    year = random.randint(born_from, born_to)
    first17 = "370214" + f"{year}" + "0315" + f"{random.randint(0, 999):03d}"
    return first17 + people.id_check_digit(first17)


def _contains(text: str, entry: str) -> bool:
    return any(option in text for option in str(entry).split("|"))


def _questions(text: str) -> list[str]:
    """Each line's question: the line up to its last ？ (most questions go on after it, e.g.
    "请问报到人的姓名？（只用于服务中心核对…）", "想约哪天…？可以直接说…")."""
    lines = [line.strip() for line in re.split(r"[\n]", text) if line.strip()]
    found = []
    for line in lines:
        marks = [m.end() for m in QUESTION_MARK.finditer(line)]
        if marks and marks[-1] >= 6:
            found.append(line[: marks[-1]])
    return found


def run_case(base_url: str, case: dict[str, Any]) -> Outcome:
    """Play one conversation with a fresh sender id; collect every rule it breaks."""
    outcome = Outcome(case["id"], list(case.get("patterns") or []))
    channel = case.get("channel", "web")
    sender = f"{channel}-conv-{uuid.uuid4().hex[:10]}"
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    values = {
        "phone": _fresh_phone(),
        "id": _fresh_id(),
        "elder_id": _fresh_id(1945, 1955),
        "code": "",
    }
    previous_reply: str | None = None
    asked: dict[str, int] = {}
    buttons: list[dict[str, Any]] = []
    for number, turn in enumerate(case.get("turns") or [], start=1):
        if turn.get("new_chat"):
            # The same person in a new conversation: the values (phone, code) carry over, the
            # whole-conversation rules start afresh.
            sender = f"{channel}-conv-{uuid.uuid4().hex[:10]}"
            previous_reply, asked, buttons = None, {}, []
        if "press" in turn:
            chosen = [b for b in buttons if turn["press"] in (b.get("title") or "")]
            if not chosen:
                outcome.failures.append(f"turn {number}: no button titled {turn['press']!r}")
                break
            message = chosen[0]["payload"]
        else:
            message = str(turn["user"]).format(**values)
        started = time.monotonic()
        try:
            replies = _post(url, {"sender": sender, "message": message}) or []
        except Exception as exc:  # the server's failure is this case's failure
            outcome.failures.append(f"turn {number}: request failed: {exc}")
            break
        finally:
            outcome.turn_seconds.append(time.monotonic() - started)
        text = "\n".join(r.get("text") or "" for r in replies if isinstance(r, dict)).strip()
        buttons = [b for r in replies if isinstance(r, dict) for b in r.get("buttons") or []]
        outcome.transcript += [f"U{number}: {message}", f"B{number}: {text}"]
        found = CODE.search(text)
        if found:
            values["code"] = found.group(1)
        if not text and not turn.get("silent"):
            outcome.failures.append(f"turn {number}: no reply")
        for entry in turn.get("expect") or []:
            if not _contains(text, entry):
                outcome.failures.append(f"turn {number}: expected {entry!r}")
        for entry in turn.get("forbid") or []:
            if _contains(text, entry):
                outcome.failures.append(f"turn {number}: must not say {entry!r}")
        if text and text == previous_reply:
            outcome.failures.append(f"turn {number}: the same answer twice in a row")
        for question in _questions(text):
            if question in asked and not case.get("repeat_ok"):
                outcome.repeated_question = True
                outcome.failures.append(
                    f"turn {number}: asked again (first in turn {asked[question]}): {question}"
                )
            asked.setdefault(question, number)
        previous_reply = text
    return outcome


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    total = len(outcomes)
    passed = sum(o.passed for o in outcomes)
    by_pattern: dict[str, list[int]] = {}
    for outcome in outcomes:
        for pattern in outcome.patterns:
            by_pattern.setdefault(pattern, [0, 0])
            by_pattern[pattern][0] += outcome.passed
            by_pattern[pattern][1] += 1
    return {
        "total": total,
        "passed": passed,
        "pass_rate": passed / total if total else 0.0,
        "no_repeated_question": sum(not o.repeated_question for o in outcomes) / total
        if total
        else 0.0,
        "by_pattern": by_pattern,
    }
