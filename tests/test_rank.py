import pytest

from pipeline.embeddings.embed import Embedder, EmbedderMissing, bundled_embedder, fake_embedder
from pipeline.sort.rank import Essay, RankOptions, SortFragment, rank, shortlist

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
    from pipeline.sort.rank import _sentences

    parts = _sentences("What state was the plot in, what did you do first, and who helped or advised you?")
    assert "who helped or advised you?" in parts and "what did you do first" in parts
    assert parts[0].startswith("What state was the plot in, what did")  # the whole question still counts


DOG = Essay(
    "a dog afraid of everything",
    "write about adopting a fearful rescue dog",
    (
        ("Choosing Pip", "Why a rescue dog, and why this one? The shelter, the adoption, the first days at home?"),
        ("Small steps", "How did the training work: the trainer, the treats, the walks? What counted as progress?"),
    ),
)
DOG_POOL = [
    frag("shelter", "pip at the shelter, the adoption papers signed, first days at home"),
    frag("walk", "pip walks past the bikes now, treats and the trainer's plan, progress"),
    frag("stairs", "pip on the stairs, the trainer's plan, treats, progress at last"),
    frag("sock", "pip ate a sock"),
    frag("milk", "buy milk eggs bread"),
    frag("dmv", "dmv appointment tuesday"),
    frag("plumber", "plumber sink leak"),
]


def test_a_name_the_whole_essay_is_about_is_left_out_of_the_one_section_that_names_it() -> None:
    """On two blind labeled sets "Choosing Pip" and "How did Ciara and I end up living together?" drew every line
    that named the dog or the friend: the sections are scored without such a name, what is kept stays as it was."""
    options = RankOptions(subject_share=0.1)
    masked = rank(DOG, DOG_POOL, fake_embedder(), options)
    plain = rank(DOG, DOG_POOL, fake_embedder(), RankOptions())
    without = rank(
        Essay(DOG.title, DOG.instruction, (("Choosing", DOG.sections[0][1]), DOG.sections[1])),
        DOG_POOL,
        fake_embedder(),
        RankOptions(),
    )
    assert [p.scores for p in masked] == [p.scores for p in without] != [p.scores for p in plain]
    assert [p.section > 0 for p in masked] == [p.section > 0 for p in plain]  # the cut is the named essay's
    assert {p.id: p.section for p in masked}["walk"] == 2


@pytest.mark.parametrize(
    "sections",
    [
        # A name in every section, a capitalised first word, "I" or "I'd", and a Title Case title are not masked.
        (("Pip at home", "Pip and I, the first days?"), ("Pip in training", "Did Pip take treats from the trainer?")),
        (("The Trainer Arrives", "Treats? I'd say yes."), ("Small Steps Forward", "How did the training go?")),
    ],
)
def test_only_a_name_inside_one_section_is_masked(sections: tuple[tuple[str, str], ...]) -> None:
    from pipeline.sort.rank import _subject_names

    relevant = ["pip took treats from the trainer", "the trainer said steps", "i'd say forward, pip"] * 3
    assert _subject_names(Essay("t", "i", sections), relevant, RankOptions(subject_share=0.1)) == set()
    assert _subject_names(DOG, relevant, RankOptions(subject_share=0.1)) == {"pip"}
    assert _subject_names(DOG, relevant, RankOptions(subject_share=0)) == set()
    assert _subject_names(DOG, ["the trainer said steps"] * 10 + relevant[:1], RankOptions(subject_share=0.1)) == set()


def test_names_that_tell_sections_apart_stay_and_a_verb_is_not_a_name() -> None:
    from pipeline.sort.rank import _subject_names, _without

    cities = Essay("two cities", "i", (("London", "What were my years in London like?"), ("Lisbon", "And in Lisbon?")))
    relevant = ["london rain again", "the lisbon flat", "a london bus", "lisbon trams"]
    assert _subject_names(cities, relevant, RankOptions(subject_share=0.1)) == set()
    will = Essay("t", "i", (("Meeting Will", "How did you and Will become friends?"), ("Work", "What was the job?")))
    assert (
        _subject_names(will, ["i will finish the report", "the job will wait"], RankOptions(subject_share=0.1)) == set()
    )
    possessive = Essay("t", "i", (("Choosing Pip", "Was Pip's first week hard?"), ("Steps", "What worked?")))
    assert _subject_names(possessive, ["pip's walk", "pip slept"], RankOptions(subject_share=0.1)) == {"pip"}
    assert _without(possessive, {"pip"}).sections[0] == ("Choosing", "Was first week hard?")
    lines = Essay("t", "i", (("Start", "Why did you start\nWhat scared you"), ("Later", "How is it now?")))
    assert _subject_names(lines, ["what scared me", "what a week"], RankOptions(subject_share=0.1)) == set()


@pytest.mark.parametrize("shipped", ["none", "another model's", "damaged", "of another size"])
def test_the_everyday_lines_are_embedded_unless_their_vectors_ship_for_this_very_model(
    tmp_path, monkeypatch: pytest.MonkeyPatch, shipped: str
) -> None:
    import numpy as np

    from pipeline.sort import background

    monkeypatch.setattr(background, "KNOWN", tmp_path)
    model = fake_embedder()
    calls: list[int] = []
    counting = Embedder(lambda texts: calls.append(len(texts)) or model.embed(texts), "fake", "fake-key")
    right = model.embed(list(background.BACKGROUND))
    if shipped == "another model's":
        np.save(background._shipped("other-key"), right)
    elif shipped == "damaged":
        background._shipped("fake-key").write_bytes(b"\x93NUMPY truncated")
    elif shipped == "of another size":
        np.save(background._shipped("fake-key"), right[:, :100])
    assert np.allclose(background.background_vectors(counting, right.shape[1]), right)
    assert calls == [len(background.BACKGROUND)]
    np.save(background._shipped("fake-key"), right)
    assert np.allclose(background.background_vectors(counting, right.shape[1]), right)
    assert calls == [len(background.BACKGROUND)]  # shipped for this model: read, not embedded


def _under_heading(note: str) -> list[SortFragment]:
    """Two running lines and a terse line that reads more like the shop, all under one heading of one note."""
    return [
        frag("a", "long runs on saturday, race day pace", context="training", note=note),
        frag("b", "miles and the finish line, pace", context="training", note=note),
        frag("terse", "clamps and wood, then miles", context="training", note=note),
    ]


def test_a_terse_line_goes_with_the_lines_under_its_heading():
    on_its_own = RankOptions(heading_weight=0.0)
    alone = {p.id: p.section for p in rank(ESSAY, [*POOL, *_under_heading("")], fake_embedder(), on_its_own)}
    assert alone["terse"] == 2  # by its words alone: the shop
    leaning = RankOptions(heading_weight=1.0)
    placed = {p.id: p.section for p in rank(ESSAY, [*POOL, *_under_heading("daily/3.md")], fake_embedder(), leaning)}
    assert placed["terse"] == 1 and placed["a"] == placed["b"] == 1
    # Lines with no note, or under different headings, do not lean on each other.
    apart = {p.id: p.section for p in rank(ESSAY, [*POOL, *_under_heading("")], fake_embedder(), leaning)}
    assert apart["terse"] == 2
