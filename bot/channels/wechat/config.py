"""WeChat gateway configuration, read from the environment (through ``bot.core.settings``) once.

Deployment facts come from the environment; tunables are dataclass fields with production
defaults that tests and the benchmark shrink with ``dataclasses.replace``.

| variable | default | meaning |
|---|---|---|
| WECHAT_TOKEN | unset | 服务器配置 Token; the gateway runs only when it is set |
| WECHAT_APPID / WECHAT_SECRET | required | AppID / AppSecret, for the access token (客服消息) |
| WECHAT_AES_KEY | unset | EncodingAESKey (43 characters), for compatible and safe mode |
| WECHAT_ENCRYPT_MODE | safe with a key, else plain | plain, compatible or safe |
| WECHAT_HOST / WECHAT_PORT | RJ_BIND_HOST / 8090 | where the gateway listens |
| WECHAT_PATH | /wechat | the callback route (the reverse proxy keeps it) |
| WECHAT_API_BASE_URL | https://api.weixin.qq.com | WeChat's API (tests: a fake server) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.core import settings

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
MODES = ("plain", "compatible", "safe")


class ConfigError(ValueError):
    """WECHAT_TOKEN is set but the rest of the configuration cannot work."""


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    appid: str
    secret: str
    aes_key: str | None = None
    encrypt_mode: str = "plain"
    rasa_url: str = "http://127.0.0.1:5005"
    api_base_url: str = DEFAULT_API_BASE_URL
    host: str = "127.0.0.1"
    port: int = 8090  # 0 = pick a free port (tests)
    path: str = "/wechat"
    push_token: str | None = None  # None = settings.push_token() at start-up

    # WeChat waits 5 s for the HTTP answer, then retries (three times in all). Answer within
    # this many seconds; a slower Rasa reply goes out as customer-service messages instead.
    passive_timeout: float = 4.0
    # Passive replies and customer-service texts: 2048 bytes of UTF-8 each.
    message_bytes: int = 2048
    # Follow-up messages of a turn are sent this long after the passive reply, so they arrive
    # after it (the passive reply travels with WeChat's own response).
    followup_delay: float = 0.5
    # Retries of one message (same MsgId) arrive within about 15 s; remembered for longer.
    dedupe_ttl: float = 120.0
    dedupe_size: int = 20000
    # Numbered menus (WeChat has no inline buttons): a number is accepted for this long.
    menu_ttl: float = 30 * 60.0
    menu_users: int = 20000

    # Incoming limits.
    max_message_chars: int = 1000
    rate_capacity: int = 8
    rate_window: float = 10.0

    # Rasa calls (see bot/channels/rasa_client.py for why timeouts are not retried).
    rasa_attempts: int = 3
    rasa_backoff: float = 0.5
    rasa_connect_timeout: float = 3.0
    rasa_timeout: float = 30.0

    # WeChat API: token refreshed this long before it expires; calls time out after api_timeout.
    token_refresh_margin: float = 300.0
    api_timeout: float = 10.0
    # Pushes are allowed 48 h after the user's last message; keep a margin for clock skew.
    push_window: timedelta = timedelta(hours=48) - timedelta(minutes=10)
    # A user's last message time is written to the database at most this often.
    contact_record_every: float = 60.0

    # Outbox (reminders) delivery loop; None disables it.
    outbox_interval: float | None = 30.0
    outbox_prefix: str = "wx-"

    @property
    def encrypted(self) -> bool:
        return self.encrypt_mode in ("compatible", "safe")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeChatConfig | None:
        """The configuration, or ``None`` when WECHAT_TOKEN is not set (nothing to run).

        Raises :class:`ConfigError` when the token is set but AppID/AppSecret are missing or the
        encryption settings do not fit together."""
        env = settings.current(environ)
        token = env.get("WECHAT_TOKEN")
        if not token:
            return None
        appid, secret = env.get("WECHAT_APPID"), env.get("WECHAT_SECRET")
        if not appid or not secret:
            raise ConfigError("WECHAT_APPID and WECHAT_SECRET are required with WECHAT_TOKEN")
        aes_key = env.get("WECHAT_AES_KEY") or None
        mode = env.get("WECHAT_ENCRYPT_MODE", "safe" if aes_key else "plain").lower()
        if mode not in MODES:
            raise ConfigError(f"WECHAT_ENCRYPT_MODE must be one of {', '.join(MODES)}")
        if mode != "plain" and (not aes_key or len(aes_key) != 43):
            raise ConfigError("compatible and safe mode need WECHAT_AES_KEY (43 characters)")
        path = "/" + env.get("WECHAT_PATH", "/wechat").strip("/")
        return cls(
            token=token,
            appid=appid,
            secret=secret,
            aes_key=aes_key,
            encrypt_mode=mode,
            rasa_url=env.rasa_url,
            api_base_url=env.get("WECHAT_API_BASE_URL", DEFAULT_API_BASE_URL).rstrip("/"),
            host=env.get("WECHAT_HOST", env.bind_host),
            port=int(env.get("WECHAT_PORT", "8090")),
            path=path,
        )
