"""What is known about a veteran from a conversation (category, district, disability grade
incl. "三级伤残") and the few entitlements that apply — for the agent's takeover summary
(bot.core.agent_assist)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core import entitlements, numerals

KIND_ORDER = {"法定优待": 0, "青岛服务": 1, "荣军矩阵": 2}
MAX_ENTITLEMENTS = 5
MAX_ENTITLEMENTS_CRISIS = 3
_GRADE_RE = re.compile(
    r"(?:(?:伤残|残疾)\s*([一二三四五六七八九十]|10|[1-9])\s*级)|"
    r"(?:(?<![0-9一二三四五六七八九十])([一二三四五六七八九十]|10|[1-9])\s*级\s*(?:伤残|残疾|残))"
)
_GRADE_ALONE_RE = re.compile(
    r"(?<![0-9一二三四五六七八九十])([一二三四五六七八九十]|10|[1-9])\s*级"
)


def _entity(turns: Sequence[Mapping], name: str) -> str | None:
    for turn in reversed(turns):
        for e in turn.get("entities") or ():
            if e.get("entity") == name and e.get("value"):
                return str(e["value"])
    return None


def grade_from_text(text: str | None, *, disabled: bool = False) -> int | None:
    """ "三级伤残" / "伤残3级" → 3; a bare "三级" only when the person is known to be disabled."""
    text = str(text or "")
    match = _GRADE_RE.search(text)
    raw = (match.group(1) or match.group(2)) if match else None
    if raw is None and (disabled or "伤残" in text or "残疾" in text):
        alone = _GRADE_ALONE_RE.search(text)
        raw = alone.group(1) if alone else None
    if raw is None:
        return None
    value = int(raw) if raw.isdigit() else numerals.parse_int(raw)
    return value if value in entitlements.DISABILITY_GRADES else None


def _category_from_text(text: str) -> str | None:
    names = list(entitlements.VETERAN_CATEGORIES) + list(entitlements.CATEGORY_ALIASES)
    for name in sorted(names, key=len, reverse=True):
        if name in text:
            return entitlements.canonical_category(name)
    return None


def facts(turns: Sequence[Mapping], slots: Mapping | None = None) -> dict:
    """What is known about the person: slots first, else what the messages say."""
    slots = slots or {}
    out: dict[str, Any] = {}
    category = slots.get("veteran_category") or _entity(turns, "veteran_category")
    texts = [str(t.get("text") or "") for t in turns]
    if not category:
        category = next((c for c in map(_category_from_text, reversed(texts)) if c), None)
    if category and not entitlements.is_declined(category):
        out["veteran_category"] = entitlements.canonical_category(category)
    district = slots.get("district") or _entity(turns, "district")
    if district:
        out["district"] = str(district)
    grade = slots.get("disability_grade")
    if grade in (None, "", entitlements.UNKNOWN):
        disabled = out.get("veteran_category") == entitlements.DISABLED_VETERAN
        grade = next(
            (g for g in (grade_from_text(t, disabled=disabled) for t in reversed(texts)) if g),
            None,
        )
    try:
        grade = int(grade) if grade not in (None, "", entitlements.UNKNOWN) else None
    except (TypeError, ValueError):
        grade = entitlements.normalise_profile({"disability_grade": grade}).get("disability_grade")
    if grade:
        out["disability_grade"] = grade
        out.setdefault("veteran_category", entitlements.DISABLED_VETERAN)
    for key in ("qingdao_hukou", "age", "income_difficulty"):
        if slots.get(key) not in (None, "", []):
            out[key] = slots[key]
    return out


def fact_text(known: Mapping) -> str:
    parts = []
    if known.get("veteran_category"):
        parts.append(str(known["veteran_category"]))
    if known.get("disability_grade"):
        parts.append(f"{known['disability_grade']}级伤残")
    if known.get("district"):
        parts.append(str(known["district"]))
    return "、".join(parts)


def applicable_entitlements(known: Mapping, *, crisis: bool = False) -> list[dict]:
    """The few programmes that apply: statutory (法定优待) first; "条件未知" where one condition is
    still unknown. Nothing while neither the category nor a disability grade is known."""
    profile = {k: v for k, v in known.items() if k in entitlements.FIELD_ORDER}
    if not profile.get("veteran_category") and not profile.get("disability_grade"):
        return []
    try:
        result = entitlements.find(profile)
    except ValueError:
        return []
    labels = {
        "veteran_category": "人员类别",
        "qingdao_hukou": "是否青岛户籍",
        "age": "年龄",
        "disability_grade": "伤残等级",
        "income_difficulty": "是否收入困难",
    }
    rows = [(p, ()) for p in result.qualifies] + [(p, m) for p, m in result.maybe if len(m) == 1]
    if crisis:
        rows = [(p, m) for p, m in rows if p.kind == "法定优待"]
    order = {p.id: index for index, p in enumerate(entitlements.load_catalogue())}
    # statutory first; inside a kind the catalogue's order (伤残抚恤金 leads the statutory ones)
    rows.sort(key=lambda row: (KIND_ORDER.get(row[0].kind, 9), order.get(row[0].id, 0)))
    out = []
    for programme, missing in rows[: MAX_ENTITLEMENTS_CRISIS if crisis else MAX_ENTITLEMENTS]:
        out.append(
            {
                "id": programme.id,
                "name": programme.name,
                "kind": programme.kind,
                "status": "条件未知" if missing else "符合条件",
                "missing": [labels.get(f, f) for f in missing],
                "source": programme.source,
            }
        )
    return out
