"""WeChat gateway benchmark: concurrent users through the real gateway, as WeChat's servers
would call it.

    make bench-wechat      (python -m tests.benchmarks.bench_wechat [--users 20] [--messages 8])

WeChat's side is played by signed (and, in safe mode, AES-encrypted) XML posts to ``/wechat``,
built with wechatpy; 客服 calls go to the fake WeChat API (tests/channels/wechat/). Rasa is
RASA_URL when set (a running Rasa server), else a local echo stand-in with a configurable delay
(--rasa-delay, default 20 ms) — the output says which.

Each simulated user sends its messages one after another, waiting for the passive reply; all
users run at once. Latency is WeChat's view: from the POST to the passive reply. Phases:

1. plaintext mode;
2. safe mode (AES): decrypting each message and encrypting each reply;
3. safe mode, answers longer than one WeChat message (passive reply + a 客服 follow-up each):
   also reports when the follow-ups had all reached the fake API.

Messages per user default to 8 = the per-user incoming limit (8 per 10 s), so no message is
refused; more messages per user raise that limit for the run (and say so).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import tempfile
import time
from typing import Any

from bot.core import migrate
from bot.core.db import Base, make_engine
from tests.channels.telegram.fake_rasa import FakeRasa
from tests.channels.wechat.fake_wechat_api import FakeWeChatApi
from tests.channels.wechat.harness import start_gateway

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
LONG_ANSWER = "退役军人服务中心提供政策咨询、报到登记、优待证办理等服务。" * 30  # ~2.6 KB


async def _user(
    platform: Any,
    api: FakeWeChatApi,
    openid: str,
    count: int,
    latencies: list[float],
    late: list[int],
) -> int:
    """Latency is what the user sees: until the passive reply or, when Rasa took longer than
    the 5-second window allows, until the first 客服 message of the answer."""
    answered = 0
    for i in range(count):
        before = len(api.texts_to(openid))
        started = time.perf_counter()
        reply = await platform.text(openid, QUESTIONS[i % len(QUESTIONS)])
        if reply.status == 200 and not reply.content:
            try:
                await api.wait_for(before + 1, openid, timeout=60)
            except AssertionError:
                continue
            late.append(1)
        elif reply.status != 200:
            continue
        latencies.append(time.perf_counter() - started)
        answered += 1
    return answered


async def _phase(
    name: str,
    api: FakeWeChatApi,
    rasa_url: str,
    args: argparse.Namespace,
    mode: str,
    follow_ups: bool = False,
) -> None:
    overrides: dict[str, Any] = {
        "rasa_timeout": 30.0,
        "passive_timeout": 4.0,
        "followup_delay": 0.0,
        "contact_record_every": 60.0,
    }
    if args.messages > 8:
        overrides["rate_capacity"] = args.messages
    harness = await start_gateway(api, rasa_url, engine=args.engine, mode=mode, **overrides)
    base = random.randint(10_000_000, 90_000_000)  # fresh conversations on a real Rasa
    users = [f"oBENCH{base + u}" for u in range(args.users)]
    latencies: list[float] = []
    late: list[int] = []
    sent_before = len(api.sent)
    try:
        started = time.perf_counter()
        answered = await asyncio.gather(
            *(
                _user(harness.platform, api, openid, args.messages, latencies, late)
                for openid in users
            )
        )
        elapsed = time.perf_counter() - started
        total = sum(answered)
        follow_note = ""
        if follow_ups:
            await api.wait_for(sent_before + total, timeout=60)
            done = time.perf_counter() - started
            follow_note = (
                f"; {total} 客服 follow-ups all delivered after {done:.2f} s "
                f"({len(api.sent) - sent_before} sent, token fetched "
                f"{harness.gateway.api.token_fetches}×)"
            )
    finally:
        await harness.close()
    sent = args.users * args.messages
    if not latencies:
        print(f"{name}: no replies ({sent} sent) — is Rasa reachable at {rasa_url}?")
        return
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    print(
        f"{name}: {total}/{sent} answered in {elapsed:.2f} s → {total / elapsed:.1f} messages/s; "
        f"reply latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {cuts[18] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"{len(late)} answered by 客服 after the 4-second wait{follow_note}"
    )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    scratch = tempfile.TemporaryDirectory(prefix="bench-wechat-")
    migrate.load_models()
    args.engine = make_engine(f"sqlite:///{scratch.name}/core.db")  # the 48-hour window's table
    Base.metadata.create_all(args.engine)
    api = FakeWeChatApi()
    await api.start()
    stand_ins: list[FakeRasa] = []
    rasa_url = os.environ.get("RASA_URL", "").strip().rstrip("/")
    if rasa_url:
        print(f"Rasa: real server at RASA_URL={rasa_url}")
        long_url = rasa_url
    else:
        stand_in = FakeRasa(delay=args.rasa_delay)
        long_stand_in = FakeRasa(
            reply=lambda s, m, md: [{"text": LONG_ANSWER}], delay=args.rasa_delay
        )
        for rasa in (stand_in, long_stand_in):
            await rasa.start()
            stand_ins.append(rasa)
        rasa_url, long_url = stand_in.url, long_stand_in.url
        print(
            f"Rasa: local echo stand-in ({args.rasa_delay * 1000:.0f} ms per message); "
            "set RASA_URL to measure against a running Rasa"
        )
    print(
        f"WeChat: fake API on 127.0.0.1:{api.port}; {args.users} concurrent users × "
        f"{args.messages} messages"
    )
    if args.messages > 8:
        print(f"(per-user incoming limit raised to {args.messages} per 10 s for this run)")
    try:
        await _phase("1. plaintext mode            ", api, rasa_url, args, "plain")
        await _phase("2. safe mode (AES)           ", api, rasa_url, args, "safe")
        if not os.environ.get("RASA_URL"):
            await _phase(
                "3. safe mode, 2 messages each", api, long_url, args, "safe", follow_ups=True
            )
    finally:
        for rasa in stand_ins:
            await rasa.stop()
        await api.stop()
        args.engine.dispose()
        scratch.cleanup()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=8, help="messages per user")
    parser.add_argument("--rasa-delay", type=float, default=0.02, help="stand-in Rasa delay (s)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
