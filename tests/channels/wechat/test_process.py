"""The gateway as `make run` starts it: ``Stack.start_wechat()`` spawns ``python -m
bot.channels.wechat`` configured only through the environment."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.core import contacts, migrate, outbox
from bot.core.clock import now as local_now
from bot.core.db import Base, make_engine, session_scope
from bot.run import Stack
from tests.channels.wechat.harness import TOKEN, WeChatPlatform

USER = "oUSER_process_01"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_stack_starts_the_gateway_which_answers_and_delivers_reminders(
    fake_api, fake_rasa, tmp_path: Path
):
    db_url = f"sqlite:///{tmp_path / 'rongjun.db'}"
    migrate.load_models()
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    with session_scope(engine) as s:
        contacts.record_inbound(s, f"wx-{USER}", local_now() - timedelta(hours=2))
        outbox.enqueue(
            s,
            f"wx-{USER}",
            "提醒：明天9:00报到",
            kind="reminder",
            due_at=local_now() - timedelta(minutes=5),
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")}
    env.update(
        WECHAT_TOKEN=TOKEN,
        WECHAT_APPID=fake_api.appid,
        WECHAT_SECRET=fake_api.secret,
        WECHAT_API_BASE_URL=fake_api.base_url,
        RASA_URL=fake_rasa.url,
        GATEWAY_PUSH_TOKEN="proc-token",
        RJ_DATA_DIR=str(tmp_path),
        DATABASE_URL=db_url,
        LOG_LEVEL="INFO",
    )
    stack = Stack(wechat_port=_free_port(), env=env, log_dir=tmp_path / "logs")
    try:
        await asyncio.to_thread(stack.start_wechat)
        assert await fake_api.wait_for(1, USER, timeout=40) == ["提醒：明天9:00报到"]
        platform = WeChatPlatform(
            f"http://127.0.0.1:{stack.wechat_port}/wechat", TOKEN, fake_api.appid, None, "plain"
        )
        reply = await platform.text(USER, "你好")
        assert reply.content == "收到：你好"
    finally:
        await asyncio.to_thread(stack.stop)
    assert stack.processes == {}
    log = (tmp_path / "logs" / "wechat.log").read_text()
    assert "WeChat gateway up" in log
    assert "你好" not in log and fake_api.secret not in log  # no user text, no secret
    with session_scope(engine) as s:
        assert s.execute(select(outbox.OutboxMessage.status)).scalars().all() == [outbox.SENT]
    engine.dispose()
