"""Doubt: which of the sort's placements the author should check first.

Offline, an item is doubtful where its section's score stands close to the best other section's (the ranking
could as well have put it there, and that runner-up is named in the plan), or where it fits no section but its
relevance falls just short of the cut (its best section is named). Tuned on the five labeled sets
(benchmarks/run.py sort), with lines leaning on their heading (sort/headings.py): the marks hold 50.0% of the
first plan's wrong labels on the three blind sets while marking 33.0% of the placed items, 24.9% of all,
*fits no section* included (all five sets: 52.1% at 33.3%). Every other measure of doubt tried (a per-plan cap
of a third, a quantile, disagreement between rankings with other options) held fewer at the same share.
Where a capable model sorted, an item is doubtful where the model and the embeddings disagree (the
embeddings' choice is the runner-up), at most a third of the items. The author's own placements never are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from pipeline.sort.rank import Placement

DOUBT_MARGIN = 0.40  # standardised score between the chosen section and the runner-up
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
    """Items the model placed where the embeddings would not have: id -> the embeddings' choice (0 = none). At most
    a third of the items asked are marked, those the embeddings were surest of first: the static model that ranks
    beside a capable one is right less often than the model, so its bare disagreement would mark half the plan.
    Unmeasured against a capable model's errors: none runs on this machine."""
    disagree = [p for p in placements if p.id in asked and chosen.get(p.id, p.section) != p.section]
    disagree.sort(key=lambda p: -_sureness(p))
    return {p.id: p.section for p in disagree[: len(asked) // 3]}


def _sureness(placement: Placement) -> float:
    """How sure the ranking was of its own choice: its lead over the runner-up, or for "fits no section" how far
    below the cut it fell (relevance is 0..1, ten times narrower than the standardised scores)."""
    if placement.section == 0 or len(placement.scores) < 2:
        return -10 * placement.above
    scores = list(placement.scores)
    mine = scores.pop(placement.section - 1)
    return mine - max(scores)
