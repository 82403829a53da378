"""Mining the edits for habits, and rebuilding voice.md around what the author did to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.errors import StateError
from pipeline.files.draftfile import compose, render_body, text_hash
from pipeline.files.meta import DraftMeta, SectionMeta
from pipeline.voice.generated import keep_generated
from pipeline.voice.mine import MinedRule, mine_rules
from pipeline.voice.pairs import EditPair, edit_pairs, plain
from pipeline.voice.rules import parse_rule
from pipeline.voice.voicefile import rebuild_voice

BASE = [
    "we moved the beds in april. the clay was worse than we thought, so we bought compost.",
    "marguerite watered every tuesday. nobody asked her to, she just did it.",
    "the tomatoes went in too early. a late frost took half of them in one night.",
    "next spring we start the seedlings indoors and wait for the soil to warm.",
]


def _pair(generated: str, edited: str) -> EditPair:
    return EditPair(generated, edited, "test")


def _keys(rules: list[MinedRule]) -> set[str]:
    return {r.key for r in rules}


def test_a_habit_seen_three_times_is_a_rule_and_a_one_off_edit_is_not() -> None:
    pairs = [_pair(f"honestly, {text}", text) for text in BASE[:3]]
    pairs.append(_pair(BASE[3], BASE[3].replace("indoors", "inside")))  # once: noise
    rules = mine_rules(pairs)
    assert _keys(rules) == {"avoid:honestly"}
    assert rules[0].line.startswith('- avoid "honestly" (seen 3 times; e.g. "honestly, we moved the beds in april." → ')


def test_a_word_the_author_mostly_keeps_is_no_rule() -> None:
    kept = [_pair(f"{text} it was a journey.", f"{text} it was a journey, really.") for text in BASE * 2]
    cut = [_pair(f"{text} it was a journey.", f"{text} it was.") for text in BASE[:3]]
    assert "avoid:a journey" not in _keys(mine_rules(kept + cut))
    assert "avoid:a journey" in _keys(mine_rules(cut))


def test_a_replacement_needs_one_way_of_replacing() -> None:
    same = [_pair(text.replace("bought", "utilized"), text) for text in BASE[:1]] * 3
    assert _keys(mine_rules(same)) == {"replace:utilized"}
    rules = mine_rules(
        [
            _pair("we utilize the shed.", "we use the shed."),
            _pair("we utilize the van.", "we drive the van."),
            _pair("we utilize the tools.", "we borrow the tools."),
        ]
    )
    assert [(r.key, r.text) for r in rules] == [("reword:utilize", 'find another word for "utilize"')]


def test_punctuation_openings_closings_and_lists() -> None:
    dashes = [_pair(text.replace(", ", " — "), text) for text in (BASE[0], BASE[1], BASE[0] + " " + BASE[1])]
    assert "replace:—" in _keys(mine_rules(dashes))
    body = " ".join(BASE)
    closings = [_pair(f"{body} in conclusion, the garden taught us {w}.", body) for w in ("patience", "care", "luck")]
    assert _keys(mine_rules(closings)) == {"closing"}
    listed = "we grew:\n\n- tomatoes\n- peas\n- beans"
    lists = [_pair(listed + f"\n\n{t}", "we grew tomatoes, peas and beans.\n\n" + t) for t in BASE[:3]]
    assert "lists-to-prose" in _keys(mine_rules(lists))


def test_sentences_split_shorter_is_a_rule() -> None:
    long = "we moved the beds in april because the clay was worse than we thought and we bought compost."
    short = "we moved the beds in april. the clay was worse than we thought. we bought compost."
    rules = mine_rules([_pair(long, short)] * 3)
    assert [r.text for r in rules if r.key == "sentences"] == ["keep sentences short: about 7 words or fewer"]


def test_plain_drops_what_finishing_added() -> None:
    text = "we grew ==40 beds==^[check: not in your notes] of peas.[^s-1]\n\n[^s-1]: [[garden]]"
    assert plain(text) == "we grew 40 beds of peas."


def _mined(*keys: str) -> list[MinedRule]:
    return [MinedRule(f"avoid:{k}", f'avoid "{k}"', 3, f'"{k}, it" → "it"') for k in keys]


def test_rebuild_keeps_own_lines_and_edited_rules_and_remembers_deletions(tmp_path: Path) -> None:
    state = tmp_path / ".essay"
    first = rebuild_voice(tmp_path, state, _mined("honestly", "delve"))
    assert first.added == ('- avoid "honestly" (seen 3 times; e.g. "honestly, it" → "it")', *first.added[1:])
    voice_md = tmp_path / "voice.md"
    text = voice_md.read_text(encoding="utf-8")
    assert text.startswith("# voice\n") and text.count("- avoid") == 2
    text = text.replace('- avoid "delve" (seen 3 times; e.g. "delve, it" → "it")\n', "")
    text = text.replace('(seen 3 times; e.g. "honestly, it" → "it")', "(my wording)")
    text += "\nmy notes on tone, not a rule\n- short words over long ones\n"
    voice_md.write_text(text, encoding="utf-8")

    second = rebuild_voice(tmp_path, state, [*_mined("honestly", "delve", "journey")])
    after = voice_md.read_text(encoding="utf-8")
    assert second.added == ('- avoid "journey" (seen 3 times; e.g. "journey, it" → "it")',)
    assert (second.own, second.deleted) == (2, 1)
    assert '- avoid "honestly" (my wording)' in after and "delve" not in after
    assert "my notes on tone, not a rule\n- short words over long ones\n" in after

    third = rebuild_voice(tmp_path, state, _mined("honestly"))  # the edits no longer show "journey"
    assert third.dropped == ('- avoid "journey" (seen 3 times; e.g. "journey, it" → "it")',)
    assert "journey" not in voice_md.read_text(encoding="utf-8")


def test_a_rule_written_back_by_the_author_is_theirs(tmp_path: Path) -> None:
    state = tmp_path / ".essay"
    rebuild_voice(tmp_path, state, _mined("delve"))
    voice_md = tmp_path / "voice.md"
    voice_md.write_text("# voice\n", encoding="utf-8")
    assert rebuild_voice(tmp_path, state, _mined("delve")).deleted == 1
    voice_md.write_text('# voice\n\n- avoid "delve"\n', encoding="utf-8")
    again = rebuild_voice(tmp_path, state, _mined("delve"))
    assert (again.added, again.own, again.deleted) == ((), 1, 0)


def test_a_damaged_record_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".essay" / "voice").mkdir(parents=True)
    (tmp_path / ".essay" / "voice" / "rules.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StateError, match=r"rules\.json is damaged: delete it and run `essay voice` again"):
        rebuild_voice(tmp_path, tmp_path / ".essay", [])


def _write_draft(folder: Path, version: int, sections: list[tuple[str, str, str]]) -> None:
    """A draft as essay writes it: the hash of `generated`, the body holding `on_disk`."""
    meta = DraftMeta(
        title="t",
        version=version,
        sections=tuple(SectionMeta(slug=s, title=s, text_hash=text_hash(g)) for s, g, _ in sections),
    )
    folder.mkdir(parents=True, exist_ok=True)
    body = render_body([(s, s, d) for s, _, d in sections])
    (folder / f"v{version:03d}.md").write_text(compose(meta, body), encoding="utf-8")


def test_pairs_come_from_kept_texts_or_an_unedited_copy_and_the_latest_edit(tmp_path: Path) -> None:
    drafts, state = tmp_path / "drafts", tmp_path / ".essay"
    one, two, three = "honestly, one thing.", "honestly, two things.", "honestly, three things."
    keep_generated(state, [one])
    # v001: `one` edited in place (its text was kept); `two` untouched; `three` edited, its text never kept
    _write_draft(drafts / "e", 1, [("a", one, "one thing."), ("b", two, two), ("c", three, "three.")])
    # v002 (a regen) carries `two` over, and the author edited it there, twice in a row of versions
    _write_draft(drafts / "e", 2, [("b", two, "two things, then.")])
    _write_draft(drafts / "e", 3, [("b", two, "two things.")])
    found = edit_pairs(drafts, state)
    assert sorted((p.generated, p.edited) for p in found.edited) == [
        (one, "one thing."),
        (two, "two things."),
    ]
    assert (found.unedited, found.unknown) == (0, 1)


def test_every_line_essay_writes_reads_back_as_the_same_rule() -> None:
    """Else a rebuild would take essay's own line for one the author deleted, and never write it again."""
    body = " ".join(BASE)
    listed = "we grew:\n\n- tomatoes\n- peas\n- beans"
    pairs = [
        *(
            _pair(
                f"honestly, {t} it was long — really long; we utilize it.", f"{t} it was long, really long. we use it."
            )
            for t in BASE[:3]
        ),
        *(_pair(f"{body} overall, {w} taught me a lot.", body) for w in ("the garden", "the team", "the work")),
        *(_pair(listed + f"\n\n{t}", f"we grew tomatoes, peas and beans.\n\n{t}") for t in BASE[:3]),
        _pair("we delve into it.", "we dig into it."),
        _pair("we delve into it.", "we look into it."),
        _pair("we delve into it.", "we go into it."),
    ]
    rules = mine_rules(pairs)
    assert {"avoid:honestly", "replace:utilize", "replace:—", "replace:;", "closing", "lists-to-prose"} <= _keys(rules)
    assert "reword:delve" in _keys(rules)
    for rule in rules:
        parsed = parse_rule(rule.line)
        assert parsed is not None and parsed.key == rule.key, rule.line


def test_paragraphs_split_shorter_and_prose_made_lists() -> None:
    long = " ".join(BASE)
    split = "\n\n".join(BASE)
    rules = mine_rules([_pair(long, split)] * 3)
    assert [r.text for r in rules] == ["keep paragraphs short: about 2 sentences or fewer"]
    listed = [
        _pair(f"we grew tomatoes, peas and beans. {t}", f"we grew:\n\n- tomatoes\n- peas\n- beans\n\n{t}") for t in BASE
    ]
    assert "prose-to-lists" in _keys(mine_rules(listed[:3]))
    turned = [
        _pair("we grew:\n\n- tomatoes\n- peas\n- beans\n\n" + t, "we grew tomatoes, peas and beans.\n\n" + t)
        for t in BASE[:3]
    ]
    assert not {"prose-to-lists", "lists-to-prose"} & _keys(mine_rules(listed + turned))  # both ways: no habit
