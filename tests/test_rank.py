import pytest

from pipeline.embed import EmbedderMissing, bundled_embedder, fake_embedder
from pipeline.rank import Essay, RankOptions, SortFragment, rank, shortlist

ESSAY = Essay(
    "my year",
    "write about the year",
    (
        ("running a marathon", "long runs, race day, the finish line, miles and pace"),
        ("building furniture", "the shop, wood, saw, clamps, the table i built"),
        ("teaching chemistry", "students, the classroom, lessons, labs and grading"),
    ),
)


def frag(i: str, text: str, **kw) -> SortFragment:
    return SortFragment(i, text, **kw)


POOL = [
    frag("run", "long runs on saturday, race day pace, miles"),
    frag("wood", "glued the table in the shop, ran out of clamps, wood"),
    frag("class", "students in the classroom loved the lab lessons"),
    frag("milk", "buy milk eggs bread"),
    frag("dmv", "dmv appointment tuesday"),
    frag("plumber", "plumber sink leak"),
]


def test_each_fragment_lands_in_the_section_it_is_about_and_errands_in_none():
    placed = {p.id: p.section for p in rank(ESSAY, POOL, fake_embedder())}
    assert placed["run"] == 1 and placed["wood"] == 2 and placed["class"] == 3
    assert placed["milk"] == placed["dmv"] == placed["plumber"] == 0


def test_context_decides_a_fragment_whose_text_is_ambiguous():
    pool = [*POOL, frag("plane", "a block plane", context="tools for the shop table wood")]
    placed = {p.id: p.section for p in rank(ESSAY, pool, fake_embedder())}
    assert placed["plane"] == 2


def test_every_fragment_gets_one_score_per_section():
    placements = rank(ESSAY, POOL, fake_embedder())
    assert [p.id for p in placements] == [f.id for f in POOL]
    assert all(len(p.scores) == 3 and 0 <= p.section <= 3 for p in placements)


def test_shortlist_drops_errands_and_offers_the_right_section_first():
    listed = dict(shortlist(rank(ESSAY, POOL, fake_embedder()), candidates=2))
    assert "milk" not in listed and "dmv" not in listed
    assert listed["wood"][0] == 2 and len(listed["wood"]) == 2


def test_no_fragments_no_placements():
    assert rank(ESSAY, [], fake_embedder()) == [] and shortlist([]) == []


def test_bundled_model_sorts_a_clearly_about_running_fragment_into_running():
    try:
        embedder = bundled_embedder()
    except EmbedderMissing:
        pytest.skip("wordllama is not installed")
    pool = [
        frag("race", "crossed the finish line of the marathon after 26 miles, legs cramping at mile 20"),
        frag("saw", "cut the maple legs on the table saw and sanded the walnut top"),
        frag("lab", "my students ran the titration lab and asked great questions"),
        frag("groceries", "oats, bananas, cilantro"),
    ]
    placed = {p.id: p.section for p in rank(ESSAY, pool, embedder)}
    assert placed["race"] == 1 and placed["saw"] == 2 and placed["lab"] == 3


def test_bundled_embedder_rows_are_unit_length():
    try:
        vectors = bundled_embedder().embed(["hello", "a longer sentence about wood"])
    except EmbedderMissing:
        pytest.skip("wordllama is not installed")
    assert vectors.shape[0] == 2
    assert abs(float((vectors**2).sum(axis=1).max()) - 1) < 1e-4


def test_neighbour_smoothing_keeps_the_placements_and_handles_a_pool_of_one():
    placed = {p.id: p.section for p in rank(ESSAY, POOL, fake_embedder(), RankOptions(neighbours=2))}
    assert placed["run"] == 1 and placed["wood"] == 2 and placed["class"] == 3
    assert len(rank(ESSAY, POOL[:1], fake_embedder(), RankOptions(neighbours=5))) == 1


def test_a_question_that_asks_several_things_is_matched_clause_by_clause() -> None:
    from pipeline.rank import _sentences

    parts = _sentences("What state was the plot in, what did you do first, and who helped or advised you?")
    assert "who helped or advised you?" in parts and "what did you do first" in parts
    assert parts[0].startswith("What state was the plot in, what did")  # the whole question still counts
