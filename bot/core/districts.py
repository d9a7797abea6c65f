"""Qingdao's districts and county-level cities: the one registry (``data/districts.yml``).

Everything that knows district names reads them here: job matching, the service centres (their
``district`` must be a registry name), anonymisation, and — through generated files — the NLU
(the ``district`` lookup table and synonyms, and the jieba dictionary words). Regenerate those
after editing the registry::

    .venv/bin/python -m bot.core.districts generate     # write the generated files
    .venv/bin/python -m bot.core.districts check        # exit 1 when one is not current
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.core import settings

REGISTRY_FILE = settings.DATA_FILES / "districts.yml"
LOOKUP_FILE = settings.REPO_ROOT / "nlu_data" / "nlu" / "lookups_district.yml"
JIEBA_FILE = settings.REPO_ROOT / "nlu_data" / "jieba" / "districts.txt"

# jieba word frequencies: canonical names must win over any split, two-character short forms
# (市南, 胶南) must still be kept whole.
_NAME_FREQUENCY, _ALIAS_FREQUENCY, _SHORT_ALIAS_FREQUENCY = 2000, 1500, 1000

__all__ = [
    "District",
    "load",
    "names",
    "aliases",
    "normalise",
    "find",
    "neighbours",
    "render_lookups",
    "render_jieba",
    "generated_files",
    "stale_files",
    "main",
]


@dataclass(frozen=True)
class District:
    name: str
    aliases: tuple[str, ...]
    neighbours: frozenset[str]

    @property
    def short(self) -> str:
        """市南区 → 市南, 胶州市 → 胶州 (the name without its 区/市 suffix)."""
        return self.name[:-1]


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[District, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = raw.get("districts") or []
    known = {str(entry["name"]) for entry in entries}
    borders: dict[str, set] = {name: set() for name in known}
    for entry in entries:
        for other in entry.get("neighbours") or ():
            if other not in known:
                raise ValueError(f"{path}: {other!r}, neighbour of {entry['name']}, is unknown")
            borders[str(entry["name"])].add(str(other))
            borders[str(other)].add(str(entry["name"]))
    return tuple(
        District(
            name=str(entry["name"]),
            aliases=tuple(str(alias) for alias in entry.get("aliases") or ()),
            neighbours=frozenset(borders[str(entry["name"])]),
        )
        for entry in entries
    )


def load(path: Path | None = None) -> tuple[District, ...]:
    """Every district in registry order."""
    return _load(Path(path or REGISTRY_FILE))


def names(path: Path | None = None) -> tuple[str, ...]:
    """The canonical names in registry order (市南区 … 莱西市)."""
    return tuple(district.name for district in load(path))


def aliases(path: Path | None = None) -> dict[str, str]:
    """Every other way of saying a district (its short form included) → its canonical name."""
    table: dict[str, str] = {}
    for district in load(path):
        for alias in (district.short, *district.aliases):
            if len(alias) >= 2:
                table.setdefault(alias, district.name)
    return table


def neighbours(name: str, path: Path | None = None) -> frozenset[str]:
    for district in load(path):
        if district.name == name:
            return district.neighbours
    return frozenset()


def _clean(text: str) -> str:
    from bot.core.script import normalise as simplified

    return simplified(text).replace(" ", "").replace("\u3000", "")


def normalise(text: str | None, path: Path | None = None) -> str | None:
    """The canonical name for exactly a name or an alias (Traditional, full-width, spaces are
    fine): '胶州' → '胶州市', '西海岸新区' → '黄岛区', '嶗山區' → '崂山区'; None otherwise."""
    if not text:
        return None
    word = _clean(text)
    if word in names(path):
        return word
    return aliases(path).get(word)


def find(text: str | None, path: Path | None = None) -> str | None:
    """The district a sentence mentions ('我在李沧' → '李沧区'); the longest name or alias wins,
    so '即墨区' is not read as a shorter accidental match."""
    if not text:
        return None
    exact = normalise(text, path)
    if exact:
        return exact
    sentence = _clean(text)
    candidates = [(name, name) for name in names(path)] + list(aliases(path).items())
    for word, name in sorted(candidates, key=lambda pair: -len(pair[0])):
        if word in sentence:
            return name
    return None


# --------------------------------------------------------------------------- generated files

_GENERATED_HEADER = (
    "# GENERATED from bot/core/data/districts.yml by `python -m bot.core.districts generate`"
    " — do not edit.\n"
)


def render_lookups(path: Path | None = None) -> str:
    """The Rasa NLU file: the ``district`` lookup table and one synonym block per district."""
    lines = [
        _GENERATED_HEADER.rstrip("\n"),
        "# Input is normalised (Traditional→Simplified, full-width→half-width) before NLU,",
        "# so only Simplified surface forms are listed.",
        "",
        'version: "3.1"',
        "",
        "nlu:",
        "- lookup: district",
        "  examples: |",
    ]
    for district in load(path):
        lines += [f"    - {word}" for word in (district.name, *district.aliases)]
    for district in load(path):
        if not district.aliases:
            continue
        lines += ["", f"- synonym: {district.name}", "  examples: |"]
        lines += [f"    - {alias}" for alias in district.aliases]
    return "\n".join(lines) + "\n"


def render_jieba(path: Path | None = None) -> str:
    """jieba user-dictionary lines ``word frequency ns`` (no comments: jieba has no syntax for
    them; the registry's header says this file is generated)."""
    lines = []
    for district in load(path):
        lines.append(f"{district.name} {_NAME_FREQUENCY} ns")
        for alias in district.aliases:
            frequency = _SHORT_ALIAS_FREQUENCY if len(alias) <= 2 else _ALIAS_FREQUENCY
            lines.append(f"{alias} {frequency} ns")
    return "\n".join(lines) + "\n"


def generated_files(path: Path | None = None) -> dict[Path, str]:
    """Each generated file and the content it must have."""
    return {LOOKUP_FILE: render_lookups(path), JIEBA_FILE: render_jieba(path)}


def stale_files(path: Path | None = None) -> list[Path]:
    """Generated files whose content differs from a fresh generation (or that are missing)."""
    return [
        target
        for target, content in generated_files(path).items()
        if not target.exists() or target.read_text(encoding="utf-8") != content
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.core.districts")
    parser.add_argument("command", choices=["generate", "check"])
    args = parser.parse_args(argv)
    if args.command == "check":
        stale = stale_files()
        for target in stale:
            print(f"not current: {target.relative_to(settings.REPO_ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for target, content in generated_files().items():
        target.write_text(content, encoding="utf-8")
        print(f"wrote {target.relative_to(settings.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
