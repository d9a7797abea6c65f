"""Fixtures for the WeChat gateway tests — all offline (localhost fake servers only).

* ``fake_api``  — the fake WeChat API (tokens, 客服 messages)
* ``fake_rasa`` — the Telegram tests' stand-in Rasa REST channel (shared, not copied)
* ``engine``    — a fresh SQLite core database (outbox, channel_contacts)
* ``gateway_factory(rasa_url, mode=…, **config)`` — the real gateway against ``fake_api``
* ``gateway``   — a plaintext-mode gateway against ``fake_rasa``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from bot.core import migrate
from bot.core.db import Base, make_engine
from tests.channels.telegram.fake_rasa import FakeRasa
from tests.channels.wechat.fake_wechat_api import FakeWeChatApi
from tests.channels.wechat.harness import GatewayHarness, start_gateway


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path / "data"))
    migrate.load_models()
    made = make_engine(f"sqlite:///{tmp_path / 'core.db'}")
    Base.metadata.create_all(made)
    yield made
    made.dispose()


@pytest_asyncio.fixture
async def fake_api() -> AsyncIterator[FakeWeChatApi]:
    api = FakeWeChatApi()
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
    fake_api: FakeWeChatApi, engine
) -> AsyncIterator[Callable[..., Awaitable[GatewayHarness]]]:
    started: list[GatewayHarness] = []

    async def make(rasa_url: str, **overrides: Any) -> GatewayHarness:
        harness = await start_gateway(fake_api, rasa_url, engine=engine, **overrides)
        started.append(harness)
        return harness

    yield make
    for harness in started:
        await harness.close()


@pytest_asyncio.fixture
async def gateway(gateway_factory, fake_rasa: FakeRasa) -> GatewayHarness:
    return await gateway_factory(fake_rasa.url)
