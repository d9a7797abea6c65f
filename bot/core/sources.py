"""The source register (data/sources.yml) and the citations answers end with.

Every programme, knowledge topic and reporting entry lists ``sources:`` — references into the
register: ``{ref: fuxu_2024, art: 53}`` for an article of a law, ``{ref: xinwang_2024}`` for a
report or web page. :func:`cite` validates the references and renders them the way answers show
them (the short name of each source, plus 第N条 for laws); :func:`footer` adds the closing
"来源：…。以官方最新公布为准。" line. A fact without a source, an unknown reference, a law cited
without its article, or a register entry without its date checked is a :class:`SourceError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from bot.core import settings

SOURCES_FILE = settings.DATA_FILES / "sources.yml"
KINDS = ("law", "report", "hotline", "service")
# Separators inside the rendered citation; the label and the notice come from the data files.
_ARTICLE = "第{}条"
_ARTICLE_JOIN = "、"
_JOIN = "；"


class SourceError(ValueError):
    """A fact without a usable source."""


class Source(NamedTuple):
    key: str
    kind: str
    short: str
    title: str
    url: str
    file: str
    checked: dt.date


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse(key: str, raw: Any) -> Source:
    if not isinstance(raw, Mapping):
        raise SourceError(f"source {key}: not a mapping")
    kind = _text(raw.get("kind"))
    if kind not in KINDS:
        raise SourceError(f"source {key}: kind must be one of {KINDS}")
    short, title = _text(raw.get("short")), _text(raw.get("title"))
    url, file = _text(raw.get("url")), _text(raw.get("file"))
    if not short or not title:
        raise SourceError(f"source {key}: short and title are required")
    if not url and not file:
        raise SourceError(f"source {key}: url or file is required")
    checked = raw.get("checked")
    if isinstance(checked, str):
        try:
            checked = dt.date.fromisoformat(checked)
        except ValueError:
            checked = None
    if not isinstance(checked, dt.date):
        raise SourceError(f"source {key}: checked must be a date (YYYY-MM-DD)")
    return Source(key, kind, short, title, url, file, checked)


def parse_register(data: Any) -> dict[str, Source]:
    entries = (data or {}).get("sources") if isinstance(data, Mapping) else None
    if not isinstance(entries, Mapping) or not entries:
        raise SourceError("sources.yml: no sources mapping")
    return {str(key): _parse(str(key), raw) for key, raw in entries.items()}


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, Source]:
    return parse_register(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def register(path: str | Path | None = None) -> dict[str, Source]:
    """All registered sources by key (cached; reloaded when the file changes)."""
    path = Path(path or SOURCES_FILE)
    return _load(str(path), path.stat().st_mtime)


def _articles(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (int, str)) or not _text(item):
            raise SourceError(f"bad article {item!r}")
        out.append(_text(item))
    return out


def cite(refs: Any, *, where: str = "", sources: Mapping[str, Source] | None = None) -> str:
    """The rendered citation for ``refs`` (a list of ``{ref, art}`` mappings or plain keys).

    Raises SourceError when ``refs`` is empty, names an unregistered source, or cites a law without
    its article.
    """
    sources = register() if sources is None else sources
    label = f"{where}: " if where else ""
    if isinstance(refs, (str, Mapping)):
        refs = [refs]
    if not isinstance(refs, Sequence) or not refs:
        raise SourceError(f"{label}no sources")
    parts: list[str] = []
    for item in refs:
        key, articles = (
            (item, [])
            if isinstance(item, str)
            else (
                _text(item.get("ref")) if isinstance(item, Mapping) else "",
                _articles(item.get("art")) if isinstance(item, Mapping) else [],
            )
        )
        source = sources.get(key)
        if source is None:
            raise SourceError(f"{label}unknown source {key!r}")
        if source.kind == "law" and not articles:
            raise SourceError(f"{label}{key} is a law: cite its article (art:)")
        text = source.short
        if articles:
            text += _ARTICLE.format(_ARTICLE_JOIN.join(articles))
        if text not in parts:
            parts.append(text)
    return _JOIN.join(parts)


def keys(refs: Any) -> list[str]:
    """The register keys ``refs`` names (no validation)."""
    if isinstance(refs, (str, Mapping)):
        refs = [refs]
    out = []
    for item in refs or ():
        if isinstance(item, str):
            key = item
        else:
            key = _text(item.get("ref")) if isinstance(item, Mapping) else ""
        if key:
            out.append(key)
    return out


def footer(citation: str, label: str, notice: str) -> str:
    """``<label><citation>。<notice>。`` — the label (来源：) and notice come from the data file."""
    notice = _text(notice).rstrip("。")
    return f"{label}{citation}。{notice}。" if citation else f"{notice}。"


def with_footer(text: str, citation: str, label: str, notice: str) -> str:
    """``text`` followed by a blank line and the footer (added once)."""
    text = _text(text)
    end = footer(citation, label, notice)
    if text.endswith(end):
        return text
    return f"{text}\n\n{end}" if text else end
