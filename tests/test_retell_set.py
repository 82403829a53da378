"""The retelling detector on its labeled set (benchmarks/retell_set): the issue's goals, kept on the drafts its
weights were chosen on (the held-out drafts are reported by benchmarks/retell_eval.py, where it misses some)."""

from __future__ import annotations

from benchmarks.retell_eval import GOAL_FALSE_PER_2000, GOAL_RECALL, evaluate


def test_planted_retellings_are_found_with_few_false_flags() -> None:
    found, planted, false, words, notes = evaluate()
    assert planted >= 10 and words >= 4000
    assert found / planted >= GOAL_RECALL, notes
    assert false * 2000 / words <= GOAL_FALSE_PER_2000, notes
