"""Job texts as words: the matcher's vocabulary (data/jobs_vocabulary.yml) and tokenizer.

jieba with the vocabulary's extra words, synonyms folded, stopwords and place names dropped (the
district bonus handles places); skills lists teach their items to the tokenizer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.core import districts, settings

VOCABULARY_FILE = settings.DATA_FILES / "jobs_vocabulary.yml"

# --- vocabulary -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    synonyms: Mapping[str, str]
    stopwords: frozenset
    reasons: Mapping[str, str]
    words: tuple[str, ...]  # extra dictionary words for the tokenizer


@lru_cache(maxsize=4)
def _vocabulary(path: str, mtime: float) -> Vocabulary:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    synonyms = {str(k): str(v) for k, v in (data.get("synonyms") or {}).items()}
    words = set(synonyms) | set(synonyms.values())
    return Vocabulary(
        synonyms=synonyms,
        stopwords=frozenset(str(w) for w in (data.get("stopwords") or ())),
        reasons=dict(data.get("reasons") or {}),
        words=tuple(sorted(w for w in words if 2 <= len(w) <= 12)),
    )


def vocabulary(path: Path | None = None) -> Vocabulary:
    path = Path(path or VOCABULARY_FILE)
    return _vocabulary(str(path), path.stat().st_mtime)


# Words that say nothing about a job (also extendable through `stopwords:` in jobs_vocabulary.yml).
_STOPWORDS = frozenset(
    [
        "以上",
        "以下",
        "经验",
        "优先",
        "相关",
        "专业",
        "能够",
        "能力",
        "适应",
        "身体健康",
        "健康",
        "要求",
        "具有",
        "熟悉",
        "熟练",
        "工作",
        "岗位",
        "退役",
        "退役军人",
        "军人",
        "部队",
        "当过",
        "干过",
        "做过",
        "会",
        "有",
        "能",
        "持",
        "年",
        "一年",
        "两年",
        "三年",
        "五年",
        "多年",
        "之前",
        "以前",
        "我",
        "我会",
        "可以",
        "一些",
        "或",
        "和",
        "及",
        "等",
        "示例",
        "月",
        "元",
    ]
)
# Place names say where a job is, not what it is; the district bonus handles them.
_PLACE_WORDS = frozenset(
    ["青岛", "青岛市", "山东", "山东省"] + list(districts.names()) + list(districts.aliases())
)
_SEPARATORS = re.compile(r"[、，,；;/|\s。.:：（）()\[\]【】“”\"'！!？?]+")
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def _pieces(text: str) -> list[str]:
    return [p for p in _SEPARATORS.split(text.translate(_HALFWIDTH)) if p]


@lru_cache(maxsize=1)
def _tokenizer():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    # A private tokenizer: our domain words must not leak into jieba's global dictionary,
    # which other components (NLU, wishes' name tagging) share.
    return jieba.Tokenizer()


# Words taught to the tokenizer. Replaced (never mutated) under the lock, so readers in other
# threads always iterate a consistent snapshot.
_added_words: frozenset = frozenset()
_words_lock = threading.Lock()


def _ensure_words(words: Iterable[str]) -> None:
    global _added_words
    new = [w for w in words if 2 <= len(w) <= 12 and w not in _added_words]
    if not new:
        return
    tok = _tokenizer()
    with _words_lock:
        fresh = {w for w in new if w not in _added_words}
        for word in sorted(fresh):
            tok.add_word(word, freq=20000)
        _added_words = _added_words | fresh


def _keep(token: str) -> bool:
    if re.fullmatch(r"[A-Za-z]\d|[A-Za-z]{2,}\d*|\d?[A-Za-z]\d?", token):
        return True  # B2, C1, A2, CAD …
    return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,}", token))


def tokens(text: str | None, vocab: Vocabulary | None = None, *, learn: bool = False) -> list[str]:
    """Content words of ``text`` with synonyms folded (开车 → 驾驶); order kept, repeats kept.

    ``learn``: the text is a job's skills list — teach its items (叉车证, 消防设施操作员证) to the
    tokenizer.
    """
    if not text:
        return []
    vocab = vocab or vocabulary()
    _ensure_words(vocab.words)
    stop = _STOPWORDS | vocab.stopwords
    out: list[str] = []
    tok = _tokenizer()
    from bot.core.script import to_simplified

    known = _added_words
    for piece in _pieces(to_simplified(text)):
        if learn and re.fullmatch(r"[\u4e00-\u9fff]{2,12}", piece):
            _ensure_words([piece])
        for word in tok.lcut(piece):
            # a long word also yields the domain words inside it: 叉车证 → 叉车, 保安员 → 保安
            inner = [w for w in known if len(w) < len(word) and w in word] if len(word) > 2 else []
            for token in [word] + sorted(inner, key=lambda w: (word.find(w), -len(w), w)):
                token = token.upper() if token.isascii() else token
                token = vocab.synonyms.get(token, token)
                if token in stop or token in _PLACE_WORDS or not _keep(token):
                    continue
                out.append(token)
    return out


def job_terms(text: str | None, vocab: Vocabulary | None = None) -> list[str]:
    """The words of ``text`` that the job vocabulary knows (保安 → 安保, 开车 → 驾驶, 电工): what
    tells a message about work ("开大车的也行 保安也中") from any other."""
    vocab = vocab or vocabulary()
    known = set(vocab.words) | set(vocab.synonyms) | set(vocab.synonyms.values())
    return [token for token in tokens(text, vocab) if token in known]
