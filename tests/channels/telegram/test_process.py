"""``python -m bot.channels.telegram`` as a real process, configured only through the
environment."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.core import outbox
from bot.core.clock import now as local_now
from bot.core.db import Base, make_engine, session_scope
from tests.channels.telegram.fake_bot_api import text_update

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.asyncio
async def test_gateway_process_polls_pushes_delivers_reminders_and_stops(
    fake_api, fake_rasa, tmp_path
):
    db_url = f"sqlite:///{tmp_path / 'rongjun.db'}"
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    with session_scope(engine) as s:
        outbox.enqueue(
            s,
            "tg-9101",
            "提醒：明天9:00报到",
            due_at=local_now() - timedelta(minutes=5),
            kind="reminder",
            now=datetime(2025, 1, 1),
        )
    engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        TELEGRAM_TOKEN=fake_api.token,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        RASA_URL=fake_rasa.url,
        TELEGRAM_GATEWAY_PORT=str(port),
        GATEWAY_PUSH_TOKEN="proc-token",
        RJ_DATA_DIR=str(tmp_path),
        DATABASE_URL=db_url,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.channels.telegram",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake_api.wait_for("setMyCommands", 1, timeout=30)
        assert await fake_api.wait_for("sendMessage", 1, chat_id=9101, timeout=10)  # the reminder
        await fake_api.inject(text_update(9102, "你好"))
        await fake_api.wait_for("sendMessage", 1, chat_id=9102, timeout=10)
        assert fake_api.texts_to(9102) == ["收到：你好"]
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/push",
                json={"recipient": "tg-9103", "text": "推送"},
                headers={"Authorization": "Bearer proc-token"},
            ) as resp,
        ):
            assert resp.status == 200
        assert fake_api.texts_to(9103) == ["推送"]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), 30))[0].decode()
    assert process.returncode == 0, output
    assert fake_api.token not in output  # the token never reaches the logs
    assert "你好" not in output  # nor what users wrote
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        assert s.execute(select(outbox.OutboxMessage.status)).scalars().all() == [outbox.SENT]
    engine.dispose()
