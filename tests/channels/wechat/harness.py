"""Start the real WeChat gateway against the fake WeChat API and any Rasa URL, and play WeChat's
server: signed (and, in compatible/safe mode, AES-encrypted) XML posted to ``/wechat``.

    harness = await start_gateway(api, rasa_url, engine=engine, mode="safe")
    reply = await harness.platform.text("oUSER1", "荣军卡怎么办理")   # the passive reply text
    later = await api.wait_for(1, "oUSER1")                          # 客服 messages
    await harness.close()
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import os
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat.app import Gateway
from bot.channels.wechat.config import WeChatConfig
from tests.channels.wechat.fake_wechat_api import FakeWeChatApi

PUSH_TOKEN = "test-push-token"
TOKEN = "rongjun-test-token"
ACCOUNT = "gh_rongjun_test"

TEST_TUNING: dict[str, Any] = {
    "port": 0,
    "push_token": PUSH_TOKEN,
    "rasa_backoff": 0.05,
    "rasa_connect_timeout": 2.0,
    "rasa_timeout": 10.0,
    "followup_delay": 0.05,
    "contact_record_every": 0.0,
    "outbox_interval": None,
}

_msg_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


def new_aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()[:-1]  # 43 characters, as WeChat shows it


def sign(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode()).hexdigest()


@dataclass
class Reply:
    status: int
    body: str
    content: str | None  # the passive reply's text; None for "success" or an error
    xml: dict | None = None


class WeChatPlatform:
    """What WeChat's servers do: sign, maybe encrypt, POST, and read the passive reply."""

    def __init__(self, url: str, token: str, appid: str, aes_key: str | None, mode: str):
        self.url, self.token, self.appid, self.mode = url, token, appid, mode
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def query(self, **extra: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), os.urandom(5).hex()
        return {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            **extra,
        }

    @staticmethod
    def message_xml(openid: str, kind: str, msg_id: int | None = None, **fields: str) -> str:
        parts = [
            f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
            f"<CreateTime>{int(time.time())}</CreateTime>",
            f"<MsgType><![CDATA[{kind}]]></MsgType>",
        ]
        parts += [f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()]
        if msg_id is not None:
            parts.append(f"<MsgId>{msg_id}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>"

    async def post(
        self, plain_xml: str, *, query: dict[str, str] | None = None, encrypt: bool | None = None
    ) -> Reply:
        encrypt = self.mode != "plain" if encrypt is None else encrypt
        query = query or self.query()
        body = plain_xml
        if encrypt:
            assert self.crypto is not None
            sealed = xmltodict.parse(
                self.crypto.encrypt_message(plain_xml, query["nonce"], query["timestamp"])
            )["xml"]
            encrypted = f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt>"
            if self.mode == "compatible":  # plaintext fields and the ciphertext together
                body = plain_xml.replace("</xml>", encrypted + "</xml>")
            else:
                body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>{encrypted}</xml>"
            query = {**query, "encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, params=query, data=body.encode("utf-8")) as resp,
        ):
            text = await resp.text()
            status = resp.status
        if status != 200 or text == "success" or not text.startswith("<xml>"):
            return Reply(status, text, None)
        reply_xml = text
        if encrypt:
            outer = xmltodict.parse(text)["xml"]
            reply_xml = self.crypto.decrypt_message(
                text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"]
            )
        parsed = xmltodict.parse(reply_xml)["xml"]
        return Reply(status, text, parsed.get("Content"), parsed)

    async def text(
        self, openid: str, content: str, msg_id: int | None = None, **kwargs: Any
    ) -> Reply:
        msg_id = next(_msg_ids) if msg_id is None else msg_id
        return await self.post(self.message_xml(openid, "text", msg_id, Content=content), **kwargs)

    async def voice(self, openid: str, recognition: str | None) -> Reply:
        fields = {"MediaId": "media-1", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return await self.post(self.message_xml(openid, "voice", next(_msg_ids), **fields))

    async def event(self, openid: str, event: str, **fields: str) -> Reply:
        return await self.post(self.message_xml(openid, "event", None, Event=event, **fields))

    async def image(self, openid: str) -> Reply:
        return await self.post(
            self.message_xml(
                openid, "image", next(_msg_ids), PicUrl="http://example.invalid/p.jpg", MediaId="m1"
            )
        )


class GatewayHarness:
    def __init__(self, gateway: Gateway, platform: WeChatPlatform) -> None:
        self.gateway, self.platform = gateway, platform

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.http_port}"

    async def push(self, body: Any, token: str | None = PUSH_TOKEN) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.http_url}/push", json=body, headers=headers) as resp,
        ):
            return resp.status, await resp.json(content_type=None)

    async def close(self) -> None:
        await self.gateway.stop()


async def start_gateway(
    api: FakeWeChatApi,
    rasa_url: str,
    *,
    engine: Any = None,
    mode: str = "plain",
    gateway_kwargs: dict[str, Any] | None = None,
    **overrides: Any,
) -> GatewayHarness:
    aes_key = new_aes_key() if mode != "plain" else None
    config = WeChatConfig(
        token=TOKEN,
        appid=api.appid,
        secret=api.secret,
        aes_key=aes_key,
        encrypt_mode=mode,
        rasa_url=rasa_url,
        api_base_url=api.base_url,
    )
    config = dataclasses.replace(config, **{**TEST_TUNING, **overrides})
    gateway = Gateway(config, engine=engine, **(gateway_kwargs or {}))
    await gateway.start()
    url = f"http://127.0.0.1:{gateway.http_port}{config.path}"
    return GatewayHarness(gateway, WeChatPlatform(url, TOKEN, api.appid, aes_key, mode))
