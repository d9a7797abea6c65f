"""Where things live and how to reach them, read from the environment once per call.

Functions rather than module constants so tests can change the environment.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = Path(__file__).resolve().parent / "data"
TIMEZONE = "Asia/Shanghai"


def data_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """Runtime state (SQLite files, keys); created on first use, never committed."""
    environ = os.environ if environ is None else environ
    path = Path(environ.get("RJ_DATA_DIR", REPO_ROOT / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'rongjun.db'}"


def rasa_url() -> str:
    return os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/")


def _secret_file(name: str, make) -> str:
    """Read a secret kept in the data directory, generating it (mode 0600) on first use."""
    path = data_dir() / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def id_key() -> bytes:
    """Fernet key used to encrypt ID numbers at rest."""
    from_env = os.environ.get("RJ_ID_KEY")
    if from_env:
        return from_env.encode()
    from cryptography.fernet import Fernet

    return _secret_file("id.key", lambda: Fernet.generate_key().decode()).encode()


def push_token() -> str:
    """Shared secret that the action server and console present to the gateways' push endpoints."""
    return os.environ.get("GATEWAY_PUSH_TOKEN") or _secret_file(
        "push.token", lambda: secrets.token_urlsafe(32)
    )
