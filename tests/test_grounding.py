from pipeline.core.text import lowercase_prose, strip_flags
from pipeline.write.grounding import Claim, count_flags, find_unsupported, flag

NOTES = [
    "daily/2026-01-12\nfirst week on the platform team. priya walked me through the deploy queue, "
    "she has owned it for three years. ran my first rollback by hand, it took 25 minutes and four people",
    "projects/heron\nheron is the deploy tool rewrite. dana's team pays 180k a year for the old vendor. "
    "we closed 1,130 tickets in q3, 40% fewer pages since 2025-05-06",
    'retro: "nobody owns the rollback until it breaks" said dana',
]

FAITHFUL = """## The first week

My first week on the platform team, Priya walked me through the deploy queue. She had owned it for three years.
I ran my first rollback by hand: 25 minutes, four people on a call.

Heron is the rewrite of the deploy tool. Dana's team pays about $180k a year for the old vendor, we closed 1.1k
tickets in Q3, and pages dropped 40% after May 6. As Dana put it, "nobody owns the rollback until it breaks."
See [the Heron doc](https://wiki.example.com/Heron-Design) and [[projects/heron]], or run `heron --Rollback 99`.
"""


def kinds(claims: list[Claim]) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in claims]


def test_invented_person_and_six_figure_number_are_flagged_and_survive_lowercasing():
    draft = "Priya Raman said the queue would cost $250,000 to replace. I believed her."
    claims = find_unsupported(draft, NOTES)
    assert kinds(claims) == [("name", "Priya Raman"), ("money", "$250,000")]
    lowered = lowercase_prose(flag(draft, claims))
    assert "==priya raman==^[check: not in your notes]" in lowered
    assert "==$250,000==^[check: not in your notes]" in lowered
    assert count_flags(lowered) == 2
    assert strip_flags(lowered) == lowercase_prose(draft)


def test_faithful_draft_is_not_flagged():
    assert find_unsupported(FAITHFUL, NOTES) == []


def test_equivalent_number_forms_are_supported():
    notes = ["the offer was 250000 and the team is 1,100 people, 3 million users"]
    for draft in ["It was $250K.", "It was 250,000.", "About 1.1k people.", "3M users.", "We hit 3 million."]:
        assert find_unsupported(draft, notes) == [], draft
    assert kinds(find_unsupported("About 1.3k people.", notes)) == [("number", "1.3k")]


def test_dates_are_checked_in_any_spelling():
    notes = ["daily/2025-05-06\nshipped it", "started here in 2019"]
    assert find_unsupported("We shipped on May 6, 2025. I started in 2019.", notes) == []
    claims = find_unsupported("We shipped on March 3 and I joined in 2017.", notes)
    assert kinds(claims) == [("date", "March 3"), ("date", "2017")]


def test_small_number_words_sentence_starts_and_pronoun_are_not_claims():
    draft = "Honestly, two or three people knew. Afterwards I stopped asking. Nobody minded."
    assert find_unsupported(draft, ["something else entirely"]) == []


def test_possessives_and_plurals_are_supported_by_the_bare_name():
    assert find_unsupported("That was Dana's call, and the Kestrels agreed.", ["dana", "kestrel"]) == []


def test_links_urls_wikilinks_and_code_are_not_claims():
    draft = "Read [this](https://example.com/Marta-Lindqvist/2024) or [[People/Marta Lindqvist]] or `Marta 42`."
    assert find_unsupported(draft, ["nothing"]) == []


def test_a_name_in_a_link_label_is_flagged_around_the_whole_link():
    draft = "Ask [Marta Lindqvist](https://example.com) about it."
    flagged = flag(draft, find_unsupported(draft, ["ask about it"]))
    assert flagged == "Ask ==[Marta Lindqvist](https://example.com)==^[check: not in your notes] about it."


def test_invented_quote_is_flagged_and_a_real_one_is_not():
    notes = ["retro: nobody owns the rollback until it breaks"]
    assert find_unsupported('She said, "Nobody owns the rollback until it breaks."', notes) == []
    claims = find_unsupported('She said, "we should rewrite everything in one weekend."', notes)
    assert kinds(claims) == [("quote", '"we should rewrite everything in one weekend."')]


def test_flags_in_an_edited_draft_are_counted_and_stripped():
    draft = "I met ==priya raman==^[check: not in your notes] and ==edited by me==^[check: not in your notes]."
    draft += " I kept my own ==highlight== here. A lone note stays counted^[check: not in your notes]."
    assert count_flags(draft) == 3
    assert (
        strip_flags(draft)
        == "I met priya raman and edited by me. I kept my own ==highlight== here. A lone note stays counted."
    )
    assert find_unsupported(draft, ["nothing"]) == []  # a draft already flagged is not flagged twice


def test_times_ratios_and_one_on_ones():
    notes = ["cutover at 14:02, rollback done 14:49. builds got 2x faster"]
    assert find_unsupported("In my 1:1 I said we cut over at 14:02 and got 2x faster.", notes) == []
    assert kinds(find_unsupported("We cut over at 14:30 and got 3x faster.", notes)) == [
        ("number", "14:30"),
        ("number", "3x"),
    ]
