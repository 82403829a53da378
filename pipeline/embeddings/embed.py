"""Embed: a small static embedding model shipped inside a PyPI package, loaded with no network.

WordLlama's wheel carries its 256-dimension weights and tokenizer, so nothing is ever fetched from a model
hub: the loader points it at the package's own folder and forbids downloads. Rows come back L2-normalised,
so a dot product is a cosine similarity.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

BUNDLED_PACKAGE = "wordllama"


class EmbedderMissing(RuntimeError):
    """The bundled embedding package is not installed (or cannot load its shipped weights)."""


class WeightsUnreadable(EmbedderMissing):
    """The weights are there but do not load: a damaged file."""


Encode = Callable[[list[str]], np.ndarray]


class Embedder:
    """Wraps any `texts -> matrix` function and guarantees float32, L2-normalised rows.

    A query/document model embeds what is searched for (a section's questions) with `encode_query` and what
    is searched (a note's fragment) with `encode`; a symmetric model has one function for both."""

    def __init__(self, encode: Encode, name: str, key: str = "", *, encode_query: Encode | None = None) -> None:
        self._encode = encode
        self._encode_query = encode_query
        self.name = name
        self.key = key or name  # what vectors kept between runs are filed under: the weights and code that made them

    @property
    def asymmetric(self) -> bool:
        return self._encode_query is not None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._normalised(texts, self._encode)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._normalised(texts, self._encode_query or self._encode)

    @staticmethod
    def _normalised(texts: Sequence[str], encode: Encode) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        # Each distinct text once: a note's title is the context of every fragment in it.
        distinct = list(dict.fromkeys(texts))
        vectors = np.asarray(encode(distinct), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)  # an empty text stays a zero row, not NaN
        if len(distinct) == len(texts):
            return vectors
        row = {text: n for n, text in enumerate(distinct)}
        return vectors[[row[t] for t in texts]]


class VectorMemory(Protocol):
    """Where vectors of texts embedded before are kept between runs (the workspace's state)."""

    def recall(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]: ...

    def keep(self, model: str, vectors: dict[str, np.ndarray]) -> None: ...


def remembering(embedder: Embedder, memory: VectorMemory) -> Embedder:
    """The same model, embedding only texts `memory` has not seen: planning a second prompt over the same
    notes, or planning again after editing one note, embeds almost nothing."""

    def kept(embed: Encode, key: str) -> Encode:
        def encode(texts: list[str]) -> np.ndarray:
            keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]  # the text itself is never stored
            known = memory.recall(key, keys)
            missing = [t for t, k in zip(texts, keys, strict=True) if k not in known]
            if missing:
                digests = [hashlib.sha256(t.encode()).hexdigest() for t in missing]
                fresh = dict(zip(digests, embed(missing), strict=True))
                memory.keep(key, fresh)
                known.update(fresh)
            return np.stack([known[k] for k in keys])

        return encode

    queries = kept(embedder.embed_queries, f"{embedder.key}:query") if embedder.asymmetric else None
    return Embedder(kept(embedder.embed, embedder.key), embedder.name, embedder.key, encode_query=queries)


def reporting(embedder: Embedder, say: Callable[[str], None], every: int = 256) -> Embedder:
    """The same model, embedding in chunks of `every` texts and saying how far it is: a contextual model
    takes minutes over a large vault, and a writer should see it move."""

    def encode(texts: list[str]) -> np.ndarray:
        if len(texts) <= every:
            return embedder.embed(texts)
        parts = []
        for start in range(0, len(texts), every):
            say(f"{embedder.name}: embedding {start + 1}-{min(start + every, len(texts))} of {len(texts)} texts…")
            parts.append(embedder.embed(texts[start : start + every]))
        return np.vstack(parts)

    queries = embedder.embed_queries if embedder.asymmetric else None  # a few section texts: nothing to report
    return Embedder(encode, embedder.name, embedder.key, encode_query=queries)


@lru_cache(maxsize=1)
def bundled_embedder() -> Embedder:
    """The shipped model, loaded once per process."""
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:
        raise EmbedderMissing(
            f"the offline sort needs the '{BUNDLED_PACKAGE}' package: pip install {BUNDLED_PACKAGE}"
        ) from exc
    try:
        # The wheel's own folder holds weights/ and tokenizers/; disable_download keeps it off the network.
        model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    except Exception as exc:  # the library raises several types for missing files
        raise EmbedderMissing(f"'{BUNDLED_PACKAGE}' is installed but its bundled weights did not load: {exc}") from exc
    version = getattr(wordllama, "__version__", "?")
    # norm=False: the library divides an empty text by zero (NaN rows); Embedder normalises safely.
    return Embedder(lambda texts: model.embed(texts, norm=False, batch_size=256), f"wordllama-{version}")


def fake_embedder(dim: int = 512) -> Embedder:
    """A deterministic bag-of-words embedder for tests: texts that share words are similar, nothing else."""

    def encode(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % dim
                out[row, bucket] += 1.0
        return out

    return Embedder(encode, "fake-bag-of-words")
