"""voice.md's lines read as rules, and the mechanical ones applied to a written section: never inside links, code,
quotes or the author's own sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.collect.notes import Fragment, collect_notes
from pipeline.collect.prompt import parse_prompt
from pipeline.core.errors import ConfigError
from pipeline.voice.apply import apply_voice
from pipeline.voice.rules import Voice, load_voice, parse_rule
from pipeline.write.expand import Writing, expand_sections
from pipeline.write.finish import Finishing, finish_section
from tests.fakes import FakeLLM

RULES = [
    '- avoid "honestly" (seen 4 times; e.g. "honestly, it was" → "it was")',
    '- write "use", not "utilize" (seen 3 times; e.g. "we utilize it" → "we use it")',
    '- write ",", not "—"',
    "- no exclamation marks, ever",
]


def _voice(*lines: str) -> Voice:
    return Voice(tuple(r for line in lines if (r := parse_rule(line))), "h")


def test_lines_parse_to_rules_and_prose_is_no_rule() -> None:
    avoid, replace, dash, own = (parse_rule(line) for line in RULES)
    assert avoid is not None and (avoid.key, avoid.text, avoid.old, avoid.new) == (
        "avoid:honestly",
        'avoid "honestly"',
        "honestly",
        None,
    )
    assert replace is not None and (replace.old, replace.new, replace.text) == (
        "utilize",
        "use",
        'write "use", not "utilize"',
    )
    assert dash is not None and dash.mechanical and dash.new == ","
    assert own is not None and not own.mechanical and own.text == "no exclamation marks, ever"
    for line in ("# voice", "rules essay learned from how you edit", "", "- [ ] a checkbox is a task, not a rule"):
        assert parse_rule(line) is None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("honestly, i think we utilize it.", "i think we use it."),
        ("Honestly, I think so.", "I think so."),
        ("it was, honestly, fine — mostly.", "it was fine, mostly."),
        ("it was fine, honestly.", "it was fine."),
        ("i honestly think so", "i think so"),
        ("we utilized it and Utilize it", "we utilized it and Use it"),
        ("dishonestly is another word", "dishonestly is another word"),
    ],
)
def test_mechanical_rules_cut_and_replace_with_their_commas(before: str, after: str) -> None:
    assert apply_voice(before, _voice(*RULES)) == after


def test_a_dash_the_author_writes_their_own_way_keeps_its_spaces() -> None:
    voice = _voice('- write "-", not "—"', '- write ".", not ";"')
    assert (
        apply_voice("it was slow—then fast; we left — finally.", voice) == "it was slow - then fast. we left - finally."
    )


def test_links_code_quotes_and_blockquotes_are_left_as_they_are() -> None:
    text = (
        'she said "honestly, utilize it" and ran `honestly()`; see [honestly](https://x.org/honestly) and '
        "[[notes/honestly|honestly]] at https://x.org/utilize.\n\n> honestly, a quote\n\nhonestly, plain."
    )
    expected = text.replace("honestly, plain.", "plain.")
    assert apply_voice(text, _voice(*RULES)) == expected


def test_a_sentence_the_author_wrote_keeps_their_words() -> None:
    own = "Honestly, the queue was the org chart all along."
    text = "honestly, the queue was the org chart all along. honestly, the model added this."
    assert (
        apply_voice(text, _voice(*RULES), [own])
        == "honestly, the queue was the org chart all along. the model added this."
    )


def test_finishing_applies_them_after_lowercasing_and_before_footnotes(tmp_path: Path) -> None:
    fragment = Fragment("f1", "shed.md", "shed", None, (), "we keep every tool in the shed")
    finishing = Finishing(tmp_path, True, (), _voice(*RULES))
    done = finish_section("tools", "Honestly, we utilize the shed for everything. [f1]", [fragment], finishing)
    assert done.text.startswith("we use the shed for everything.[^tools-1]")
    assert "honestly" not in done.text.lower() and "utilize" not in done.text


def test_load_voice_reads_the_file_and_its_hash(tmp_path: Path) -> None:
    assert load_voice(tmp_path) is None
    (tmp_path / "voice.md").write_text("# voice\n\nonly prose here\n", encoding="utf-8")
    assert load_voice(tmp_path) is None
    (tmp_path / "voice.md").write_text("# voice\n\n" + "\n".join(RULES) + "\n", encoding="utf-8")
    voice = load_voice(tmp_path)
    assert voice is not None and len(voice.hash) == 16
    assert voice.instructions == (
        'avoid "honestly"',
        'write "use", not "utilize"',
        'write ",", not "—"',
        "no exclamation marks, ever",
    )
    (tmp_path / "voice.md").write_bytes(b"\xff\x00")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_voice(tmp_path)


def test_each_writing_call_carries_the_rules_and_its_answer_follows_them(workspace: Path) -> None:
    """The layout where each section's call sends its own notes (a remote endpoint): the rules are in its
    instructions, and a model that ignores them still leaves neither word in the section."""
    prompt = parse_prompt(workspace / "prompts" / "garden.md")
    fragments = collect_notes(workspace / "notes").fragments
    llm = FakeLLM().enqueue("Honestly, we utilize the plot — it was the whole point. [f1]")
    writing = Writing(finishing=Finishing(voice=_voice(*RULES)))
    draft = expand_sections(prompt, {prompt.sections[0].slug: fragments[:1]}, llm, writing)
    assert '\n- avoid "honestly"\n- write "use", not "utilize"\n' in llm.history[0].system
    assert "- no exclamation marks, ever" in llm.history[0].system and "seen 4 times" not in llm.history[0].system
    assert draft.sections[0].text.startswith("we use the plot, it was the whole point.")
