"""The district registry and the NLU files generated from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.core import districts, settings

REPO = Path(__file__).resolve().parents[2]


def test_registry_has_qingdaos_ten_districts_in_order():
    assert districts.names() == (
        "市南区",
        "市北区",
        "李沧区",
        "崂山区",
        "城阳区",
        "黄岛区",
        "即墨区",
        "胶州市",
        "平度市",
        "莱西市",
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("市南区", "市南区"),
        ("市南", "市南区"),
        ("城阳", "城阳区"),
        ("即墨", "即墨区"),
        ("胶州", "胶州市"),
        ("西海岸新区", "黄岛区"),
        ("胶南", "黄岛区"),
        ("原四方区", "市北区"),
        ("嶗山區", "崂山区"),
        (" 平度 ", "平度市"),
        ("北京", None),
        ("", None),
        (None, None),
        ("我在李沧", None),  # normalise wants exactly a name; find reads sentences
    ],
)
def test_normalise(text, expected):
    assert districts.normalise(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我在李沧", "李沧区"),
        ("住在青岛西海岸新区", "黄岛区"),
        ("即墨区的", "即墨区"),
        ("去胶州市办", "胶州市"),
        ("随便", None),
    ],
)
def test_find_in_a_sentence(text, expected):
    assert districts.find(text) == expected


def test_aliases_point_at_names_and_never_collide():
    names = set(districts.names())
    seen = {}
    for district in districts.load():
        for alias in district.aliases:
            assert alias not in names, alias
            assert seen.setdefault(alias, district.name) == district.name, alias
    assert districts.aliases()["黄岛"] == "黄岛区"


def test_neighbours_are_symmetric_registry_names():
    for name in districts.names():
        near = districts.neighbours(name)
        assert name not in near and near <= set(districts.names())
        for other in near:
            assert name in districts.neighbours(other)
    assert districts.neighbours("市南区") == {"市北区", "崂山区", "黄岛区"}


def test_unknown_neighbour_is_refused(tmp_path):
    path = tmp_path / "districts.yml"
    path.write_text("districts:\n  - {name: 甲区, neighbours: [乙区]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="乙区"):
        districts.load(path)


def test_generated_files_are_current():
    """Fails when districts.yml changed but `python -m bot.core.districts generate` was not run
    (or a generated file was edited by hand)."""
    stale = [str(path.relative_to(settings.REPO_ROOT)) for path in districts.stale_files()]
    assert not stale, f"regenerate with `python -m bot.core.districts generate`: {stale}"


def test_stale_detection_sees_a_registry_change(tmp_path):
    registry = tmp_path / "districts.yml"
    raw = yaml.safe_load(districts.REGISTRY_FILE.read_text(encoding="utf-8"))
    raw["districts"][0]["aliases"].append("市南老城")
    registry.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert set(districts.stale_files(registry)) == {districts.LOOKUP_FILE, districts.JIEBA_FILE}
    assert "    - 市南老城" in districts.render_lookups(registry)
    assert "市南老城 1500 ns" in districts.render_jieba(registry)


def test_generated_lookup_is_valid_rasa_nlu_with_every_name_and_alias():
    data = yaml.safe_load(districts.LOOKUP_FILE.read_text(encoding="utf-8"))
    blocks = data["nlu"]
    lookup = next(block for block in blocks if block.get("lookup") == "district")
    words = [line[2:] for line in lookup["examples"].splitlines()]
    expected = [w for d in districts.load() for w in (d.name, *d.aliases)]
    assert words == expected
    synonyms = {
        block["synonym"]: [line[2:] for line in block["examples"].splitlines()]
        for block in blocks
        if "synonym" in block
    }
    assert synonyms["黄岛区"][:2] == ["黄岛", "西海岸新区"]
    assert districts.LOOKUP_FILE.read_text(encoding="utf-8").startswith("# GENERATED")


def test_no_other_nlu_or_jieba_file_lists_districts():
    others = [
        p
        for p in (REPO / "nlu_data").rglob("*")
        if p.is_file() and p not in (districts.LOOKUP_FILE, districts.JIEBA_FILE)
    ]
    for path in others:
        text = path.read_text(encoding="utf-8")
        assert "lookup: district" not in text, path
        if path.suffix == ".txt":
            lines = text.splitlines()
            assert not any(line.startswith(("崂山区 ", "胶州市 ")) for line in lines), path


def test_domain_district_buttons_are_the_registry():
    """The district buttons (domain.yml, user-facing text) list every registry name in order."""
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    for response in (
        "utter_ask_appointment_form_district",
        "utter_ask_wish_form_district",
        "utter_ask_job_seeker_form_district",
    ):
        buttons = domain["responses"][response][0]["buttons"]
        assert [b["title"] for b in buttons] == list(districts.names()), response
        assert all(f'"district":"{b["title"]}"' in b["payload"] for b in buttons), response
    listed = domain["responses"]["utter_invalid_district"][0]["text"]
    assert all(district.short in listed for district in districts.load())


def test_generator_command_check_passes():
    result = subprocess.run(
        [sys.executable, "-m", "bot.core.districts", "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
