"""Deployment facts an operator fills in: ``data/deployment.yml``.

Centre addresses, phones, opening hours, slot length and capacity, and the hours human agents
answer hand-overs. Nothing here is invented: a value that is not filled in is ``None`` and says
so (``configured``), so callers either use the file's ``defaults`` (booking keeps working) or
tell the user the truthful ``fallbacks`` wording instead of an address or phone. The file is
re-read when it changes, so an operator can fill it in while the service runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from bot.core import settings

Hours = tuple[tuple[time, time], ...]

__all__ = ["Hours", "CentreSettings", "Deployment", "deployment_path", "load", "parse_hours"]


def deployment_path() -> Path:
    return settings.DATA_FILES / "deployment.yml"


@dataclass(frozen=True)
class CentreSettings:
    """One centre's values as filled in; None where the operator has not configured it."""

    address: str | None = None
    phone: str | None = None
    hours: Hours | None = None
    slot_minutes: int | None = None
    capacity_per_slot: int | None = None


@dataclass(frozen=True)
class Deployment:
    default_hours: Hours
    default_slot_minutes: int
    default_capacity_per_slot: int
    booking_horizon_days: int
    address_fallback: str
    phone_fallback: str
    handoff_hours: Hours | None = None
    centres: dict[str, CentreSettings] = field(default_factory=dict)

    @property
    def handoff_configured(self) -> bool:
        return self.handoff_hours is not None

    def centre(self, centre_id: str) -> CentreSettings:
        return self.centres.get(centre_id) or CentreSettings()


def _hm(value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads 09:00 unquoted as sexagesimal minutes
        return time(value // 60, value % 60)
    hour, minute = str(value).split(":")
    return time(int(hour), int(minute))


def parse_hours(value: Any) -> Hours | None:
    """``[{start: "09:00", end: "11:30"}, …]`` → ((09:00, 11:30), …); None when not given."""
    if not value:
        return None
    return tuple((_hm(item["start"]), _hm(item["end"])) for item in value)


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _number(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def _parse(raw: dict) -> Deployment:
    defaults = raw.get("defaults") or {}
    fallbacks = raw.get("fallbacks") or {}
    centres = {
        str(centre_id): CentreSettings(
            address=_text(entry.get("address")),
            phone=_text(entry.get("phone")),
            hours=parse_hours(entry.get("hours")),
            slot_minutes=_number(entry.get("slot_minutes")),
            capacity_per_slot=_number(entry.get("capacity_per_slot")),
        )
        for centre_id, entry in (raw.get("centres") or {}).items()
        if isinstance(entry, dict)
    }
    return Deployment(
        default_hours=parse_hours(defaults.get("hours")) or (),
        default_slot_minutes=_number(defaults.get("slot_minutes")) or 30,
        default_capacity_per_slot=_number(defaults.get("capacity_per_slot")) or 3,
        booking_horizon_days=_number(defaults.get("booking_horizon_days")) or 30,
        address_fallback=_text(fallbacks.get("address")) or "",
        phone_fallback=_text(fallbacks.get("phone")) or "",
        handoff_hours=parse_hours((raw.get("handoff") or {}).get("hours")),
        centres=centres,
    )


_cache: dict[Path, tuple[float, Deployment]] = {}


def load(path: Path | None = None) -> Deployment:
    """deployment.yml, re-read when its modification time changes."""
    path = Path(path or deployment_path())
    mtime = path.stat().st_mtime
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    deployment = _parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    _cache[path] = (mtime, deployment)
    return deployment
