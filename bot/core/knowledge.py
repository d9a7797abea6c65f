"""FAQ answers per intent (data/knowledge.yml) and 报到 requirements per category
(data/reporting.yml).

Texts are Simplified; the caller converts to Traditional when needed. Every answer ends with
the source line and the notice — the citation rendered from the topic's ``sources:`` (see
bot.core.sources), also returned separately. A topic marked ``placeholder: true`` is an
unverified draft and is never answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from bot.core import settings, sources

KNOWLEDGE_FILE = settings.DATA_FILES / "knowledge.yml"
REPORTING_FILE = settings.DATA_FILES / "reporting.yml"


class Answer(NamedTuple):
    text: str  # answer + blank line + notice
    source: str
    followups: list[dict[str, str]]  # [{"title", "payload"}]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> Mapping:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def _load(path: str | Path) -> Mapping:
    path = Path(path)
    return _read(str(path), path.stat().st_mtime)


def _knowledge(path: str | Path | None = None) -> Mapping:
    return _load(path or KNOWLEDGE_FILE)


def _reporting(path: str | Path | None = None) -> Mapping:
    return _load(path or REPORTING_FILE)


def _topic(intent: str, path=None) -> Mapping | None:
    topics = _knowledge(path).get("topics") or {}
    topic = topics.get(intent)
    return topic if isinstance(topic, Mapping) else None


def answer(
    intent: str,
    *,
    path: str | Path | None = None,
    register: Mapping[str, sources.Source] | None = None,
) -> Answer | None:
    """The FAQ answer for ``intent`` — (text ending with 来源：….以官方最新公布为准。, citation,
    followups) — or None when the intent has no answer (label-only topics such as book_appointment,
    placeholder drafts, unknown intents). Raises SourceError for an answer without a valid
    source."""
    topic = _topic(intent, path)
    if not topic or not _text(topic.get("answer")) or topic.get("placeholder") is True:
        return None
    data = _knowledge(path)
    notice = _text(topic.get("notice")) or _text(data.get("notice"))
    citation = sources.cite(topic.get("sources"), where=f"knowledge {intent}", sources=register)
    followups = [
        {"title": _text(f.get("title")), "payload": _text(f.get("payload"))}
        for f in (topic.get("followups") or ())
        if isinstance(f, Mapping) and _text(f.get("title")) and _text(f.get("payload"))
    ]
    text = sources.with_footer(topic["answer"], citation, _text(data.get("source_label")), notice)
    return Answer(text, citation, followups)


def label(intent: str, *, path: str | Path | None = None) -> str | None:
    """Short button label for ``intent`` (None if the file has none)."""
    topic = _topic(intent, path)
    return _text(topic.get("label")) or None if topic else None


def topic_labels(
    *, path: str | Path | None = None, answered_only: bool = False
) -> list[tuple[str, str]]:
    """[(intent, label)] in file order — the buttons offered on fallback.

    ``answered_only`` keeps only informational topics (those with an answer).
    """
    out = []
    for intent, topic in (_knowledge(path).get("topics") or {}).items():
        if not isinstance(topic, Mapping) or not _text(topic.get("label")):
            continue
        if answered_only and (not _text(topic.get("answer")) or topic.get("placeholder") is True):
            continue
        out.append((str(intent), _text(topic["label"])))
    return out


def notice(*, path: str | Path | None = None) -> str:
    return _text(_knowledge(path).get("notice"))


def reporting_categories(*, path: str | Path | None = None) -> list[str]:
    return [str(c) for c in (_reporting(path).get("categories") or {})]


def reporting_requirements(
    category: str | None,
    *,
    path: str | Path | None = None,
    register: Mapping[str, sources.Source] | None = None,
) -> dict[str, Any]:
    """Documents and deadline for reporting (报到) as ``category``; the ``default`` entry when the
    category is unknown or missing (``is_default`` tells which).

    Keys: category, documents, deadline_days, deadline_from, notes, source (the rendered citation),
    notice, is_default.
    """
    from bot.core.entitlements import canonical_category

    data = _reporting(path)
    categories = data.get("categories") or {}
    key = canonical_category(category) if category else None
    entry = categories.get(key) if key else None
    is_default = entry is None
    if is_default:
        entry = data.get("default") or {}
        key = None
    days = entry.get("deadline_days")
    return {
        "category": key,
        "documents": [_text(d) for d in (entry.get("documents") or ()) if _text(d)],
        "deadline_days": int(days) if days is not None else None,
        "deadline_from": _text(entry.get("deadline_from")) or None,
        "notes": _text(entry.get("notes")),
        "source": sources.cite(
            entry.get("sources") or (data.get("default") or {}).get("sources"),
            where=f"reporting {key or 'default'}",
            sources=register,
        ),
        "notice": _text(data.get("notice")) or notice(),
        "is_default": is_default,
    }
