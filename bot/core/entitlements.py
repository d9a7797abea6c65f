"""The programme catalogue (data/programmes.yml) and the entitlement finder.

A *profile* is a dict with any of ``veteran_category`` (str), ``qingdao_hukou`` (bool), ``age``
(int),
``disability_grade`` (int 1–10; 0 = none) and ``income_difficulty`` (bool). A field the user said
they
do not know is stored as :data:`UNKNOWN` (``"unknown"``, JSON-safe for a Rasa slot): it counts as
missing
for the verdict but is never asked again.

Finder, in short:
1. every programme is evaluated: ``"yes"``, ``"no"`` (a known answer breaks a condition) or
   ``("maybe", missing_fields)``;
2. askable fields = fields missing for some maybe-programme, not answered, not declined;
   ``disability_grade`` only once ``veteran_category`` is 伤残军人 or declined;
3. for each askable field, simulate every possible answer and count maybe-programmes it would
settle;
   ask the field with the highest average (ties: more programmes concerned, then FIELD_ORDER);
4. no askable field left → ``next_question`` is None and the result is ``settled``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core import numerals, settings, sources

PROGRAMMES_FILE = settings.DATA_FILES / "programmes.yml"

UNKNOWN = "unknown"  # the user does not know / does not want to say — never ask again

VETERAN_CATEGORY = "veteran_category"
QINGDAO_HUKOU = "qingdao_hukou"
AGE = "age"
DISABILITY_GRADE = "disability_grade"
INCOME_DIFFICULTY = "income_difficulty"
# Also the tie-break order of questions.
FIELD_ORDER = (VETERAN_CATEGORY, QINGDAO_HUKOU, AGE, INCOME_DIFFICULTY, DISABILITY_GRADE)

DISABLED_VETERAN = "伤残军人"
VETERAN_CATEGORIES = (
    "退役士兵",
    "转业军官",
    "军休干部",
    "伤残军人",
    "烈士遗属",
    "因公牺牲军人遗属",
    "病故军人遗属",
    "现役军人家属",
    "复员军人",
)
CATEGORY_ALIASES = {
    "自主择业军转干部": "转业军官",
    "军转干部": "转业军官",
    "转业干部": "转业军官",
    "退休军人": "军休干部",
    "残疾军人": "伤残军人",
    "伤残退役军人": "伤残军人",
    "退伍军人": "退役士兵",
    "退伍兵": "退役士兵",
    "军属": "现役军人家属",
    "烈属": "烈士遗属",
}
DISABILITY_GRADES = tuple(range(1, 11))

_ELIGIBILITY_KEYS = {
    "categories",
    "qingdao_hukou",
    "age_min",
    "age_max",
    "disability_grades",
    "income_difficulty",
}

YES = "yes"
NO = "no"
MAYBE = "maybe"

Verdict = str | tuple[str, tuple[str, ...]]


# --- catalogue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    categories: tuple[str, ...] | None = None
    qingdao_hukou: bool = False  # True = required
    age_min: int | None = None
    age_max: int | None = None
    disability_grades: tuple[int, ...] | None = None
    income_difficulty: bool = False  # True = required


@dataclass(frozen=True)
class Programme:
    id: str
    name: str
    kind: str = ""
    summary: str = ""
    gives: str = ""
    eligibility: Eligibility = field(default_factory=Eligibility)
    eligibility_text: str = ""
    how_to_apply: str = ""
    where: str = ""
    documents: tuple[str, ...] = ()
    source: str = ""  # the rendered citation (from ``sources:`` and data/sources.yml)
    notice: str = ""
    figures: str = ""  # reported statistics, shown after the summary
    finder: bool = True  # False: eligibility is not published, so the finder never claims it
    source_keys: tuple[str, ...] = ()
    source_label: str = ""
    documents_unknown: str = ""


def canonical_category(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _norm_text(value)
    return CATEGORY_ALIASES.get(value, value)


def _norm_text(text: str) -> str:
    from bot.core.script import to_simplified

    return to_simplified(unicodedata.normalize("NFKC", text)).strip()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_programme(
    raw: Mapping,
    notice: str,
    file: Mapping = None,
    register: Mapping[str, sources.Source] | None = None,
) -> Programme:
    pid = _text(raw.get("id"))
    name = _text(raw.get("name"))
    if not pid or not name:
        raise ValueError(f"programme without id or name: {raw!r}")
    if not re.fullmatch(r"[a-z0-9_]{1,20}", pid):
        raise ValueError(f"programme id {pid!r}: lowercase ascii, <= 20 chars")
    rules = raw.get("eligibility") or {}
    unknown = set(rules) - _ELIGIBILITY_KEYS
    if unknown:
        raise ValueError(f"programme {pid}: unknown eligibility keys {sorted(unknown)}")
    categories = rules.get("categories")
    grades = rules.get("disability_grades")
    eligibility = Eligibility(
        categories=tuple(canonical_category(c) for c in categories) if categories else None,
        qingdao_hukou=bool(rules.get("qingdao_hukou")),
        age_min=int(rules["age_min"]) if rules.get("age_min") is not None else None,
        age_max=int(rules["age_max"]) if rules.get("age_max") is not None else None,
        disability_grades=tuple(int(g) for g in grades) if grades else None,
        income_difficulty=bool(rules.get("income_difficulty")),
    )
    return Programme(
        id=pid,
        name=name,
        kind=_text(raw.get("kind")),
        summary=_text(raw.get("summary")),
        gives=_text(raw.get("gives")),
        eligibility=eligibility,
        eligibility_text=_text(raw.get("eligibility_text")),
        how_to_apply=_text(raw.get("how_to_apply")),
        where=_text(raw.get("where")),
        documents=tuple(_text(d) for d in (raw.get("documents") or ()) if _text(d)),
        source=sources.cite(raw.get("sources"), where=f"programme {pid}", sources=register),
        notice=notice,
        figures=_text(raw.get("figures")),
        finder=raw.get("finder", True) is not False,
        source_keys=tuple(sources.keys(raw.get("sources"))),
        source_label=_text((file or {}).get("source_label")),
        documents_unknown=_text((file or {}).get("documents_unknown")),
    )


def parse_catalogue(
    data: Mapping, register: Mapping[str, sources.Source] | None = None
) -> tuple[Programme, ...]:
    """Programmes from the parsed YAML document (validated: ids and names unique, every programme
    sourced). Entries marked ``placeholder: true`` are unverified drafts and are left out."""
    notice = _text((data or {}).get("notice"))
    programmes = tuple(
        _parse_programme(raw, notice, data, register)
        for raw in ((data or {}).get("programmes") or ())
        if not (isinstance(raw, Mapping) and raw.get("placeholder") is True)
    )
    for attr in ("id", "name"):
        values = [getattr(p, attr) for p in programmes]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ValueError(f"duplicate programme {attr}s: {dupes}")
    return programmes


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[tuple[Programme, ...], str]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return parse_catalogue(data), _text(data.get("notice"))


def load_catalogue(path: str | Path | None = None) -> tuple[Programme, ...]:
    """All programmes in file order (cached; reloaded when the file changes)."""
    path = Path(path or PROGRAMMES_FILE)
    return _load(str(path), path.stat().st_mtime)[0]


def catalogue_notice(path: str | Path | None = None) -> str:
    path = Path(path or PROGRAMMES_FILE)
    return _load(str(path), path.stat().st_mtime)[1]


def programme_by_name(
    name_or_id: str | None, programmes: Sequence[Programme] | None = None
) -> Programme | None:
    """A programme by id or canonical name (Traditional / full-width input accepted).

    Falls back to the longest programme name contained in the text, then to a name that uniquely
    contains the text (抚恤 → 伤残抚恤金 when only one name contains it).
    """
    if not name_or_id or not str(name_or_id).strip():
        return None
    programmes = load_catalogue() if programmes is None else programmes
    query = _norm_text(str(name_or_id))
    lowered = query.lower()
    for p in programmes:
        if p.id == lowered or p.name == query:
            return p
    contained = [p for p in programmes if p.name in query]
    if contained:
        return max(contained, key=lambda p: (len(p.name), -programmes.index(p)))
    containing = [p for p in programmes if len(query) >= 2 and query in p.name]
    if len(containing) == 1:
        return containing[0]
    return None


def details(programme: Programme) -> dict[str, Any]:
    """The text parts an action or the console renders (Simplified). ``summary`` includes the
    reported figures; ``documents_text`` says to ask when no documents are published; ``footer``
    is the closing source-and-notice line."""
    summary = "\n".join(part for part in (programme.summary, programme.figures) if part)
    return {
        "id": programme.id,
        "name": programme.name,
        "kind": programme.kind,
        "summary": summary,
        "gives": programme.gives,
        "eligibility_text": programme.eligibility_text,
        "how_to_apply": programme.how_to_apply,
        "where": programme.where,
        "documents": list(programme.documents),
        "documents_text": "、".join(programme.documents) or programme.documents_unknown,
        "source": programme.source,
        "notice": programme.notice,
        "footer": sources.footer(programme.source, programme.source_label, programme.notice),
    }


# --- profile --------------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "是", "是的", "有", "对", "对的", "嗯", "属于"}
_FALSE = {"false", "no", "n", "0", "否", "不是", "没有", "无", "不", "不属于"}
_UNKNOWN_WORDS = {
    UNKNOWN,
    "不知道",
    "不清楚",
    "不确定",
    "说不清",
    "不方便说",
    "跳过",
    "skip",
    "dont_know",
}


def is_declined(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = _norm_text(str(value)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no answer: {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    text = _norm_text(str(value))
    text = re.sub(r"(级|岁|周岁)$", "", text)
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    number = numerals.parse_int(text)
    if number is not None:
        return number
    raise ValueError(f"not a number: {value!r}")


def normalise_profile(profile: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed copy of ``profile``: unknown words → UNKNOWN, '是' → True, '65岁' → 65, aliases
    resolved.

    Keys outside FIELD_ORDER and None values are dropped; unparseable values raise ValueError.
    """
    out: dict[str, Any] = {}
    for key, value in (profile or {}).items():
        if (
            key not in FIELD_ORDER
            or value is None
            or (isinstance(value, str) and not value.strip())
        ):
            continue
        if isinstance(value, str) and _norm_text(value).lower() in _UNKNOWN_WORDS:
            out[key] = UNKNOWN
        elif key == VETERAN_CATEGORY:
            out[key] = canonical_category(str(value))
        elif key in (QINGDAO_HUKOU, INCOME_DIFFICULTY):
            out[key] = _bool(value)
        else:
            out[key] = _int(value)
    return out


def _known(profile: Mapping[str, Any], key: str) -> bool:
    return key in profile and profile[key] is not None and not is_declined(profile[key])


# --- verdicts -------------------------------------------------------------------------------------


def _check(rules: Eligibility, profile: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """(fails, missing) for one programme."""
    missing: list[str] = []
    category = profile.get(VETERAN_CATEGORY) if _known(profile, VETERAN_CATEGORY) else None
    grade = profile.get(DISABILITY_GRADE) if _known(profile, DISABILITY_GRADE) else None

    if rules.categories is not None:
        if category is not None:
            if category not in rules.categories:
                return True, []
        elif grade and DISABLED_VETERAN in rules.categories:
            pass  # a disability grade means a 伤残军人
        else:
            missing.append(VETERAN_CATEGORY)

    if rules.qingdao_hukou:
        if _known(profile, QINGDAO_HUKOU):
            if profile[QINGDAO_HUKOU] is not True:
                return True, []
        else:
            missing.append(QINGDAO_HUKOU)

    if rules.age_min is not None or rules.age_max is not None:
        if _known(profile, AGE):
            age = profile[AGE]
            if (rules.age_min is not None and age < rules.age_min) or (
                rules.age_max is not None and age > rules.age_max
            ):
                return True, []
        else:
            missing.append(AGE)

    if rules.disability_grades is not None:
        if grade is not None:
            if grade not in rules.disability_grades:
                return True, []
        elif category is not None and category != DISABLED_VETERAN:
            return True, []  # only a 伤残军人 has a disability grade
        else:
            if (
                VETERAN_CATEGORY not in missing
                and category is None
                and not is_declined(profile.get(VETERAN_CATEGORY))
            ):
                missing.append(VETERAN_CATEGORY)
            missing.append(DISABILITY_GRADE)

    if rules.income_difficulty:
        if _known(profile, INCOME_DIFFICULTY):
            if profile[INCOME_DIFFICULTY] is not True:
                return True, []
        else:
            missing.append(INCOME_DIFFICULTY)

    return False, missing


def evaluate(programme: Programme, profile: Mapping[str, Any] | None) -> Verdict:
    """``'yes'``, ``'no'`` or ``('maybe', missing_fields)`` (fields in FIELD_ORDER order)."""
    profile = normalise_profile(profile)
    fails, missing = _check(programme.eligibility, profile)
    if fails:
        return NO
    if missing:
        return (MAYBE, tuple(f for f in FIELD_ORDER if f in missing))
    return YES


# --- the finder -----------------------------------------------------------------------------------


@dataclass
class FinderResult:
    qualifies: list[Programme]
    maybe: list[tuple[Programme, tuple[str, ...]]]
    not_eligible: list[Programme]
    next_question: str | None
    settled: bool
    declined: tuple[str, ...] = ()


def _askable(field_name: str, profile: Mapping[str, Any]) -> bool:
    if field_name in profile:  # answered or declined
        return False
    if field_name == DISABILITY_GRADE:
        category = profile.get(VETERAN_CATEGORY)
        return category == DISABLED_VETERAN or is_declined(category)
    return True


def _answers(field_name: str, maybes: Sequence[tuple[Programme, tuple[str, ...]]]) -> list[Any]:
    """Representative answers for simulating a question (one per outcome class)."""
    if field_name == VETERAN_CATEGORY:
        values = list(VETERAN_CATEGORIES)
        for p, _ in maybes:
            for c in p.eligibility.categories or ():
                if c not in values:
                    values.append(c)
        return values
    if field_name in (QINGDAO_HUKOU, INCOME_DIFFICULTY):
        return [True, False]
    if field_name == DISABILITY_GRADE:
        return list(DISABILITY_GRADES)
    # age: one value below every threshold, then each threshold (age_min, age_max + 1)
    cuts = sorted(
        {p.eligibility.age_min for p, _ in maybes if p.eligibility.age_min is not None}
        | {p.eligibility.age_max + 1 for p, _ in maybes if p.eligibility.age_max is not None}
    )
    return [cuts[0] - 1] + cuts if cuts else [0]


def _choose(profile: dict[str, Any], maybes: list[tuple[Programme, tuple[str, ...]]]) -> str | None:
    candidates = [
        f
        for f in FIELD_ORDER
        if any(f in missing for _, missing in maybes) and _askable(f, profile)
    ]
    if not candidates:
        return None

    def rank(field_name: str):
        answers = _answers(field_name, maybes)
        settled = 0
        for answer in answers:
            trial = {**profile, field_name: answer}
            for p, _ in maybes:
                fails, missing = _check(p.eligibility, trial)
                settled += fails or not missing
        concerned = sum(1 for _, missing in maybes if field_name in missing)
        return (-settled / len(answers), -concerned, FIELD_ORDER.index(field_name))

    return min(candidates, key=rank)


def find(
    profile: Mapping[str, Any] | None, programmes: Sequence[Programme] | None = None
) -> FinderResult:
    """Sort the catalogue for ``profile`` and pick the one question worth asking next (or None)."""
    programmes = load_catalogue() if programmes is None else programmes
    programmes = [p for p in programmes if p.finder]
    prof = normalise_profile(profile)
    qualifies: list[Programme] = []
    maybe: list[tuple[Programme, tuple[str, ...]]] = []
    not_eligible: list[Programme] = []
    for p in programmes:
        verdict = evaluate(p, prof)
        if verdict == YES:
            qualifies.append(p)
        elif verdict == NO:
            not_eligible.append(p)
        else:
            maybe.append((p, verdict[1]))
    question = _choose(prof, maybe)
    return FinderResult(
        qualifies=qualifies,
        maybe=maybe,
        not_eligible=not_eligible,
        next_question=question,
        settled=question is None,
        declined=tuple(f for f in FIELD_ORDER if is_declined(prof.get(f))),
    )
