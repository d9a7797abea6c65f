"""What WeChat sends and expects around a message: signatures, and AES in compatible/safe mode.

Every request WeChat makes carries ``signature`` = SHA1(sorted(token, timestamp, nonce)) in the
query string; a request without a valid one is refused (403) before its body is parsed. In
compatible and safe mode a message also carries ``encrypt_type=aes`` and ``msg_signature`` (over
the ciphertext too); it is decrypted with the EncodingAESKey, and the passive reply is encrypted
the same way. Safe mode refuses plaintext messages; compatible mode accepts both (WeChat sends
both forms during a switch-over). wechatpy does the cryptography.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from bot.channels.wechat.config import WeChatConfig


class Refused(Exception):
    """The request is not from WeChat (403) or cannot be read (400)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Opened:
    xml: str
    encrypted: bool


class Envelope:
    def __init__(self, config: WeChatConfig) -> None:
        self.token = config.token
        self.mode = config.encrypt_mode
        self.crypto = (
            WeChatCrypto(config.token, config.aes_key, config.appid) if config.encrypted else None
        )

    def signed(self, query: Mapping[str, str]) -> bool:
        try:
            check_signature(
                self.token,
                query.get("signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
            )
        except InvalidSignatureException:
            return False
        return True

    def verify_url(self, query: Mapping[str, str]) -> str:
        """服务器配置 check: the ``echostr`` to echo back when the signature is right."""
        if not self.signed(query) or "echostr" not in query:
            raise Refused(403, "bad signature")
        return query["echostr"]

    def open(self, query: Mapping[str, str], body: bytes) -> Opened:
        """The message XML of a POST, after checking where it comes from."""
        if not self.signed(query):
            raise Refused(403, "bad signature")
        if query.get("encrypt_type", "raw").lower() != "aes":
            if self.mode == "safe":
                raise Refused(400, "plaintext message in safe mode")
            return Opened(body.decode("utf-8", errors="replace"), encrypted=False)
        if self.crypto is None:
            raise Refused(400, "encrypted message but no WECHAT_AES_KEY")
        try:
            xml = self.crypto.decrypt_message(
                body,
                query.get("msg_signature", ""),
                query.get("timestamp", ""),
                query.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise Refused(403, "bad message signature") from None
        except Exception:  # malformed XML, wrong key, wrong AppID (wechatpy raises several)
            raise Refused(400, "cannot decrypt") from None
        return Opened(xml, encrypted=True)

    def seal(self, reply_xml: str, opened: Opened, query: Mapping[str, str]) -> str:
        """The passive reply as WeChat expects it for this request (encrypted when it was)."""
        if not opened.encrypted or self.crypto is None:
            return reply_xml
        return self.crypto.encrypt_message(
            reply_xml, query.get("nonce", ""), query.get("timestamp") or None
        )
