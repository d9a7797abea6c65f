"""Gateway configuration, read from the environment once at start-up.

Only deployment facts come from the environment (token, URLs, port, secrets). Tunables such as
rate limits and retry timings are dataclass fields with production defaults, so tests and the
benchmark can shrink them with ``dataclasses.replace`` instead of sleeping for real seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from bot.core import settings

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


def _derive_file_url(base_url: str) -> str:
    """``http://host/bot`` → ``http://host/file/bot`` (Telegram's layout, also for local
    servers)."""
    stripped = base_url.rstrip("/")
    if stripped.endswith("/bot"):
        return stripped[: -len("/bot")] + "/file/bot"
    return stripped + "/file/bot"


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the gateway needs; build it with :meth:`from_env` in production."""

    token: str
    rasa_url: str = "http://127.0.0.1:5005"
    api_base_url: str = DEFAULT_BASE_URL
    api_base_file_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 8081  # 0 = pick a free port (tests)
    push_token: str | None = None  # None = settings.push_token() at start-up

    # Incoming limits.
    max_message_chars: int = 1000
    rate_capacity: int = 8  # messages ...
    rate_window: float = 10.0  # ... per this many seconds, per user

    # Rasa calls. Connection errors and 5xx are retried quickly (nothing was processed);
    # a read timeout is not (Rasa may still be processing it: no duplicate bookings).
    rasa_attempts: int = 3
    rasa_backoff: float = 0.5  # first retry delay; doubles: 0.5 s, 1 s → ~2 s + request times
    rasa_connect_timeout: float = 3.0
    rasa_timeout: float = 30.0

    # Pending queue (messages kept while Rasa is down) and its retry loop.
    pending_per_chat: int = 20
    pending_chats: int = 1000
    pending_retry_interval: float = 5.0
    pending_retry_max_interval: float = 60.0

    # Callback-data token store.
    callback_store_size: int = 20000
    callback_ttl: float = 7 * 24 * 3600.0

    # Outbox (appointment reminders) delivery loop; None disables it.
    outbox_interval: float | None = 30.0
    outbox_prefix: str = "tg-"

    # Telegram transport.
    poll_timeout: int = 10  # long-polling seconds
    concurrent_updates: int = 64
    outgoing_retries: int = 2  # AIORateLimiter retries on 429 RetryAfter
    outgoing_rate_limit: bool = True  # pace sends to Telegram's flood limits (off: benchmarks only)

    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def file_url(self) -> str:
        return self.api_base_file_url or (
            "https://api.telegram.org/file/bot"
            if self.api_base_url == DEFAULT_BASE_URL
            else _derive_file_url(self.api_base_url)
        )

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)

    @property
    def webhook_path(self) -> str:
        """Local route of the webhook: the path of TELEGRAM_WEBHOOK_URL (a reverse proxy keeps
        it)."""
        if self.webhook_url:
            path = urlparse(self.webhook_url).path
            if path and path != "/":
                return path
        return DEFAULT_WEBHOOK_PATH

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayConfig | None:
        """The configuration, or ``None`` when TELEGRAM_TOKEN is not set (nothing to run)."""
        env = settings.current(environ)
        if not env.telegram_token:
            return None
        return cls(
            token=env.telegram_token,
            rasa_url=env.rasa_url,
            api_base_url=env.get("TELEGRAM_API_BASE_URL", DEFAULT_BASE_URL),
            api_base_file_url=env.get("TELEGRAM_API_BASE_FILE_URL") or None,
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            host=env.get("TELEGRAM_GATEWAY_HOST", env.bind_host),
            port=int(env.get("TELEGRAM_GATEWAY_PORT", "8081")),
        )
