"""``make bench-assist``: how often the agent console's top suggestion has a case's key facts.

Plays every handoff conversation in ``tests/benchmarks/assist_cases.yml`` (``cases: [{id,
channel, turns, key_facts, topic}]``; each key fact is an alternative list "a|b", all must be
in the answer) against a fresh stack (real Rasa and action server, as ``bench-dialogue``), then
builds the suggestions exactly as the console does (``bot.console.assist``: the tracker's events,
the question part of a "转人工…" message parsed on its own, the bookings and wishes in the
database, ``bot.core.agent_assist``) and prints the share of cases whose top suggestion (and
any of the top three) contains every key fact, the share of key facts found, per topic, and each
miss.

    RASA_URL=http://127.0.0.1:5005 make bench-assist   # against an already running stack
    python -m tests.benchmarks.bench_assist card- wish  # only cases whose id or topic has these
    ASSIST_CASES=path/to/cases.yml make bench-assist    # another cases file
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

CASES = Path(__file__).with_name("assist_cases.yml")
CHANNELS = {"telegram": "tg", "web": "web", "wechat": "wx"}


def load_cases(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("cases") or [])


def contains(text: str, fact: str) -> bool:
    return any(option and option in text for option in str(fact).split("|"))


def has_all(text: str, facts: list[str]) -> bool:
    return all(contains(text, f) for f in facts)


def _say(base: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(
        base + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"[]")


async def suggest(rasa, engine, sender: str) -> tuple[list[dict], dict]:
    """The console's suggestions and summary for ``sender`` (no events are logged)."""
    from bot.console import assist
    from bot.core import agent_assist, db

    tracker = await rasa.tracker(sender)
    slots = tracker.get("slots") or {}
    with db.session_scope(engine) as s:
        held = {
            "appointments": assist.appointment_summaries(s, sender),
            "wishes": assist._wishes(s, sender),
            "reason": assist._reason(s, sender),
        }
    turns = await assist.conversation_turns(rasa, tracker)
    found = agent_assist.suggestions(
        turns,
        slots=slots,
        appointments=held["appointments"],
        wishes=held["wishes"],
        reason=held["reason"],
    )
    summary = agent_assist.summary(
        turns,
        slots=slots,
        appointments=held["appointments"],
        wishes=held["wishes"],
        reason=held["reason"],
    )
    return found, summary


async def run_cases(base: str, token: str, database_url: str, cases: list[dict]) -> list[dict]:
    from bot.channels.rasa_client import RasaClient
    from bot.core import db

    engine = db.make_engine(database_url)
    rasa = RasaClient(base, token=token)
    outcomes = []
    try:
        for case in cases:
            sender = f"{CHANNELS.get(case.get('channel'), 'web')}-assist-{uuid.uuid4().hex[:10]}"
            started = time.monotonic()
            for text in case.get("turns") or []:
                await asyncio.to_thread(_say, base, sender, str(text))
            found, summary = await suggest(rasa, engine, sender)
            facts = [str(f) for f in case.get("key_facts") or []]
            texts = [s["text"] for s in found]
            top = texts[0] if texts else ""
            outcomes.append(
                {
                    "id": case["id"],
                    "topic": case.get("topic", ""),
                    "top1": has_all(top, facts),
                    "top3": any(has_all(t, facts) for t in texts[:3]),
                    "facts": len(facts),
                    "facts_top1": sum(contains(top, f) for f in facts),
                    "missing": [f for f in facts if not contains(top, f)],
                    "top": f"{found[0]['source']}:{found[0]['ref']}" if found else "-",
                    "question": summary["question"],
                    "seconds": time.monotonic() - started,
                }
            )
    finally:
        await rasa.close()
        engine.dispose()
    return outcomes


def report(outcomes: list[dict], seconds: float) -> None:
    n = len(outcomes) or 1
    top1 = sum(o["top1"] for o in outcomes)
    top3 = sum(o["top3"] for o in outcomes)
    facts = sum(o["facts"] for o in outcomes) or 1
    found = sum(o["facts_top1"] for o in outcomes)
    for o in outcomes:
        if not o["top1"]:
            print(
                f"✗ {o['id']:34} top={o['top']:32} missing={'、'.join(o['missing'])}"
                f"  (question: {o['question'][:30]})"
            )
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for o in outcomes:
        by_topic[o["topic"]].append(o)
    print("\n=== assist benchmark ===")
    print(f"cases: {len(outcomes)} in {seconds:.0f} s")
    print(f"top suggestion has every key fact: {top1}/{len(outcomes)} ({top1 / n:.1%})")
    print(f"one of the top 3 has every key fact: {top3}/{len(outcomes)} ({top3 / n:.1%})")
    print(f"key facts in the top suggestion: {found}/{facts} ({found / facts:.1%})")
    for topic, items in sorted(by_topic.items()):
        print(f"  {topic:16} top-1 {sum(o['top1'] for o in items)}/{len(items)}")


def main() -> int:
    wanted = sys.argv[1:]
    path = Path(os.environ.get("ASSIST_CASES") or CASES)
    if not path.exists():
        print(f"{path} not found (the cases file is written separately; see the docstring).")
        return 1
    cases = [
        c
        for c in load_cases(path)
        if not wanted or any(w in c["id"] or w in str(c.get("topic", "")) for w in wanted)
    ]
    base = os.environ.get("RASA_URL", "").rstrip("/")
    stack = None
    with tempfile.TemporaryDirectory() as workdir:
        env = dict(os.environ, RJ_RATE_LIMITS="off")
        if not base:
            import subprocess

            from bot.run import Stack
            from tests.conftest import free_port

            env.update(
                RJ_DATA_DIR=workdir, DATABASE_URL=f"sqlite:///{Path(workdir) / 'rongjun.db'}"
            )
            subprocess.run([sys.executable, "-m", "bot.core.migrate"], env=env, check=True)
            stack = Stack(
                rasa_port=free_port(),
                action_port=free_port(),
                env=env,
                log_dir=Path(workdir) / "logs",
            )
        try:
            if stack is not None:
                stack.start_actions()
                stack.start_rasa()
                base = f"http://127.0.0.1:{stack.rasa_port}"
                token = stack.rasa_token
                os.environ["RJ_DATA_DIR"] = workdir  # the ID key the action server generated
            else:
                from bot.core import settings

                token = settings.rasa_auth_token()
            database_url = env.get("DATABASE_URL") or os.environ.get("DATABASE_URL", "")
            if not database_url:
                from bot.core import settings

                database_url = settings.current().database_url
            started = time.monotonic()
            outcomes = asyncio.run(run_cases(base, token, database_url, cases))
            seconds = time.monotonic() - started
        finally:
            if stack is not None:
                stack.stop()
    report(outcomes, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
