"""Findings 1–5 against the real stack (Rasa + action server started by ``bot.run.Stack``).

Before: the tracker was readable and a conversation could be paused anonymously (Rasa ran
without a token), any Origin was reflected (``--cors "*"``), a 100 KB message went to DIET and
a lone surrogate crashed the normaliser, no sender was rate-limited, and after a booking the
name, mobile and ID number were in rasa_tracker.db and rasa_events.db in clear (and the name and
mobile in the core database's rongjun.db).
"""

from __future__ import annotations

import json
import stat
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from bot.core import people
from tests.integration.rasa_client import RasaClient, texts
from tests.security.conftest import leaks

pytestmark = pytest.mark.stack


def request(
    url: str, body: bytes | None = None, headers: dict | None = None, method: str | None = None
):
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def say(stack, sender: str, message: str):
    body = json.dumps({"sender": sender, "message": message}).encode()
    status, _, reply = request(
        f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook",
        body,
        {"Content-Type": "application/json"},
    )
    return status, json.loads(reply or b"[]")


def test_rasa_api_needs_the_token(stack, sender_id):
    base = f"http://127.0.0.1:{stack.rasa_port}"
    say(stack, sender_id, "你好")
    pause = json.dumps({"event": "pause"}).encode()
    json_type = {"Content-Type": "application/json"}
    assert request(f"{base}/conversations/{sender_id}/tracker")[0] == 401
    assert request(f"{base}/conversations/{sender_id}/tracker/events", pause, json_type)[0] == 401
    assert request(f"{base}/model/parse", b'{"text": "hi"}', json_type)[0] == 401
    assert request(f"{base}/conversations/{sender_id}/tracker?token=wrong")[0] == 401

    status, _, body = request(f"{base}/conversations/{sender_id}/tracker?token={stack.rasa_token}")
    assert status == 200 and json.loads(body)["sender_id"] == sender_id
    # the conversation was not paused by the anonymous call
    assert say(stack, sender_id, "你好")[1] != []


def test_cors_origin_is_not_reflected(stack):
    url = f"http://127.0.0.1:{stack.rasa_port}/conversations/x/tracker"
    evil = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    for method in ("OPTIONS", "GET"):
        _, headers, _ = request(url, headers=evil, method=method)
        allowed = {k.lower(): v for k, v in headers.items()}.get("access-control-allow-origin")
        assert allowed in (None, ""), (method, allowed)


def _listening(port: int) -> list[str]:
    hex_port = f"{port:04X}"
    return [
        line.split()[1]
        for name in ("/proc/net/tcp", "/proc/net/tcp6")
        if Path(name).exists()
        for line in Path(name).read_text().splitlines()[1:]
        if line.split()[1].endswith(":" + hex_port) and line.split()[3] == "0A"
    ]


def test_rasa_and_actions_listen_on_loopback_only(stack):
    for port in (stack.rasa_port, stack.action_port):
        assert _listening(port) == [f"0100007F:{port:04X}"], port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_oversized_message_gets_a_polite_reply_and_is_not_stored(stack, sender_id):
    before = _rss_mb(stack.processes["rasa"].pid)
    started = time.monotonic()
    status, replies = say(stack, sender_id, "我想问一下" * 20_000)  # 100,000 characters
    elapsed = time.monotonic() - started
    after = _rss_mb(stack.processes["rasa"].pid)
    print(f"100 KB message: {elapsed * 1000:.0f} ms, Rasa RSS {before:.0f} → {after:.0f} MB")
    assert status == 200 and "太长" in texts(replies) and "500" in texts(replies)
    assert after - before < 100
    tracker = RasaClient(f"http://127.0.0.1:{stack.rasa_port}", stack.rasa_token).tracker(sender_id)
    assert not [e for e in tracker.get("events", []) if e.get("event") == "user"]


def test_lone_surrogate_and_control_characters_do_not_crash(stack, sender_id):
    body = b'{"sender": "' + sender_id.encode() + b'", "message": "\\u4f60\\u597d\\ud800\\u0000"}'
    status, _, reply = request(
        f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook",
        body,
        {"Content-Type": "application/json"},
    )
    assert status == 200 and json.loads(reply), reply
    log = (Path(stack.log_dir) / "rasa.log").read_text(errors="replace")
    assert "UnicodeEncodeError" not in log


def test_one_sender_is_rate_limited_others_are_not(stack):
    flooder = f"flood-{uuid.uuid4().hex[:8]}"
    replies = [texts(say(stack, flooder, "/greet")[1]) for _ in range(21)]
    assert all("稍等" not in reply for reply in replies[:20])
    assert "稍等" in replies[20]
    assert "稍等" not in texts(say(stack, f"other-{uuid.uuid4().hex[:8]}", "/greet")[1])


def valid_id() -> str:
    first17 = "37020219800101" + f"{uuid.uuid4().int % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def payloads(replies) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons") or []]


def test_a_booking_and_a_wish_leave_no_personal_data_in_any_data_file(stack):
    """Rasa's stores mask the user's text and slot events; the core database keeps the name and
    mobile encrypted (migration 0007) — no file of the data directory holds them in clear."""
    sender = f"web-{uuid.uuid4().hex[:10]}"
    name, mobile, id_number = "欧阳建国", f"139{uuid.uuid4().int % 10**8:08d}", valid_id()
    steps = [
        "/book_appointment",
        '/inform{"veteran_category":"退役士兵"}',
        '/inform{"district":"市南区"}',
        "下周三上午",
    ]
    for message in steps:
        replies = say(stack, sender, message)[1]
    offered = [p for p in payloads(replies) if "time_choice" in p]
    if offered:
        replies = say(stack, sender, offered[0])[1]
    assert "姓名" in texts(replies), texts(replies)
    assert "手机号" in texts(say(stack, sender, name)[1])
    assert "身份证" in texts(say(stack, sender, mobile)[1])
    # the form still knows the name and mobile a turn later: they survive encrypted
    tracker = RasaClient(f"http://127.0.0.1:{stack.rasa_port}", stack.rasa_token).tracker(sender)
    assert tracker["slots"]["person_name"] == name and tracker["slots"]["mobile"] == mobile
    assert "退出现役" in texts(say(stack, sender, id_number)[1])
    summary = texts(say(stack, sender, '/inform{"choice":"unknown"}')[1])
    assert "请核对预约信息" in summary
    assert "预约成功" in texts(say(stack, sender, "/affirm")[1])

    wisher, wish_mobile = f"web-{uuid.uuid4().hex[:10]}", f"138{uuid.uuid4().int % 10**8:08d}"
    say(stack, wisher, "/submit_wish")
    say(stack, wisher, '/inform{"wish_category":"生活用品"}')
    say(stack, wisher, "想要一台助听器，耳朵背了")
    say(stack, wisher, '/inform{"choice":"unknown"}')
    say(stack, wisher, '/inform{"district":"李沧区"}')
    assert "公开" in texts(say(stack, wisher, wish_mobile)[1])
    assert "心愿已提交" in texts(say(stack, wisher, "/affirm")[1])

    data_dir = Path(stack.env["RJ_DATA_DIR"])
    assert (data_dir / "rongjun.db").stat().st_size > 0
    assert leaks(data_dir, [name, mobile, id_number, wish_mobile]) == []
    assert (data_dir / "rasa_tracker.db").stat().st_size > 0
    assert (data_dir / "rasa_events.db").stat().st_size > 0


def test_data_files_are_private(stack):
    data_dir = Path(stack.env["RJ_DATA_DIR"])
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    loose = [
        f"{path.relative_to(data_dir)} {stat.S_IMODE(path.stat().st_mode):o}"
        for path in data_dir.rglob("*")
        if stat.S_IMODE(path.stat().st_mode) & 0o077
    ]
    assert loose == []
