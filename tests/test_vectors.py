"""Vectors of note texts are kept in the workspace state: planning again embeds only what is new."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.cache import Store
from pipeline.embed import Embedder, fake_embedder, remembering


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
    from pipeline.embed import reporting

    said: list[str] = []
    texts = [f"note number {n}" for n in range(10)]
    shown = reporting(fake_embedder(), said.append, every=4).embed(texts)
    assert said[0].endswith("embedding 1-4 of 10 texts…") and said[-1].endswith("embedding 9-10 of 10 texts…")
    assert np.allclose(shown, fake_embedder().embed(texts))
