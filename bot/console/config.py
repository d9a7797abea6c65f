"""Console settings, read from the environment once when the app is built.

| variable              | default                                        |
|-----------------------|------------------------------------------------|
| CONSOLE_HOST          | 127.0.0.1                                      |
| CONSOLE_PORT          | 8080                                           |
| CONSOLE_SECRET        | generated file ``<RJ_DATA_DIR>/console.secret`` |
| CONSOLE_COOKIE_SECURE | 0 (set 1 behind https)                         |
| RASA_URL              | http://127.0.0.1:5005                          |
| RASA_AUTH_TOKEN       | unset (appended as ``?token=`` when set)       |
| TELEGRAM_PUSH_URL     | http://127.0.0.1:8081/push                     |
| RASA_EVENT_BROKER     | sql (``rabbitmq`` or ``none``)                 |
| RASA_EVENTS_DB_URL    | sqlite:///<RJ_DATA_DIR>/rasa_events.db         |
| RABBITMQ_URL          | amqp://guest:guest@127.0.0.1:5672/             |
| RABBITMQ_QUEUE        | rasa_events                                    |
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from actions.capabilities import settings


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def console_secret() -> str:
    """Signing/encryption secret for session cookies: env or a generated 0600 file."""
    return os.environ.get("CONSOLE_SECRET") or settings._secret_file(  # noqa: SLF001 - shared helper
        "console.secret", lambda: secrets.token_urlsafe(48)
    )


@dataclass
class ConsoleConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    cookie_secure: bool = False
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    telegram_push_url: str = "http://127.0.0.1:8081/push"
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
    login_max_failures: int = 5
    login_window: int = 300
    rasa_timeout: float = 15.0

    @classmethod
    def from_env(cls) -> "ConsoleConfig":
        return cls(
            host=os.environ.get("CONSOLE_HOST", "127.0.0.1"),
            port=int(os.environ.get("CONSOLE_PORT", "8080")),
            secret=console_secret(),
            cookie_secure=_flag("CONSOLE_COOKIE_SECURE"),
            rasa_url=settings.rasa_url(),
            rasa_token=os.environ.get("RASA_AUTH_TOKEN") or None,
            telegram_push_url=os.environ.get("TELEGRAM_PUSH_URL", "http://127.0.0.1:8081/push"),
            push_token=settings.push_token(),
            event_broker=os.environ.get("RASA_EVENT_BROKER", "sql").strip().lower(),
            events_db_url=os.environ.get("RASA_EVENTS_DB_URL")
            or f"sqlite:///{settings.data_dir() / 'rasa_events.db'}",
            rabbitmq_url=os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            rabbitmq_queue=os.environ.get("RABBITMQ_QUEUE", "rasa_events"),
        )
