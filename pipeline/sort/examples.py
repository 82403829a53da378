"""The author's placements as labeled examples for the offline ranking: two ways they could vote.

Measured on the five labeled sets (benchmarks/sort_learning.py) with a simulated author who moves the most
doubtful wrongly placed items to their right sections: each way (and the labeled items joining their
sections' centroids, in rank.py) placed fewer of the untouched labels right than leaving them where the first
plan put them. The items an author corrects are the ambiguous ones, so what is near them is as often right
where it is. `RankOptions` keeps them off; the benchmark reports each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Labeled(Protocol):
    note: str
    context: str
    by_author: bool


def sibling_votes(fragments: Sequence[Labeled], labels: np.ndarray, sections: int) -> np.ndarray:
    """What the author's placements say of the lines beside them: on the five labeled sets two labeled lines
    under one heading of one note serve the same section 87% of the time (any two: 19%). Each line the author
    placed (their draft paragraphs aside: the sort placed those) votes 1 for its section to the other lines under
    its heading in its note. Yet the lines an author corrects are the odd ones out of their heading, so the vote
    moved more right lines wrong than wrong lines right."""
    votes = np.zeros((len(fragments), sections))
    by_note: dict[str, list[int]] = {}
    for i, f in enumerate(fragments):
        if f.note:
            by_note.setdefault(f.note, []).append(i)
    for members in by_note.values():
        placed = [j for j in members if labels[j] > 0 and not fragments[j].by_author]
        for j in placed:
            for i in members:
                if i != j and labels[i] < 0 and fragments[j].context and fragments[i].context == fragments[j].context:
                    votes[i, labels[j] - 1] += 1.0
    return votes


def example_votes(vectors: np.ndarray, labels: np.ndarray, sections: int) -> np.ndarray:
    """Each fragment's closeness to the author's labeled examples of each section (its best cosine to one of
    them), standardised per section over the pool; 0 for a section with no example, so no section gains by
    having none."""
    votes = np.zeros((len(vectors), sections))
    for s in range(sections):
        examples = np.flatnonzero(labels == s + 1)
        if examples.size:
            closeness = (vectors @ vectors[examples].T).max(axis=1)
            votes[:, s] = (closeness - closeness.mean()) / (closeness.std() + 1e-6)
    return votes
