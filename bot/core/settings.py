"""All configuration that comes from the environment, in one object.

    from bot.core import settings
    config = settings.current()          # a fresh, immutable snapshot of the environment
    config.console_port, config.rasa_url, config.telegram_token …

Every process (action server, Rasa wrapper, console, gateways) reads its environment here and
nowhere else; the module-level helpers (``data_dir()``, ``database_url()``, ``id_key()`` …) are
shorthands for the snapshot's fields. Snapshots are cheap and not cached, so tests can change
the environment between calls. Secrets that are not given are generated once into the data
directory (mode 0600) and read from there afterwards.

| variable | default | meaning |
|---|---|---|
| RJ_DATA_DIR | ``.data/`` | runtime state: SQLite files, generated secrets, logs |
| RJ_TZ | Asia/Shanghai | the service's time zone (see ``bot.core.clock``) |
| RJ_BIND_HOST | 127.0.0.1 | address every listener binds to |
| DATABASE_URL | SQLite in the data dir | the core database |
| RJ_ID_KEY | generated ``id.key`` | Fernet key for ID numbers at rest |
| RASA_URL | http://127.0.0.1:5005 | Rasa (or the router in front of several) |
| RASA_AUTH_TOKEN | generated ``rasa.token`` | token of Rasa's HTTP API (not of its REST channel) |
| RJ_ACTION_SECRET | generated ``action.secret`` | secret Rasa presents to the action server |
| RJ_ACTION_PORT | 5055 | the action server's port |
| RJ_ACTION_TIMEOUT | 30 | seconds Rasa waits for one custom action |
| RJ_ACTION_MAX_BODY | 8388608 | largest action call in bytes (after decompression) |
| RJ_MAX_MESSAGE_CHARS | 500 | longest user message; longer ones get a polite reply |
| RJ_REST_RATE_LIMIT | 20/60 | messages / seconds per sender on Rasa's REST channel |
| RJ_RATE_LIMITS | on | ``off`` disables every rate limit (benchmarks) |
| RJ_TRUSTED_PROXIES | none | peers whose ``X-Forwarded-For`` is believed (``loopback``, CIDRs) |
| RJ_LOOKUP_RATE_LIMIT | 5/3600 | wrong code + phone attempts / seconds per confirmation code |
| RJ_RETENTION_DAYS | 180 | ``make purge`` deletes conversations idle for longer |
| GATEWAY_PUSH_TOKEN | generated ``push.token`` | secret of the gateways' push endpoints |
| CONSOLE_HOST / CONSOLE_PORT | RJ_BIND_HOST / 8080 | console and web chat |
| CONSOLE_SECRET | generated ``console.secret`` | session cookie key |
| CONSOLE_COOKIE_SECURE | 0 | 1 behind https |
| TELEGRAM_PUSH_URL | http://127.0.0.1:8081/push | where the console pushes to Telegram users |
| TELEGRAM_TOKEN … | unset | the Telegram gateway (see ``bot/channels/telegram/config.py``) |
| WECHAT_PUSH_URL | http://127.0.0.1:8090/push | where the console pushes to WeChat users |
| WECHAT_TOKEN … | unset | the WeChat gateway (see ``bot/channels/wechat/config.py``) |
| RASA_EVENT_BROKER | sql | ``sql``, ``rabbitmq`` or ``none`` |
| RASA_EVENTS_DB_URL | SQLite in the data dir | the SQL event broker's database |
| RABBITMQ_URL / RABBITMQ_QUEUE | amqp://guest:guest@127.0.0.1:5672/ / rasa_events | |
| RASA_TRACKER_URL | SQLite in the data dir | shared tracker store for several Rasa servers |
| RASA_LOCK_STORE, REDIS_HOST, REDIS_PORT | in-memory | ``redis`` to share locks |
| LOG_LEVEL | INFO | |
| RJ_RATE_LIMITS | on | ``off`` disables every request limit (load tests only) |
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = Path(__file__).resolve().parent / "data"

_TRUE = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}
RASA_TOKEN_FILE = "rasa.token"


def _get(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name)
    return value.strip() if value and value.strip() else default


def _stored(path: Path) -> str:
    """A generated secret when an earlier start wrote one, else ''."""
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _rate(value: str) -> tuple[int, float] | None:
    """'20/60' → (20, 60.0): at most 20 events per 60 seconds; 'off' → None."""
    if value.lower() in _OFF:
        return None
    count, _, seconds = value.partition("/")
    return int(count), float(seconds or 60)


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name)
    return default if value is None else value.strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    """One snapshot of the environment; build it with :func:`current` or :meth:`from_env`."""

    environ: Mapping[str, str]
    data_dir: Path
    timezone: str
    bind_host: str
    database_url: str
    rasa_url: str
    rasa_token: str | None
    console_host: str
    console_port: int
    console_cookie_secure: bool
    telegram_token: str
    telegram_push_url: str
    wechat_push_url: str
    event_broker: str
    events_db_url: str
    rabbitmq_url: str
    rabbitmq_queue: str
    tracker_url: str
    lock_store: str
    redis_host: str
    redis_port: int
    log_level: str
    action_port: int
    action_timeout: float
    action_max_body: int
    max_message_chars: int
    rest_rate_limit: tuple[int, float] | None
    retention_days: int
    rate_limits: bool = True
    trusted_proxies: str = ""
    # Wrong code + phone look-ups allowed per code and period (None: no limit).
    lookup_rate_limit: tuple[int, float] | None = (5, 3600.0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data = Path(_get(env, "RJ_DATA_DIR") or REPO_ROOT / ".data")
        bind = _get(env, "RJ_BIND_HOST", "127.0.0.1")
        return cls(
            environ=env,
            data_dir=data,
            timezone=timezone(env),
            bind_host=bind,
            database_url=_get(env, "DATABASE_URL") or f"sqlite:///{data / 'rongjun.db'}",
            rasa_url=_get(env, "RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=_get(env, "RASA_AUTH_TOKEN") or _stored(data / RASA_TOKEN_FILE) or None,
            console_host=_get(env, "CONSOLE_HOST", bind),
            console_port=int(_get(env, "CONSOLE_PORT", "8080")),
            console_cookie_secure=_flag(env, "CONSOLE_COOKIE_SECURE"),
            telegram_token=_get(env, "TELEGRAM_TOKEN"),
            telegram_push_url=_get(env, "TELEGRAM_PUSH_URL", "http://127.0.0.1:8081/push"),
            wechat_push_url=_get(env, "WECHAT_PUSH_URL", "http://127.0.0.1:8090/push"),
            event_broker=_get(env, "RASA_EVENT_BROKER", "sql").lower(),
            events_db_url=_get(env, "RASA_EVENTS_DB_URL") or f"sqlite:///{data / 'rasa_events.db'}",
            rabbitmq_url=_get(env, "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            rabbitmq_queue=_get(env, "RABBITMQ_QUEUE", "rasa_events"),
            tracker_url=_get(env, "RASA_TRACKER_URL"),
            lock_store=_get(env, "RASA_LOCK_STORE", "in_memory").lower(),
            redis_host=_get(env, "REDIS_HOST", "127.0.0.1"),
            redis_port=int(_get(env, "REDIS_PORT", "6379")),
            log_level=_get(env, "LOG_LEVEL", "INFO").upper(),
            action_port=int(_get(env, "RJ_ACTION_PORT", "5055")),
            action_timeout=float(_get(env, "RJ_ACTION_TIMEOUT", "30")),
            action_max_body=int(_get(env, "RJ_ACTION_MAX_BODY", str(8 * 1024 * 1024))),
            max_message_chars=int(_get(env, "RJ_MAX_MESSAGE_CHARS", "500")),
            rest_rate_limit=(
                None
                if _get(env, "RJ_RATE_LIMITS").lower() in _OFF
                else _rate(_get(env, "RJ_REST_RATE_LIMIT", "20/60"))
            ),
            retention_days=int(_get(env, "RJ_RETENTION_DAYS", "180")),
            rate_limits=_get(env, "RJ_RATE_LIMITS", "on").lower() not in _OFF,
            trusted_proxies=_get(env, "RJ_TRUSTED_PROXIES"),
            lookup_rate_limit=(
                None
                if _get(env, "RJ_RATE_LIMITS").lower() in _OFF
                else _rate(_get(env, "RJ_LOOKUP_RATE_LIMIT", "5/3600"))
            ),
        )

    def get(self, name: str, default: str = "") -> str:
        """A variable this table does not model (a channel's own, e.g. TELEGRAM_WEBHOOK_URL)."""
        return _get(self.environ, name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        return _flag(self.environ, name, default)

    def ensure_data_dir(self) -> Path:
        """Create the data directory, readable by its owner only."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.data_dir.stat()
        # Tighten a directory of our own; never a shared one such as /tmp (sticky bit).
        if info.st_mode & 0o077 and info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX:
            self.data_dir.chmod(0o700)
        return self.data_dir

    def secret(self, variable: str, filename: str, make: Callable[[], str]) -> str:
        """The secret from ``variable``, else the one generated into ``filename`` (0600)."""
        given = self.get(variable)
        if given:
            return given
        path = self.ensure_data_dir() / filename
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                return path.read_text().strip()
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
        return path.read_text().strip()


def timezone(environ: Mapping[str, str] | None = None) -> str:
    """The service's time zone alone: the clock asks on every reading, so it must not build a
    whole snapshot (which reads the stored Rasa token from disk)."""
    return _get(os.environ if environ is None else environ, "RJ_TZ", "Asia/Shanghai")


def current(environ: Mapping[str, str] | None = None) -> Settings:
    return Settings.from_env(environ)


# Shorthands used throughout the core.
def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Runtime state (SQLite files, keys); created on first use, never committed."""
    return current(environ).ensure_data_dir()


def database_url() -> str:
    return current().database_url


def rasa_url() -> str:
    return current().rasa_url


def id_key() -> bytes:
    """Fernet key used to encrypt ID numbers, names and mobiles at rest.

    Asked for every sealed value read or written (a staff page decrypts hundreds), so it reads
    only RJ_ID_KEY, or the stored key file, without building a whole snapshot (which also reads
    the stored Rasa token); the snapshot's ``secret`` generates the file the first time."""
    env = os.environ
    given = _get(env, "RJ_ID_KEY")
    if given:
        return given.encode()
    stored = _stored(Path(_get(env, "RJ_DATA_DIR") or REPO_ROOT / ".data") / "id.key")
    if stored:
        return stored.encode()

    def make() -> str:
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()

    return current().secret("RJ_ID_KEY", "id.key", make).encode()


def push_token() -> str:
    """Shared secret that the action server and console present to the gateways' push endpoints."""
    return current().secret("GATEWAY_PUSH_TOKEN", "push.token", lambda: secrets.token_urlsafe(32))


def console_secret() -> str:
    """Signing/encryption secret for the console's session cookies."""
    return current().secret("CONSOLE_SECRET", "console.secret", lambda: secrets.token_urlsafe(48))


def rasa_auth_token(environ: Mapping[str, str] | None = None) -> str:
    """Token of Rasa's HTTP API; the console and the gateways read it via ``rasa_token``."""
    return current(environ).secret(
        "RASA_AUTH_TOKEN", RASA_TOKEN_FILE, lambda: secrets.token_urlsafe(32)
    )


def action_secret(environ: Mapping[str, str] | None = None) -> str:
    """Bearer secret that Rasa presents to the action server on every call."""
    return current(environ).secret(
        "RJ_ACTION_SECRET", "action.secret", lambda: secrets.token_urlsafe(32)
    )
