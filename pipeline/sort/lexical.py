"""Lexical match: the second ranker of a large vault's shortlist, by the essay's own words.

Among tens of thousands of fragments the static embedding model ranks terse lines badly: on a 10,000-note
vault it put "dana asked for help with the flaky integration suite" above "shop: glued up the top panel
for the side table" for an essay about a woodworking shop. The words of the prompt and of the author's own
draft (their names, codenames and the subject's nouns) are rare in the rest of a vault, and BM25 weighs rare
words most. Two rankings of different make are fused by their ranks (reciprocal rank fusion), so neither
needs its scores calibrated against the other's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

FUSION_K = 60  # the usual constant of reciprocal rank fusion: past the first few dozen, ranks count alike


def lexical_scores(query: str, documents: Sequence[str]) -> np.ndarray:
    """BM25 of each document against `query`, English stop words dropped and words stemmed (so "runs" meets
    "running"); zero where a document shares no word with it."""
    import bm25s  # lazily: only a large vault pays for the index
    import snowballstemmer

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index it builds
    stem = snowballstemmer.stemmer("english").stemWords
    words = bm25s.tokenize([query], stopwords="en", stemmer=stem, return_ids=False, show_progress=False)[0]
    if not words or not documents:
        return np.zeros(len(documents))
    index = bm25s.BM25()
    try:
        index.index(
            bm25s.tokenize(list(documents), stopwords="en", stemmer=stem, show_progress=False), show_progress=False
        )
        return np.asarray(index.get_scores(words), dtype=float)
    except ValueError:  # bm25s cannot index documents without a single word
        return np.zeros(len(documents))


def fused(*scores: np.ndarray) -> np.ndarray:
    """Reciprocal rank fusion: each ranking adds 1 / (FUSION_K + rank) to the documents it scores above zero.
    A document a ranking gives nothing (no word shared with the essay) gets nothing from it, not a rank by its
    place in the vault. Ties keep the documents' order, so the same notes give the same order on every run."""
    total = np.zeros(len(scores[0]))
    for score in scores:
        ranks = np.empty(len(score), dtype=int)
        ranks[np.argsort(-score, kind="stable")] = np.arange(len(score))
        total += np.where(score > 0, 1.0 / (FUSION_K + 1 + ranks), 0.0)
    return total
