"""The runner's whole-conversation rules, checked without a stack."""

from __future__ import annotations

from bot.core import people
from tests.conversations.runner import _fresh_phone, _questions, load_cases


def test_a_question_followed_by_a_note_is_still_a_question():
    text = (
        "请问报到人的姓名？（只用于服务中心核对，预约完成后会从对话中清除）\n"
        "想约哪天、什么时间去市南区退役军人服务中心？可以直接说“明天下午”。\n"
        "好的。还有什么可以帮您？"
    )
    assert _questions(text) == [
        "请问报到人的姓名？",
        "想约哪天、什么时间去市南区退役军人服务中心？",
        "好的。还有什么可以帮您？",
    ]


def test_statements_and_links_are_not_questions():
    text = "预约成功！\n确认码：K7QX3M\n详情见 https://example.cn/a?code=K7QX3M 。\n好？"
    assert _questions(text) == []


def test_fresh_phones_are_numbers_the_bot_accepts():
    for _ in range(200):
        number = _fresh_phone()
        assert people.validate_mobile(number) == number


def test_every_expectation_is_text():
    """An unquoted "a|09:" in a flow list is a mapping in YAML, never matched as meant."""
    for case in load_cases():
        for turn in case["turns"]:
            for entry in (turn.get("expect") or []) + (turn.get("forbid") or []):
                assert isinstance(entry, str), f"{case['id']}: quote {entry!r}"


def test_new_chat_switches_sender_and_keeps_the_code():
    """``new_chat`` plays the rest as a new conversation: another sender, the same values."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from tests.conversations.runner import run_case

    seen: list[dict] = []

    class Bot(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            reply = "确认码：K7QX3M" if len(seen) == 1 else f"第{len(seen)}次"
            data = json.dumps([{"text": reply}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        case = {
            "id": "x",
            "turns": [{"user": "约"}, {"user": "查{code}"}, {"new_chat": True, "user": "查{code}"}],
        }
        outcome = run_case(f"http://127.0.0.1:{server.server_port}", case)
    finally:
        server.shutdown()
    assert [m["message"] for m in seen] == ["约", "查K7QX3M", "查K7QX3M"]
    assert seen[0]["sender"] == seen[1]["sender"] != seen[2]["sender"]
    assert len(outcome.turn_seconds) == 3 and outcome.passed
