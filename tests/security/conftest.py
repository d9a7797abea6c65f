"""Every security test runs against its own data directory, never the repository's ``.data``."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("RJ_DATA_DIR", str(data))
    for variable in (
        "RASA_AUTH_TOKEN",
        "RJ_ACTION_SECRET",
        "RJ_ID_KEY",
        "RJ_RATE_LIMITS",
        "RJ_REST_RATE_LIMIT",
        "RJ_MAX_MESSAGE_CHARS",
        "RASA_TRACKER_URL",
    ):
        monkeypatch.delenv(variable, raising=False)
    return data


def stored_forms(text: str) -> list[bytes]:
    """The byte forms ``text`` would take in a file: UTF-8 and JSON's \\uXXXX escapes."""
    forms = [text.encode("utf-8"), json.dumps(text)[1:-1].encode("ascii")]
    return list(dict.fromkeys(forms))


def leaks(folder, secrets: list[str], skip: tuple[str, ...] = ()) -> list[str]:
    """``file: value`` for every file below ``folder`` whose bytes contain one of ``secrets``."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name in skip:
            continue
        data = path.read_bytes()
        for secret in secrets:
            if any(form in data for form in stored_forms(secret)):
                found.append(f"{path.name}: {secret}")
    return found
