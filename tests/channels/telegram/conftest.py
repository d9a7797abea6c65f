"""Fixtures for the Telegram gateway tests — all offline (localhost fake servers only).

* ``fake_api``  — the fake Telegram Bot API (tests/channels/telegram/fake_bot_api.py)
* ``fake_rasa`` — a stand-in Rasa REST channel (unit-level tests only)
* ``gateway_factory(rasa_url, **config)`` — starts the real gateway against ``fake_api`` and the
  given Rasa URL; an end-to-end test passes the real Rasa's URL here.
* ``gateway`` — a gateway against ``fake_rasa``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from tests.channels.telegram.fake_bot_api import FakeBotApi
from tests.channels.telegram.fake_rasa import FakeRasa
from tests.channels.telegram.harness import GatewayHarness, start_gateway

logging.getLogger("httpx").setLevel(logging.WARNING)


@pytest_asyncio.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


@pytest_asyncio.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    rasa = FakeRasa()
    await rasa.start()
    yield rasa
    await rasa.stop()


@pytest_asyncio.fixture
async def gateway_factory(
    fake_api: FakeBotApi,
) -> AsyncIterator[Callable[..., Awaitable[GatewayHarness]]]:
    started: list[GatewayHarness] = []

    async def make(rasa_url: str, **overrides: Any) -> GatewayHarness:
        harness = await start_gateway(fake_api, rasa_url, **overrides)
        started.append(harness)
        return harness

    yield make
    for harness in started:
        await harness.close()


@pytest_asyncio.fixture
async def gateway(gateway_factory, fake_rasa: FakeRasa) -> GatewayHarness:
    return await gateway_factory(fake_rasa.url)
