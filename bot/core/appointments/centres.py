"""The district service centres: who they are (``service_centres.yml``) joined with what the
operator configured for them (``deployment.yml``), and the slot grid their hours make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from bot.core import deployment, districts, settings
from bot.core.appointments.errors import AppointmentError
from bot.core.deployment import Hours

# The values an operator configures per centre; ``Centre.configured`` is true when all are set.
DEPLOYMENT_FIELDS = ("address", "phone", "hours", "slot_minutes", "capacity_per_slot")


@dataclass(frozen=True)
class Centre:
    """A centre as booking uses it. ``address`` / ``phone`` are None until configured; show
    ``address_text`` / ``phone_text`` to users (the truthful fallback wording until then).
    ``hours``, ``slot_minutes`` and ``capacity_per_slot`` fall back to the file's defaults."""

    id: str
    district: str
    name: str
    address: str | None
    phone: str | None
    hours: Hours
    slot_minutes: int
    capacity_per_slot: int
    configured_fields: frozenset[str] = frozenset()
    address_fallback: str = ""
    phone_fallback: str = ""

    def is_configured(self, name: str) -> bool:
        return name in self.configured_fields

    @property
    def configured(self) -> bool:
        """Every deployment value of this centre is filled in (the console shows 未配置 if not)."""
        return all(name in self.configured_fields for name in DEPLOYMENT_FIELDS)

    @property
    def address_text(self) -> str:
        return self.address or self.address_fallback

    @property
    def phone_text(self) -> str:
        return self.phone or self.phone_fallback


@dataclass(frozen=True)
class CentreConfig:
    centres: dict[str, Centre]
    horizon_days: int
    reminder_template: str


def centres_path() -> Path:
    return settings.DATA_FILES / "service_centres.yml"


_centre_cache: dict[tuple[Path, Path], tuple[tuple[float, float], CentreConfig]] = {}


def _parse_centres(raw: dict, setup: deployment.Deployment) -> CentreConfig:
    centres = {}
    for item in raw.get("centres") or []:
        centre_id = str(item["id"])
        given = setup.centre(centre_id)
        configured = frozenset(
            name for name in DEPLOYMENT_FIELDS if getattr(given, name) is not None
        )
        centres[centre_id] = Centre(
            id=centre_id,
            district=str(item["district"]),
            name=str(item["name"]),
            address=given.address,
            phone=given.phone,
            hours=given.hours if given.hours is not None else setup.default_hours,
            slot_minutes=given.slot_minutes or setup.default_slot_minutes,
            capacity_per_slot=given.capacity_per_slot or setup.default_capacity_per_slot,
            configured_fields=configured,
            address_fallback=setup.address_fallback,
            phone_fallback=setup.phone_fallback,
        )
    return CentreConfig(
        centres=centres,
        horizon_days=setup.booking_horizon_days,
        reminder_template=str(raw.get("reminder_template") or ""),
    )


def _config(path: Path | None = None, deployment_file: Path | None = None) -> CentreConfig:
    """Both files, re-read when either changes (operators fill in deployment.yml live)."""
    path = Path(path or centres_path())
    deployment_file = Path(deployment_file or deployment.deployment_path())
    key = (path, deployment_file)
    mtimes = (path.stat().st_mtime, deployment_file.stat().st_mtime)
    cached = _centre_cache.get(key)
    if cached and cached[0] == mtimes:
        return cached[1]
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = _parse_centres(raw, deployment.load(deployment_file))
    _centre_cache[key] = (mtimes, config)
    return config


def load_centres(path: Path | None = None, deployment_file: Path | None = None) -> list[Centre]:
    """All centres in file order."""
    return list(_config(path, deployment_file).centres.values())


def get_centre(centre_id: str, path: Path | None = None) -> Centre | None:
    return _config(path).centres.get(centre_id)


def require_centre(centre_id: str) -> Centre:
    centre = get_centre(centre_id)
    if centre is None:
        raise AppointmentError("unknown_centre", centre_id)
    return centre


def centre_of(centre) -> Centre:
    """A Centre, given one or its id."""
    return centre if isinstance(centre, Centre) else require_centre(str(centre))


def find_centre_by_district(text: str | None, path: Path | None = None) -> Centre | None:
    """The centre for a district name, alias (西海岸新区) or a sentence that contains one (the
    district registry decides), or for a centre's id or full name."""
    if not text:
        return None
    centres = load_centres(path)
    district = districts.find(text)
    for centre in centres:
        if centre.district == district:
            return centre
    lowered = text.strip().lower()
    for centre in centres:
        if centre.id == lowered or centre.name in text:
            return centre
    return None


def horizon_end(now: datetime) -> date:
    return now.date() + timedelta(days=_config().horizon_days)


def reminder_template() -> str:
    return _config().reminder_template


# --------------------------------------------------------------------------- slot grid


def slot_starts(centre: Centre, day: date) -> list[datetime]:
    """Every slot start on ``day`` (ignores closures; see ``slots.free_slots``)."""
    step = timedelta(minutes=centre.slot_minutes)
    starts = []
    for opens, closes in centre.hours:
        moment, end = datetime.combine(day, opens), datetime.combine(day, closes)
        while moment + step <= end:
            starts.append(moment)
            moment += step
    return starts


def slot_containing(centre: Centre, moment: datetime) -> datetime | None:
    """The start of the slot a requested moment falls in (9:15 → 9:00), None outside hours."""
    step = timedelta(minutes=centre.slot_minutes)
    for start in slot_starts(centre, moment.date()):
        if start <= moment < start + step:
            return start
    return None
