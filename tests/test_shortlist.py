"""A large vault's shortlist: what reaches a capable model when the embeddings cannot tell lines apart."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt, Section
from pipeline.embeddings.embed import Embedder
from pipeline.sort.lexical import fused, lexical_scores
from pipeline.sort.sort import sort_fragments
from tests.fakes import FakeLLM

PROMPT = Prompt(
    Path("prompts/leaving.md"),
    "seven years on the platform team",
    "write about leaving the team that ran the build farm",
    (Section("1", "what we built", "what did the team build?"), Section("2", "leaving", "why go now?")),
    author_draft="kestrel was the build farm i kept alive for four years. okafor hired me onto it.",
)


def chore(n: int) -> Fragment:
    return Fragment(f"c{n}", f"chores/{n:04}.md", f"chores {n}", None, (), f"buy {n} batteries, call the plumber")


def test_a_line_in_the_authors_own_words_reaches_the_model_where_the_embeddings_rank_it_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An embedding model that cannot tell any two lines apart: its ranking keeps note order, and the
    # relevant line comes last of 601, past what one sorting call holds.
    flat = Embedder(lambda texts: np.ones((len(texts), 4), dtype=np.float32), "flat")
    monkeypatch.setattr("pipeline.sort.sort.bundled_embedder", lambda: flat)
    monkeypatch.setattr("pipeline.sort.sort.MOST_SORT_CALLS", 1)
    late = Fragment("late", "zz/2025-03-30.md", "2025-03-30", None, (), "kestrel fell over at 3am, paged okafor")
    llm = FakeLLM(context_window=4096)

    result = sort_fragments(PROMPT, [*map(chore, range(600)), late], llm)

    assert len([call for call in llm.history if call.schema]) == 1  # the bound on sorting calls holds
    asked = "\n".join(m["content"] for call in llm.history for m in call.messages)
    assert "kestrel fell over at 3am" in asked  # the essay's own rare words put it first
    assert any("late" in ids for ids in result.plan.sections.values()) or "late" in result.plan.unused
    assert len(result.unrelated) > 300  # and the chores the one call could not hold were left out, and counted


def test_stemmed_words_meet_and_a_fragment_sharing_no_word_scores_zero() -> None:
    scores = lexical_scores("what did the long runs teach you?", ["running taught me patience", "bought milk"])
    assert scores[0] > 0 == scores[1]


def test_fusion_puts_first_what_both_rankings_put_high() -> None:
    embedding = np.array([0.9, 0.1, 0.8])
    words = np.array([0.0, 0.2, 3.0])
    assert int(np.argmax(fused(embedding, words))) == 2


def test_fragments_sharing_no_word_with_the_essay_are_ordered_by_the_embeddings_not_by_their_place() -> None:
    embedding = np.array([0.1, 0.5, 0.9])  # the last note is the likeliest
    assert list(np.argsort(-fused(embedding, np.zeros(3)), kind="stable")) == [2, 1, 0]


def _small_vault() -> list[Fragment]:
    lines = ["kestrel fell over at 3am", "okafor hired me onto the team", "why i am leaving now", "buy milk"]
    return [Fragment(f"f{n}", f"notes/{n}.md", f"note {n}", None, (), text) for n, text in enumerate(lines)]


def test_a_capable_model_decides_every_fragment_of_a_small_vault() -> None:
    llm = FakeLLM()
    sort_fragments(PROMPT, _small_vault(), llm)
    (call,) = [c for c in llm.history if c.schema]
    asked = set().union(*(spec["items"]["enum"] for spec in call.schema["properties"].values()))
    assert len(asked) == 4  # not only the half the static model is least sure of


def test_what_the_model_never_places_keeps_the_embeddings_place_rather_than_being_dropped() -> None:
    llm = FakeLLM().enqueue("{}", "{}")  # a garbled answer, and the same when asked again
    said: list[str] = []
    result = sort_fragments(PROMPT, _small_vault(), llm, on_progress=said.append)
    placed = sum(len(ids) for ids in result.plan.sections.values())
    assert placed > 0  # the embeddings' places stand, and the author is told
    assert any("did not place 4 fragments" in line for line in said)
    assert placed + len(result.plan.unused) == 4


def test_the_models_none_is_honoured_over_the_embeddings() -> None:
    llm = FakeLLM().enqueue('{"0": [1, 2, 3, 4]}')
    result = sort_fragments(PROMPT, _small_vault(), llm)
    assert not any(result.plan.sections.values()) and len(result.plan.unused) == 4
