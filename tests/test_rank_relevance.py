"""The relevance cut as a user sees it: an all-on-topic vault keeps nearly everything, errands still drop,
and a large vault's shortlist stays within a few sorting calls."""

import numpy as np
import pytest

import pipeline.sort.rank as rank_module
from pipeline.embeddings.embed import Embedder, EmbedderMissing, bundled_embedder
from pipeline.sort.rank import Essay, RankOptions, SortFragment, rank
from pipeline.sort.sort import OPTIONS

ESSAY = Essay(
    "my marathon year",
    "write about training for a marathon",
    (
        ("training", "long runs, miles, pace, the run club, early mornings"),
        ("setbacks", "injury, the knee, missed weeks, doubt, bad runs"),
        ("race day", "race day, the start, mile 20, the finish line"),
    ),
)
ON_TOPIC = [
    "long runs on saturday with the run club, 16 miles at easy pace",
    "early mornings, 5am miles before work",
    "pace felt easy on the long run today",
    "run club tuesday, hills and miles",
    "the knee hurt after the long run, missed two weeks",
    "injury doubt: maybe the knee will not hold",
    "bad runs all week, doubt creeping in",
    "missed weeks in march, the knee again",
    "race day: the start was cold and crowded",
    "mile 20 was the wall, everything hurt",
    "crossed the finish line crying",
    "race day pace went out too fast at the start",
]
ERRANDS = ["buy milk eggs bread", "dentist appointment tuesday", "renew the parking permit", "call the plumber"]


def embedder() -> Embedder:
    """The shipped static model: the cut is about how real vectors spread, which a bag of words does not."""
    try:
        return bundled_embedder()
    except EmbedderMissing:
        pytest.skip("wordllama is not installed")


def pool(texts: list[str]) -> list[SortFragment]:
    return [SortFragment(f"f{i}", t) for i, t in enumerate(texts)]


def test_an_all_on_topic_vault_keeps_nearly_everything():
    placed = rank(ESSAY, pool(ON_TOPIC), embedder(), OPTIONS)
    assert sum(p.section > 0 for p in placed) >= len(ON_TOPIC) - 1
    # the old two-class cut alone splits the same vault in half
    old = rank(ESSAY, pool(ON_TOPIC), embedder(), RankOptions(neighbours=5))
    assert sum(p.section == 0 for p in old) > sum(p.section == 0 for p in placed)


def test_errands_in_an_on_topic_vault_still_fit_no_section():
    placed = {p.id: p.section for p in rank(ESSAY, pool(ON_TOPIC + ERRANDS), embedder(), OPTIONS)}
    errands = [placed[f"f{len(ON_TOPIC) + i}"] for i in range(len(ERRANDS))]
    assert errands == [0] * len(ERRANDS)
    assert sum(placed[f"f{i}"] > 0 for i in range(len(ON_TOPIC))) >= len(ON_TOPIC) - 1


def test_on_a_large_pool_only_the_likeliest_are_smoothed_and_the_order_of_the_rest_is_kept(monkeypatch):
    monkeypatch.setattr(rank_module, "SMOOTH_MOST", 6)
    texts = ON_TOPIC + ERRANDS * 3
    placed = rank(ESSAY, pool(texts), embedder(), OPTIONS)
    relevance = np.array([p.relevance for p in placed])
    assert relevance[: len(ON_TOPIC)].mean() > relevance[len(ON_TOPIC) :].mean()
    assert all(p.section == 0 for p in placed[len(ON_TOPIC) :])
