"""``make bench-load``: how the assistant holds up under load, all figures from one run.

Starts a throw-away stack (real Rasa and action server, ``RJ_RATE_LIMITS=off``) and prints:

1. parse-only throughput: ``/model/parse``, 20 concurrent clients (the NLU alone);
2. full-turn throughput through the REST channel: 20 concurrent users, each playing a realistic
   multi-turn conversation (a question, the 报到 form to its 确认码, more questions), new users
   as conversations end; p50/p95/p99 turn latency and **the ratio to (1)** — the figure to
   compare between machines, since absolute speeds depend on who else uses the CPUs;
3. drift: 60-turn conversations that open and close with the same 10 questions (the 报到 form
   and more questions between): median latency of the last 10 turns / the first 10, so the
   two do the same work and only the conversation's length differs; the median of 3;
4. a burst: 200 users send one message at the same moment; each must be answered (or told
   "busy, retry") within 10 s — counts of answered, busy, 5xx, empty replies and timeouts;
5. Rasa's resident memory at start and after the run.

    make bench-load                                   # full run (~4 minutes of load)
    python -m tests.benchmarks.bench_load --quick     # shorter phases
    make bench-load ARGS=--cluster                    # 2 servers vs 1, kill one under load
    make bench-load ARGS="--soak 10"                  # 20 users for 10 minutes: RSS and rate
    RASA_URL=http://127.0.0.1:5005 RASA_AUTH_TOKEN=… python -m tests.benchmarks.bench_load
                                                      # against a running stack (no RSS)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.core import inbound, people

REST = "/webhooks/rest/webhook"
PARSE_TEXTS = [
    "退役军人有哪些优待政策",
    "我想预约报到",
    "荣军卡怎么办理",
    "伤残抚恤金每个月多少钱",
    "俺是退伍兵 想找个工作",
    "我想许个微心愿",
    "服务中心电话是多少",
    "退役士兵自主就业一次性经济补助怎么算",
    "你是机器人吗",
    "转人工",
    "城阳区退役军人服务站在哪",
    "創業有什麼扶持政策",
]


def _phone() -> str:
    while True:
        number = "1" + random.choice("3578") + "".join(random.choices("0123456789", k=9))
        try:
            return people.validate_mobile(number)
        except people.InvalidMobile:
            continue


def _id_number() -> str:
    first17 = "370214" + f"{random.randint(1950, 2000)}" + "0315" + f"{random.randint(0, 999):03d}"
    return first17 + people.id_check_digit(first17)


def conversation() -> list[str]:
    """One user's messages: a question, the 报到 form to its confirmation, more questions.

    ``press:TEXT`` sends the payload of the button whose title contains TEXT (else TEXT).
    """
    return [
        "你好",
        "退役军人有哪些优待政策",
        "我想预约报到",
        "退役士兵",
        random.choice(["城阳", "市北", "李沧", "即墨", "黄岛"]),
        random.choice(["下周三上午", "下周四下午", "下周二上午"]),
        random.choice(["李建国", "王德顺", "张海涛", "孙长福"]),
        _phone(),
        _id_number(),
        "上个月20号",
        "press:确认",
        "荣军卡怎么办理",
        "伤残抚恤金每个月多少钱",
        "谢谢",
    ]


# The same ten turns open and close a drift conversation: questions and small talk that start
# no form, so both ends do the same work.
DRIFT_ENDS = [
    "退役军人有哪些优待政策",
    "荣军卡怎么办理",
    "伤残抚恤金每个月多少钱",
    "退役士兵自主就业一次性经济补助怎么算",
    "服务中心电话是多少",
    "城阳区退役军人服务站在哪",
    "創業有什麼扶持政策",
    "你是机器人吗",
    "谢谢",
    "你好",
]


def long_conversation(turns: int = 60) -> list[str]:
    """``turns`` messages: ``DRIFT_ENDS``, then whole conversations (the 报到 form to its
    confirmation) and questions, then ``DRIFT_ENDS`` again."""
    middle: list[str] = []
    while len(middle) < turns - 2 * len(DRIFT_ENDS):
        block = conversation()[1:]
        room = turns - 2 * len(DRIFT_ENDS) - len(middle)
        middle.extend(block if len(block) <= room else random.sample(DRIFT_ENDS, room))
    return DRIFT_ENDS + middle + DRIFT_ENDS


def _quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _ms(values: list[float], share: float) -> str:
    return f"{_quantile(values, share) * 1000:.0f}"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    empty: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _payload(message: str, replies: list[dict]) -> str:
    if not message.startswith("press:"):
        return message
    wanted = message[len("press:") :]
    for reply in replies:
        for button in reply.get("buttons") or []:
            if wanted in (button.get("title") or ""):
                return button["payload"]
    return wanted


async def send(
    http: aiohttp.ClientSession, base: str, sender: str, text: str, tally: Tally, timeout: float
) -> list[dict]:
    started = time.monotonic()
    try:
        async with http.post(
            base + REST,
            json={"sender": sender, "message": text},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            body = await resp.json(content_type=None) if resp.status < 400 else None
            if resp.status >= 400:
                tally.error(f"HTTP {resp.status}")
                return []
    except asyncio.TimeoutError:
        tally.error("timeout")
        return []
    except aiohttp.ClientError as exc:
        tally.error(type(exc).__name__)
        return []
    tally.latencies.append(time.monotonic() - started)
    replies = [r for r in body or [] if isinstance(r, dict)]
    if not any(r.get("text") or r.get("buttons") for r in replies):
        tally.empty += 1
    return replies


async def parse_phase(base: str, token: str, seconds: float, concurrency: int) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds

    async def worker(http: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                async with http.post(
                    f"{base}/model/parse",
                    params={"token": token},
                    json={"text": random.choice(PARSE_TEXTS)},
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        tally.error(f"HTTP {resp.status}")
                        continue
            except aiohttp.ClientError as exc:
                tally.error(type(exc).__name__)
                continue
            tally.latencies.append(time.monotonic() - started)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        started = time.monotonic()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        tally.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    return tally


async def turn_phase(bases: list[str], seconds: float, users: int) -> Tally:
    """``users`` concurrent users; each plays conversations until the time is up.

    With several servers (``bases``) the sender is hashed to one, as the router does."""
    tally = Tally()
    deadline = time.monotonic() + seconds

    async def user(http: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            sender = f"load-{uuid.uuid4().hex[:12]}"
            base = bases[hash(sender) % len(bases)]
            replies: list[dict] = []
            for message in conversation():
                if time.monotonic() >= deadline:
                    return
                replies = await send(http, base, sender, _payload(message, replies), tally, 60)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        started = time.monotonic()
        await asyncio.gather(*(user(http) for _ in range(users)))
        tally.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    return tally


async def burst_phase(base: str, users: int, within: float) -> tuple[Tally, int]:
    """``users`` messages at once; returns the tally and how many replies said "busy"."""
    tally = Tally()
    busy = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        results = await asyncio.gather(
            *(
                send(http, base, f"burst-{uuid.uuid4().hex[:12]}", "你好", tally, within)
                for _ in range(users)
            )
        )
    for replies in results:
        if any(r.get("text") == inbound.reply("busy") for r in replies):
            busy += 1
    return tally, busy


def cpu_ms(pids: Iterable[int]) -> float:
    """CPU time (user + system) the processes have used so far, in ms."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    return total


async def drift_phase(
    base: str, turns: int, pids: Iterable[int] = ()
) -> tuple[list[float], list[float]]:
    """One ``turns``-long conversation: each turn's latency, and the CPU time the ``pids`` (Rasa
    and the action server) spent on it — what a busy machine does not blur."""
    tally = Tally()
    cpu: list[float] = []
    sender = f"drift-{uuid.uuid4().hex[:12]}"
    replies: list[dict] = []
    async with aiohttp.ClientSession() as http:
        for message in long_conversation(turns):
            before = cpu_ms(pids)
            replies = await send(http, base, sender, _payload(message, replies), tally, 60)
            cpu.append(cpu_ms(pids) - before)
    return tally.latencies, cpu


def drift_ratio(latencies: list[float]) -> tuple[float, float, float]:
    """Median of the first 10 turns, of the last 10, and their ratio."""
    first, last = statistics.median(latencies[:10]), statistics.median(latencies[-10:])
    return first, last, last / first


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def print_turns(title: str, tally: Tally) -> float:
    rate = len(tally.latencies) / tally.elapsed  # type: ignore[attr-defined]
    lat = tally.latencies
    print(
        f"{title}: {rate:.1f} msg/s ({len(lat)} in {tally.elapsed:.0f} s), "  # type: ignore[attr-defined]
        f"p50 {_ms(lat, 0.5)} ms, p95 {_ms(lat, 0.95)} ms, p99 {_ms(lat, 0.99)} ms; "
        f"errors {tally.errors or 0}, empty replies {tally.empty}",
        flush=True,
    )
    return rate


async def run(
    args: argparse.Namespace,
    base: str,
    token: str,
    rasa_pid: int | None,
    pids: Iterable[int] = (),
) -> None:
    seconds = 15 if args.quick else 45
    rss_start = rss_mb(rasa_pid)
    # Warm-up: the first messages load lazily initialised parts of the pipeline.
    await turn_phase([base], 5, 2)
    parse = await parse_phase(base, token, seconds, 20)
    parse_rate = print_turns("parse-only (/model/parse, 20 concurrent)", parse)
    turns = await turn_phase([base], seconds, 20)
    turn_rate = print_turns("full turn (REST, 20 concurrent users)", turns)
    print(f"full-turn / parse-only throughput: {turn_rate / parse_rate:.1%}", flush=True)
    runs = [await drift_phase(base, 60, pids) for _ in range(3)]
    drifts = [drift_ratio(latencies) for latencies, _ in runs if len(latencies) == 60]
    if drifts:
        first, last, ratio = sorted(drifts, key=lambda d: d[2])[len(drifts) // 2]
        print(
            f"drift over 60-turn conversations (median of {len(drifts)}): "
            f"first-10 median {first * 1000:.0f} ms, last-10 median {last * 1000:.0f} ms, "
            f"ratio {ratio:.2f} (each: {', '.join(f'{d[2]:.2f}' for d in drifts)})",
            flush=True,
        )
    if pids and all(len(cpu) == 60 for _, cpu in runs):
        # /proc counts in 10 ms ticks: means over the 3 conversations' 30 turns at each end
        first = statistics.mean(c for _, cpu in runs for c in cpu[:10])
        last = statistics.mean(c for _, cpu in runs for c in cpu[-10:])
        print(
            f"drift in CPU per turn (Rasa + action server, 3 conversations): first-10 "
            f"{first:.1f} ms, last-10 {last:.1f} ms, ratio {last / first:.2f}",
            flush=True,
        )
    # Last: the turns the burst's clients gave up on still run in Rasa for a while.
    burst, busy = await burst_phase(base, 200, 10.0)
    other = {k: n for k, n in burst.errors.items() if k != "timeout" and not k.startswith("HTTP 5")}
    print(
        f"burst of 200 users (10 s): answered {len(burst.latencies) - busy}, busy {busy}, "
        f"5xx {sum(n for k, n in burst.errors.items() if k.startswith('HTTP 5'))}, "
        f"timeouts {burst.errors.get('timeout', 0)}, other errors "
        f"{other or 0}, "
        f"empty replies {burst.empty}; p50 {_ms(burst.latencies, 0.5)} ms, "
        f"max {max(burst.latencies, default=0) * 1000:.0f} ms",
        flush=True,
    )
    rss_end = rss_mb(rasa_pid)
    if rss_start is not None and rss_end is not None:
        print(f"Rasa RSS: {rss_start:.0f} MB at start, {rss_end:.0f} MB after the run")


def _mb(value: float | None) -> str:
    """A resident size, or why there is none (a stack started elsewhere: no pid to read)."""
    return f"{value:.0f} MB" if value is not None else "unknown (not our process)"


async def soak(base: str, minutes: float, rasa_pid: int | None) -> None:
    """20 users for ``minutes``; Rasa's RSS and the turn rate each minute.

    Rasa's memory grows while its per-conversation caches fill (512 recent conversations), so
    stability is judged from the end of the first minute to the end."""
    rss = [rss_mb(rasa_pid)]
    print(f"soak: 20 users for {minutes:g} min; Rasa RSS {_mb(rss[0])} at start", flush=True)
    for minute in range(1, int(minutes) + 1):
        tally = await turn_phase([base], 60, 20)
        rss.append(rss_mb(rasa_pid))
        rate = len(tally.latencies) / tally.elapsed  # type: ignore[attr-defined]
        print(
            f"  minute {minute}: {rate:.1f} msg/s, p95 {_ms(tally.latencies, 0.95)} ms, "
            f"errors {tally.errors or 0}, RSS {_mb(rss[-1])}",
            flush=True,
        )
    if len(rss) > 2 and None not in rss:
        print(
            f"soak RSS: {rss[1]:.0f} MB after minute 1, {rss[-1]:.0f} MB at the end "
            f"({rss[-1] / rss[1] - 1:+.1%}), max {max(rss):.0f} MB",
            flush=True,
        )


async def run_cluster(args: argparse.Namespace, running, workdir: Path) -> None:
    """2 servers vs 1 (same users, same run), then one server killed under load."""
    from tests.perf import cluster_harness

    seconds = 15 if args.quick else 45
    await turn_phase(running.urls, 5, 4)
    one = print_turns(
        "full turn, 1 server (20 users)", await turn_phase(running.urls[:1], seconds, 20)
    )
    both = print_turns(
        f"full turn, {len(running.urls)} servers (20 users, sender-hashed)",
        await turn_phase(running.urls, seconds, 20),
    )
    print(f"{len(running.urls)} servers / 1 server throughput: {both / one:.2f}", flush=True)
    senders = [f"kill-{uuid.uuid4().hex[:10]}" for _ in range(20)]
    messages = conversation()[:10]
    played = await cluster_harness.play(
        running.rasa_url, senders, messages, kill=(seconds / 3, lambda: running.kill(1))
    )
    for stack in running.stacks[:1]:  # the survivor writes its event log's last batch
        stack.processes["rasa"].terminate()
        stack.processes["rasa"].wait(60)
    tracker, broker = cluster_harness.stored_seqs(
        running.env["RASA_TRACKER_URL"], workdir / "rasa_events.db"
    )
    problems = cluster_harness.check(played, senders, len(messages), tracker, broker)
    stored = sum(len(v) for k, v in tracker.items() if k in senders)
    print(
        f"kill one server under load: {sum(played.sent.values())} of "
        f"{len(senders) * len(messages)} messages answered "
        f"({sum(len(v) for v in played.failed.values())} not, or told busy), "
        f"{stored} user events stored; "
        f"lost/duplicated/reordered: {len(problems)} senders"
        + "".join(f"\n  {p}" for p in problems[:5]),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s phases instead of 45 s")
    parser.add_argument(
        "--soak", type=float, metavar="MINUTES", help="only a soak of MINUTES at 20 users"
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="2 Rasa servers (PostgreSQL tracker store, Redis locks) vs 1, then kill one",
    )
    args = parser.parse_args(argv)
    if args.cluster:
        from tests.perf import cluster_harness

        with (
            tempfile.TemporaryDirectory() as workdir,
            cluster_harness.cluster(Path(workdir)) as running,
        ):
            print(f"cluster up: {running.rasa_url}", flush=True)
            asyncio.run(run_cluster(args, running, Path(workdir)))
        return 0
    base = os.environ.get("RASA_URL", "").rstrip("/")
    if base:
        if args.soak:
            asyncio.run(soak(base, args.soak, None))
        else:
            asyncio.run(run(args, base, os.environ.get("RASA_AUTH_TOKEN", ""), None))
        return 0
    from bot.run import Stack
    from tests.conftest import free_port

    with tempfile.TemporaryDirectory() as workdir:
        env = dict(
            os.environ,
            RJ_DATA_DIR=workdir,
            DATABASE_URL=f"sqlite:///{Path(workdir) / 'rongjun.db'}",
            RJ_RATE_LIMITS="off",
        )
        subprocess.run([sys.executable, "-m", "bot.core.migrate"], env=env, check=True)
        stack = Stack(
            rasa_port=free_port(), action_port=free_port(), env=env, log_dir=Path(workdir) / "logs"
        )
        try:
            stack.start_actions()
            stack.start_rasa()
            print(f"stack up (logs in {workdir}/logs); Rasa pid {stack.processes['rasa'].pid}")
            if args.soak:
                asyncio.run(
                    soak(
                        f"http://127.0.0.1:{stack.rasa_port}",
                        args.soak,
                        stack.processes["rasa"].pid,
                    )
                )
                return 0
            asyncio.run(
                run(
                    args,
                    f"http://127.0.0.1:{stack.rasa_port}",
                    stack.rasa_token,
                    stack.processes["rasa"].pid,
                    [stack.processes[name].pid for name in ("rasa", "actions")],
                )
            )
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
