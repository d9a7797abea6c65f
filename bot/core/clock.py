"""The one clock: every time the service records or shows is naive local time in ``RJ_TZ``.

The database stores naive datetimes in the service's own time zone (Asia/Shanghai unless
``RJ_TZ`` says otherwise), so the action server, the console and the gateways must all read the
time here — a process that used the host clock (UTC on most servers) would be eight hours off.
Tests replace the clock by passing their own ``now`` callable where a function takes one.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import settings


def timezone_name() -> str:
    return settings.timezone()


def local_tz() -> ZoneInfo:
    return ZoneInfo(timezone_name())


def now() -> datetime:
    """Now as a naive datetime in the service's time zone (what the database stores)."""
    return datetime.now(local_tz()).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """An aware datetime (or a naive UTC one, as Rasa's timestamps are) as naive local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(local_tz()).replace(tzinfo=None)


def from_timestamp(seconds: float) -> datetime:
    """A Unix timestamp (Rasa's event times) as naive local time."""
    return datetime.fromtimestamp(seconds, local_tz()).replace(tzinfo=None)
