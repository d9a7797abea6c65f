"""Telegram gateway benchmark: concurrent users through the real gateway and PTB client.

    make bench-telegram      (python -m tests.benchmarks.bench_telegram [--users 20] [--messages 8])

A fake Telegram Bot API (tests/channels/telegram/fake_bot_api.py) feeds updates by long polling and
records the replies. Rasa is RASA_URL when set (a running Rasa server), else a tiny local echo
stand-in with a configurable delay (--rasa-delay, default 20 ms) — the output says which.

Each simulated user sends its messages one after another, waiting for the reply; all users run
at once. Two phases:

1. production settings — PTB's AIORateLimiter paces sends to Telegram's documented flood limit
   (about 30 messages/second per bot), so this phase shows what users would see at that load;
2. outgoing limiter off — the gateway's own capacity (PTB + relay + Rasa client).

Messages per user default to 8 = the per-user incoming limit (8 per 10 s), so no message is
refused; more messages per user raise that limit for the run (and say so). A real Rasa also
limits each sender (RJ_REST_RATE_LIMIT, 20 per minute): start it with RJ_RATE_LIMITS=off to
measure beyond that.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import time
from typing import Any

from tests.channels.telegram.fake_bot_api import FakeBotApi, text_update
from tests.channels.telegram.fake_rasa import FakeRasa
from tests.channels.telegram.harness import start_gateway

QUESTIONS = [
    "你好",
    "荣军卡怎么办理",
    "我想了解优待政策",
    "退役军人报到需要带什么材料",
    "有什么就业培训",
    "怎么联系工作人员",
    "荣军保是什么",
    "谢谢",
]


async def _user(
    api: FakeBotApi, chat_id: int, count: int, settle: float, latencies: list[float]
) -> int:
    """One user: send, wait for the first reply, (optionally) let the rest of the answer arrive."""
    answered = 0
    for i in range(count):
        before = len(api.calls_of("sendMessage", chat_id))
        started = time.perf_counter()
        await api.inject(text_update(chat_id, QUESTIONS[i % len(QUESTIONS)]))
        try:
            await api.wait_for("sendMessage", before + 1, chat_id=chat_id, timeout=30)
        except AssertionError:
            continue
        latencies.append(time.perf_counter() - started)
        answered += 1
        if settle:
            seen = len(api.calls_of("sendMessage", chat_id))
            while True:  # a real Rasa may answer with several items
                await asyncio.sleep(settle)
                now = len(api.calls_of("sendMessage", chat_id))
                if now == seen:
                    break
                seen = now
    return answered


async def _phase(
    name: str, api: FakeBotApi, rasa_url: str, args: argparse.Namespace, **config: Any
) -> None:
    overrides: dict[str, Any] = {"rasa_timeout": 30.0, "pending_retry_interval": 5.0, **config}
    if args.messages > 8:
        overrides["rate_capacity"] = args.messages
    harness = await start_gateway(api, rasa_url, **overrides)
    base = random.randint(10_000_000, 90_000_000)  # fresh conversations on a real Rasa
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        answered = await asyncio.gather(
            *(
                _user(api, base + u, args.messages, args.settle, latencies)
                for u in range(args.users)
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        await harness.close()
    total = sum(answered)
    sent = args.users * args.messages
    if not latencies:
        print(f"{name}: no replies ({sent} sent) — is Rasa reachable at {rasa_url}?")
        return
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    print(
        f"{name}: {total}/{sent} answered in {elapsed:.2f} s → {total / elapsed:.1f} messages/s; "
        f"reply latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {cuts[18] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    api = FakeBotApi()
    await api.start()
    stand_in: FakeRasa | None = None
    rasa_url = os.environ.get("RASA_URL", "").strip().rstrip("/")
    if rasa_url:
        print(f"Rasa: real server at RASA_URL={rasa_url}")
    else:
        stand_in = FakeRasa(delay=args.rasa_delay)
        await stand_in.start()
        rasa_url = stand_in.url
        print(
            f"Rasa: local echo stand-in ({args.rasa_delay * 1000:.0f} ms per message); "
            "set RASA_URL to measure against a running Rasa"
        )
    print(
        f"Telegram: fake Bot API on 127.0.0.1:{api.port}; {args.users} concurrent users × "
        f"{args.messages} messages (long polling)"
    )
    if args.messages > 8:
        print(f"(per-user incoming limit raised to {args.messages} per 10 s for this run)")
    try:
        await _phase("1. production (AIORateLimiter on)", api, rasa_url, args)
        await _phase(
            "2. outgoing limiter off      ", api, rasa_url, args, outgoing_rate_limit=False
        )
    finally:
        if stand_in is not None:
            await stand_in.stop()
        await api.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=8, help="messages per user")
    parser.add_argument("--rasa-delay", type=float, default=0.02, help="stand-in Rasa delay (s)")
    parser.add_argument(
        "--settle",
        type=float,
        default=None,
        help="wait for further reply items (s); default 0.05 with a real Rasa",
    )
    args = parser.parse_args(argv)
    if args.settle is None:
        args.settle = 0.05 if os.environ.get("RASA_URL") else 0.0
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
