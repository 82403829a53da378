"""Vectors of note texts are kept in the workspace state: planning again embeds only what is new."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import Embedder, fake_embedder, remembering
from pipeline.models.cache import Store


def test_a_second_run_embeds_only_texts_it_has_not_seen(tmp_path: Path) -> None:
    seen: list[str] = []
    model = fake_embedder()

    def counting(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return model.embed(texts)

    store = Store(tmp_path / "state.sqlite")
    first = remembering(Embedder(counting, "counting"), store).embed(["a run in the rain", "glued the oak top"])
    store.close()
    store = Store(tmp_path / "state.sqlite")  # another run, the same workspace
    again = remembering(Embedder(counting, "counting"), store).embed(["glued the oak top", "a new note"])
    store.close()
    assert seen == ["a run in the rain", "glued the oak top", "a new note"]
    assert np.array_equal(again[0], first[1])  # the very vector made before, not an approximation


def test_vectors_of_other_weights_are_never_served_even_under_the_same_name(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite")
    remembering(Embedder(fake_embedder(8).embed, "minilm", "minilm:0.1.0"), store).embed(["a note"])
    upgraded = remembering(Embedder(fake_embedder(16).embed, "minilm", "minilm:0.2.0"), store).embed(["a note"])
    store.close()
    assert upgraded.shape == (1, 16)


def test_a_long_embedding_says_how_far_it_is_and_gives_the_same_vectors() -> None:
    from pipeline.embeddings.embed import reporting

    said: list[str] = []
    texts = [f"note number {n}" for n in range(10)]
    shown = reporting(fake_embedder(), said.append, every=4).embed(texts)
    assert said[0].endswith("embedding 1-4 of 10 texts…") and said[-1].endswith("embedding 9-10 of 10 texts…")
    assert np.allclose(shown, fake_embedder().embed(texts))


def test_a_query_and_a_document_of_the_same_words_are_kept_apart(tmp_path: Path) -> None:
    """A query/document model embeds "race day" differently as a section's question and as a note: a kept
    vector of one must never be served as the other."""
    documents, queries = fake_embedder(8), fake_embedder(16)
    model = Embedder(documents.embed, "qd", encode_query=queries.embed)
    store = Store(tmp_path / "state.sqlite")
    kept = remembering(model, store)
    as_note, as_question = kept.embed(["race day"]), kept.embed_queries(["race day"])
    again = remembering(model, store).embed_queries(["race day"])
    store.close()
    assert as_note.shape == (1, 8) and as_question.shape == (1, 16)
    assert np.array_equal(again, as_question)
