"""Doubt: which of the sort's placements the author should check first.

Offline, an item is doubtful where its section's score stands close to the best other section's: the
ranking could as well have put it there, and that runner-up is named in the plan. Where a capable model
sorted, it is doubtful where the model and the embeddings disagree (the embeddings' choice is the
runner-up). The author's own placements are never doubtful.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from pipeline.sort.rank import Placement

DOUBT_MARGIN = 0.35  # standardised score between the chosen section and the runner-up: see benchmarks/sort_bench.py


def doubtful(placements: list[Placement], fixed: Collection[str] = ()) -> dict[str, int]:
    """Placed items whose runner-up section scores within DOUBT_MARGIN of theirs: id -> the runner-up's number."""
    result = {}
    for p in placements:
        if p.section == 0 or p.id in fixed or len(p.scores) < 2:
            continue
        scores = np.array(p.scores)
        mine = scores[p.section - 1]
        scores[p.section - 1] = -np.inf
        runner_up = int(scores.argmax())
        if mine - scores[runner_up] < DOUBT_MARGIN:
            result[p.id] = runner_up + 1
    return result


def model_doubts(placements: list[Placement], chosen: Mapping[str, int], asked: Collection[str]) -> dict[str, int]:
    """Items the model placed where the embeddings would not have: id -> the embeddings' choice (0 = none)."""
    return {p.id: p.section for p in placements if p.id in asked and chosen.get(p.id, p.section) != p.section}
