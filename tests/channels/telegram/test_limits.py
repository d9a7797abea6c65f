"""Per-user rate limit on incoming messages."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.rate_limit import RateLimiter
from bot.channels.telegram.texts import default_texts

TEXTS = default_texts()


def test_token_bucket_refills_and_notifies_once_per_window():
    now = [0.0]
    limiter = RateLimiter(capacity=3, window=6.0, clock=lambda: now[0])
    assert [limiter.check("u").allowed for _ in range(3)] == [True] * 3
    first, second = limiter.check("u"), limiter.check("u")
    assert (first.allowed, first.notify) == (False, True)
    assert (second.allowed, second.notify) == (False, False)
    assert limiter.check("other").allowed  # users are independent
    now[0] = 2.0  # one token back (3 per 6 s)
    assert limiter.check("u").allowed
    assert not limiter.check("u").allowed
    now[0] = 6.5  # a new window: the first refusal is told again, the next ones are not
    decisions = [limiter.check("u") for _ in range(5)]
    refused = [d for d in decisions if not d.allowed]
    assert refused and refused[0].notify and not any(d.notify for d in refused[1:])


def test_bounded_number_of_buckets():
    limiter = RateLimiter(capacity=1, window=1.0, max_keys=10)
    for user in range(100):
        limiter.check(user)
    assert len(limiter._buckets) == 10


@pytest.mark.asyncio
async def test_flood_gets_one_wait_reply_and_is_not_forwarded(gateway, fake_api, fake_rasa):
    for i in range(12):
        await gateway.say(5001, f"第{i}条")
    await gateway.say(5002, "别人")  # another user is not affected
    await fake_rasa.wait_for(9)
    await gateway.replies(5001, 9)
    await asyncio.sleep(0.2)
    texts = fake_api.texts_to(5001)
    assert texts.count(TEXTS.get("rate_limited")) == 1
    assert fake_rasa.messages("tg-5001") == [f"第{i}条" for i in range(8)]
    assert fake_rasa.messages("tg-5002") == ["别人"]
