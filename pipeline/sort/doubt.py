"""Doubt: which of the sort's placements the author should check first.

Offline, an item is doubtful where its section's score stands close to the best other section's (the
ranking could as well have put it there, and that runner-up is named in the plan), or where it fits no
section but its relevance falls just short of the cut (its best section is named). Tuned on the five labeled
sets (benchmarks/run.py sort): these marks hold 52% of the first plan's wrong labels while marking 32% of the
placed items (24% of all, the *fits no section* list included); the margin alone held 47% at 34%. Where a capable model
sorted, it is doubtful where the model and the embeddings disagree (the embeddings' choice is the
runner-up). The author's own placements are never doubtful.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from pipeline.sort.rank import Placement

DOUBT_MARGIN = 0.32  # standardised score between the chosen section and the runner-up
NEAR_CUT = 0.05  # how far below the "fits no section" cut an unused item is still doubtful (relevance is 0..1)


def doubtful(placements: list[Placement], fixed: Collection[str] = ()) -> dict[str, int]:
    """Placed items whose runner-up section scores within DOUBT_MARGIN of theirs, and unused ones just below the
    cut: id -> the runner-up's number."""
    result = {}
    for p in placements:
        if p.id in fixed or not p.scores:
            continue
        if p.section == 0:
            if p.above > -NEAR_CUT:
                result[p.id] = int(np.argmax(p.scores)) + 1
            continue
        if len(p.scores) < 2:
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
