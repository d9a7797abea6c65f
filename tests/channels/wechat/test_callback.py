"""The /wechat callback: URL check, signatures, plaintext / compatible / safe mode."""

from __future__ import annotations

import aiohttp
import pytest

from tests.channels.wechat.harness import TOKEN, sign

USER = "oUSER_callback_0001"


async def _get(url: str, params: dict) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as resp:
        return resp.status, await resp.text()


async def test_url_verification_echoes_echostr_only_when_signed(gateway):
    url = gateway.platform.url
    query = gateway.platform.query(echostr="5837397520118656467")
    assert await _get(url, query) == (200, "5837397520118656467")
    forged = {**query, "signature": sign("another-token", query["timestamp"], query["nonce"])}
    status, _ = await _get(url, forged)
    assert status == 403
    status, _ = await _get(url, {"echostr": "1"})
    assert status == 403


async def test_unsigned_or_forged_posts_are_refused_and_never_reach_rasa(gateway, fake_rasa):
    platform = gateway.platform
    query = platform.query()
    query["signature"] = "0" * 40
    reply = await platform.text(USER, "你好", query=query)
    assert reply.status == 403
    reply = await platform.post(
        platform.message_xml(USER, "text", 1, Content="x"), query={"timestamp": "1", "nonce": "2"}
    )
    assert reply.status == 403
    assert fake_rasa.requests == []


async def test_plaintext_message_gets_a_passive_xml_reply(gateway, fake_rasa):
    reply = await gateway.platform.text(USER, "荣军卡怎么办理")
    assert reply.status == 200
    assert reply.content == "收到：荣军卡怎么办理"
    assert reply.xml["ToUserName"] == USER and reply.xml["MsgType"] == "text"
    assert fake_rasa.requests[0].sender == f"wx-{USER}"
    assert fake_rasa.requests[0].metadata["channel"] == "wechat"


@pytest.mark.parametrize("mode", ["compatible", "safe"])
async def test_encrypted_modes_decrypt_the_message_and_encrypt_the_reply(
    gateway_factory, fake_rasa, mode
):
    harness = await gateway_factory(fake_rasa.url, mode=mode)
    reply = await harness.platform.text(USER, "我想预约报到")
    assert reply.status == 200
    assert "<Encrypt>" in reply.body and "我想预约报到" not in reply.body  # sealed on the wire
    assert reply.content == "收到：我想预约报到"
    assert fake_rasa.messages() == ["我想预约报到"]


async def test_encrypted_message_with_a_wrong_msg_signature_is_refused(gateway_factory, fake_rasa):
    harness = await gateway_factory(fake_rasa.url, mode="safe")
    platform = harness.platform
    sealed = platform.crypto.encrypt_message(
        platform.message_xml(USER, "text", 42, Content="你好"), "nonce1", "1700000000"
    )
    encrypt = sealed.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    query = {
        "signature": sign(TOKEN, "1700000000", "nonce1"),
        "timestamp": "1700000000",
        "nonce": "nonce1",
        "encrypt_type": "aes",
        "msg_signature": "f" * 40,
    }
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    async with (
        aiohttp.ClientSession() as session,
        session.post(platform.url, params=query, data=body.encode()) as resp,
    ):
        assert resp.status == 403
    assert fake_rasa.requests == []


async def test_safe_mode_refuses_plaintext_messages(gateway_factory, fake_rasa):
    harness = await gateway_factory(fake_rasa.url, mode="safe")
    reply = await harness.platform.text(USER, "你好", encrypt=False)
    assert reply.status == 400
    assert fake_rasa.requests == []


async def test_compatible_mode_also_accepts_plaintext(gateway_factory, fake_rasa):
    harness = await gateway_factory(fake_rasa.url, mode="compatible")
    reply = await harness.platform.text(USER, "你好", encrypt=False)
    assert reply.content == "收到：你好" and "<Encrypt>" not in reply.body


async def test_health(gateway):
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{gateway.http_url}/health") as resp,
    ):
        body = await resp.json()
    assert resp.status == 200 and body["ok"] and body["mode"] == "plain"
