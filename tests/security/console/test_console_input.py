"""Finding 10: input limits at the console's entries — JSON bodies must be objects with string
fields (400 otherwise), text is capped and cleaned of control characters and lone surrogates,
and ids in paths that no database row can have are 404, not 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.core import db, handoff
from tests.console.conftest import csrf_of, login

BAD_BODIES = [
    "[1, 2]",
    '"hello"',
    "42",
    "true",
    "null",
    "[" * 100000 + "]" * 100000,
    '{"text": null}',
    '{"text": ["转人工"]}',
    '{"text": {"a": 1}}',
    '{"text": 5}',
    "{not json",
]


async def chat(client):
    token = await csrf_of(client, "/chat")

    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}

    async def post(raw: str | bytes):
        return await client.post("/chat/api/message", data=raw, headers=headers)

    return post


@pytest.mark.parametrize("raw", BAD_BODIES, ids=lambda raw: raw[:20])
async def test_chat_rejects_what_is_not_an_object_with_a_text(client, fake_rasa, engine, raw):
    post = await chat(client)
    resp = await post(raw)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "bad_request" and "格式不正确" in body["message"]
    assert fake_rasa.calls_to("/webhooks/rest/webhook") == []  # nothing reached Rasa
    with db.session_scope(engine) as s:
        assert s.execute(select(handoff.HandoffRequest)).first() is None


async def test_chat_text_is_capped_at_500_characters_with_a_polite_reply(client, fake_rasa):
    post = await chat(client)
    assert (await post(json.dumps({"text": "长" * 500}))).status == 200
    resp = await post(json.dumps({"text": "长" * 501}))
    assert resp.status == 400 and "分几次发送" in (await resp.json())["message"]
    assert len(fake_rasa.calls_to("/webhooks/rest/webhook")) == 1


async def test_control_characters_and_lone_surrogates_are_stripped(client, fake_rasa):
    post = await chat(client)
    raw = '{"text": "我\\u0000想\\ud800问\\u0007补助\\u202e\\tA\\udfff"}'
    resp = await post(raw.encode("utf-8"))
    assert resp.status == 200
    sent = fake_rasa.calls_to("/webhooks/rest/webhook")[0][2]["message"]
    assert sent == "我想问补助 A"
    resp = await post('{"text": "\\u0000\\u0007 \\ud800"}')  # nothing left
    assert resp.status == 400 and (await resp.json())["error"] == "empty_message"


async def test_agent_json_entries_check_their_bodies(client, accounts):
    token = await login(client, "agent1")
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    for path in ("/pii/reveal", "/conversations/tg-1/reply"):
        for raw in (
            "[1]",
            '"x"',
            "true",
            '{"text": null, "sender_id": null, "field": 1}',
            "[" * 100000,
        ):
            resp = await client.post(path, data=raw, headers=headers)
            assert resp.status == 400, (path, raw[:10], resp.status)
            assert (await resp.json())["error"] == "bad_request"


HUGE = "9223372036854775808"  # 2**63: one more than the largest id the database holds


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", f"/wishes/{HUGE}"),
        ("POST", f"/wishes/{HUGE}/approve"),
        ("POST", f"/jobs/{HUGE}/deactivate"),
        ("POST", f"/appointments/{HUGE}/checkin"),
        ("POST", f"/handoffs/{HUGE}/take"),
        ("POST", f"/users/{HUGE}/active"),
        ("GET", "/wishes/" + "9" * 400),
        ("GET", "/wishes/１２"),
    ],
)
async def test_impossible_path_ids_are_not_found(client, accounts, method, path):
    token = await login(client, "sup")
    resp = await client.request(method, path, data={"_csrf": token}, allow_redirects=False)
    assert resp.status == 404, (path, resp.status)


async def test_form_posts_with_control_characters_are_refused(client, accounts, engine):
    from bot.console.models import AgentNote

    token = await login(client, "agent1")
    resp = await client.post(
        "/conversations/tg-1/notes", data={"_csrf": token, "text": "a\x00b"}, allow_redirects=False
    )
    assert resp.status == 400
    resp = await client.post(
        "/conversations/tg-1/notes",
        data={"_csrf": token, "text": "第一行\r\n第二行\t完"},
        allow_redirects=False,
    )
    assert resp.status == 302  # newlines and tabs typed in a text box are fine
    with db.session_scope(engine) as s:
        assert [n.text for n in s.execute(select(AgentNote)).scalars()] == ["第一行\r\n第二行 完"]
