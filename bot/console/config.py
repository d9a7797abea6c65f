"""Console settings: the console's part of ``bot.core.settings`` plus its tunables.

The environment is read only by ``bot.core.settings`` (see the table there); the fields below
without a variable are tunables with production defaults that tests shrink.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bot.core import client_address, settings


@dataclass
class ConsoleConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    cookie_secure: bool = False
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    telegram_push_url: str = "http://127.0.0.1:8081/push"
    wechat_push_url: str = "http://127.0.0.1:8090/push"
    push_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    event_broker: str = "sql"  # sql | rabbitmq | none
    events_db_url: str = ""
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    rabbitmq_queue: str = "rasa_events"
    poll_interval: float = 0.5
    replay_events: int = 2000  # SQL source: recent events loaded into the live view at start
    outbox_interval: float = 2.0
    queue_interval: float = 2.0
    session_max_age: int = 30 * 24 * 3600  # cookie lifetime (keeps the web-chat id)
    login_max_age: int = 12 * 3600  # an agent login expires after a shift
    login_max_failures: int = 5  # per username + IP within login_window
    login_ip_max_failures: int = 20  # per IP whatever the username (password spraying)
    login_window: int = 300
    rasa_timeout: float = 15.0
    # Request limits (all off with RJ_RATE_LIMITS=off). A care home's residents may share one
    # IP, so the per-IP limits are several times the per-session ones.
    rate_limits: bool = True
    chat_ip_per_minute: int = 120
    chat_session_per_minute: int = 20
    chat_new_sessions_per_hour: int = 60  # web-chat sessions minted per IP
    chat_max_inflight: int = 16  # web-chat messages waiting for Rasa at once
    chat_queue_wait: float = 2.0  # seconds a message may wait for one of those places
    pii_reveals_per_hour: int = 20  # per console user
    chat_ws_per_minute: int = 30  # /chat/ws connections per IP and per session
    # RJ_TRUSTED_PROXIES: only these peers' X-Forwarded-For names the client (client_address.py)
    trusted_proxies: tuple = ()

    @classmethod
    def from_env(cls) -> ConsoleConfig:
        env = settings.current()
        return cls(
            host=env.console_host,
            port=env.console_port,
            secret=settings.console_secret(),
            cookie_secure=env.console_cookie_secure,
            rasa_url=env.rasa_url,
            rasa_token=env.rasa_token,
            telegram_push_url=env.telegram_push_url,
            wechat_push_url=env.wechat_push_url,
            push_token=settings.push_token(),
            event_broker=env.event_broker,
            events_db_url=env.events_db_url,
            rabbitmq_url=env.rabbitmq_url,
            rabbitmq_queue=env.rabbitmq_queue,
            rate_limits=env.rate_limits,
            trusted_proxies=client_address.parse_trusted(env.trusted_proxies),
        )
