"""deployment.yml: the operator's facts, nothing invented, truthful fallbacks."""

from __future__ import annotations

import os
from datetime import time

import yaml

from bot.core import appointments, deployment, settings

INVENTED_MARKS = ("示例", "XXXX", "请部署方", "占位")


def test_shipped_files_carry_no_invented_address_or_phone():
    for name in ("deployment.yml", "service_centres.yml"):
        raw = yaml.safe_load((settings.DATA_FILES / name).read_text(encoding="utf-8"))
        text = yaml.safe_dump(raw, allow_unicode=True)  # values only: comments may explain
        assert not any(mark in text for mark in INVENTED_MARKS), name


def test_every_centre_has_an_entry_and_nothing_is_configured_yet():
    setup = deployment.load()
    ids = [centre.id for centre in appointments.load_centres()]
    assert sorted(setup.centres) == sorted(ids)
    for centre_id in ids:
        assert setup.centre(centre_id) == deployment.CentreSettings()
    assert not setup.handoff_configured and setup.handoff_hours is None


def test_defaults_and_fallbacks_come_from_the_file():
    setup = deployment.load()
    assert setup.default_hours == ((time(9), time(11, 30)), (time(13, 30), time(17)))
    assert (setup.default_slot_minutes, setup.default_capacity_per_slot) == (30, 3)
    assert setup.booking_horizon_days == 30
    assert "12345" in setup.address_fallback and "12345" in setup.phone_fallback


def test_configured_values_and_handoff_hours(tmp_path):
    path = tmp_path / "deployment.yml"
    path.write_text(
        "defaults: {hours: [{start: '09:00', end: '12:00'}]}\n"
        "handoff: {hours: [{start: '08:30', end: '17:30'}]}\n"
        "centres:\n  licang: {address: ' 某路1号 ', phone: '', capacity_per_slot: 4}\n",
        encoding="utf-8",
    )
    setup = deployment.load(path)
    assert setup.handoff_configured and setup.handoff_hours == ((time(8, 30), time(17, 30)),)
    licang = setup.centre("licang")
    assert (licang.address, licang.phone, licang.capacity_per_slot) == ("某路1号", None, 4)
    assert setup.centre("unknown") == deployment.CentreSettings()
    assert (setup.default_slot_minutes, setup.default_capacity_per_slot) == (30, 3)


def test_changes_are_read_without_restart(tmp_path):
    path = tmp_path / "deployment.yml"
    path.write_text("centres: {licang: {phone: null}}\n", encoding="utf-8")
    assert deployment.load(path).centre("licang").phone is None
    path.write_text("centres: {licang: {phone: 0532-1}}\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    assert deployment.load(path).centre("licang").phone == "0532-1"
