"""Regenerating one section keeps every other byte the author has; versions and diff show the history."""

from __future__ import annotations

from pathlib import Path

import frontmatter
import pytest

from pipeline.core.errors import DraftError, UsageError
from pipeline.drafting.choose import choose_section
from pipeline.drafting.inputs import read_inputs
from pipeline.drafting.regen import regen_section
from pipeline.drafting.runner import draft_essay
from pipeline.files.draftfile import locate, parse, section_text
from pipeline.files.history import describe_versions, diff_versions, resolve_target
from tests.conftest import make_run, write
from tests.fakes import FakeLLM

FOUR_SECTIONS = """---
title: "a year of the garden"
---

Write about the garden.

- **Start with the ground.**
    What did the soil teach you?
- **Then the people.**
    Who came, and who stopped coming?
- **Examine the harvest.**
    What grew, and what failed?
- **Finally, look forward.**
    What next spring?
"""

SLUGS = ["start-with-the-ground", "then-the-people", "examine-the-harvest", "finally-look-forward"]


@pytest.fixture
def drafted(workspace: Path) -> Path:
    """v001 of a four-section essay, every section with notes, as the author then edits it."""
    write(workspace / "prompts" / "year.md", FOUR_SECTIONS)
    with make_run(workspace, FakeLLM()) as run:
        return draft_essay(run, read_inputs(run, workspace / "prompts" / "year.md")).file.path


def _sections(path: Path) -> dict[str, str]:
    doc = parse(path.read_text(), path.name)
    titles = doc.meta.section_titles()
    spans = locate(doc.body, titles)
    return {slug: doc.body[span.start : span.end] for slug, span in spans.items() if span}


def _regen(workspace: Path, query: str, llm: FakeLLM, target: str = "prompts/year.md", **options):
    found = resolve_target(workspace / target, workspace / "drafts", workspace)
    with make_run(workspace, llm) as run:
        return regen_section(run, found, query, **options)


def _append_inside(path: Path, slug: str, addition: str) -> None:
    """Add text at the end of a section's prose, as an author would."""
    text = path.read_text()
    doc = parse(text, path.name)
    span = locate(doc.body, doc.meta.section_titles())[slug]
    cut = len(text) - len(doc.body) + span.start + len(doc.body[span.start : span.end].rstrip())
    path.write_text(text[:cut] + addition + text[cut:])


def test_regen_keeps_the_authors_edits_byte_for_byte(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    _append_inside(drafted, SLUGS[0], "\n\nMY OWN words, Kept As Typed.")
    _append_inside(drafted, SLUGS[2], "\nanother line i added.")
    edited_v001 = drafted.read_bytes()
    llm = FakeLLM().enqueue("A Brand New Second Section.")
    result = _regen(workspace, "2", llm)
    assert result.file.path.name == "v002.md"
    assert len(llm.history) == 1 and llm.history[0].schema is None  # one call: the section, no re-sorting
    assert drafted.read_bytes() == edited_v001
    before, after = _sections(drafted), _sections(result.file.path)
    for slug in (SLUGS[0], SLUGS[2], SLUGS[3]):
        assert after[slug] == before[slug]
    assert "MY OWN words, Kept As Typed." in after[SLUGS[0]]
    assert after[SLUGS[1]] != before[SLUGS[1]]
    assert "a brand new second section." in after[SLUGS[1]]
    post = frontmatter.load(result.file.path)
    assert post["made_by"] == "regen" and post["parent"] == 1 and post["regenerated"] == SLUGS[1]


def test_regen_by_title_word_keeps_earlier_edits(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    _append_inside(drafted, SLUGS[0], "\n\nfirst edit.")
    v002 = _regen(workspace, "2", FakeLLM().enqueue("Second.")).file.path
    _append_inside(v002, SLUGS[3], "\n\nan edit in v002.")
    v003 = _regen(workspace, "harvest", FakeLLM().enqueue("New Harvest Text.")).file.path
    after = _sections(v003)
    assert "first edit." in after[SLUGS[0]] and "an edit in v002." in after[SLUGS[3]]
    assert "second." in after[SLUGS[1]] and "new harvest text." in after[SLUGS[2]]


def test_unknown_section_lists_the_sections_and_writes_nothing(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    llm = FakeLLM()
    with pytest.raises(UsageError) as caught:
        _regen(workspace, "weather", llm)
    message = str(caught.value)
    assert "no section matches 'weather'" in message
    assert "1. Start with the ground  [start-with-the-ground]" in message and "4. Finally, look forward" in message
    assert llm.history == []
    assert sorted(p.name for p in drafted.parent.glob("v*.md")) == ["v001.md"]


def test_ambiguous_and_out_of_range_sections_fail() -> None:
    sections = [("a", "the people"), ("b", "the harvest")]
    with pytest.raises(UsageError, match="matches 'the people', 'the harvest'"):
        choose_section(sections, "the", "v001.md")
    with pytest.raises(UsageError, match="there is no section 3"):
        choose_section(sections, "3", "v001.md")
    assert choose_section(sections, "harv", "v001.md") == ("b", "the harvest")
    assert choose_section(sections, "b", "v001.md") == ("b", "the harvest")


def test_robust_to_renamed_headings_added_text_and_removed_markers(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    text = drafted.read_text()
    text = text.replace("## then the people", "## Who Showed Up (renamed)")  # marker still there
    text = text.replace(f"<!-- section: {SLUGS[2]} -->\n", "")  # heading still there
    text = text.replace(
        f"<!-- section: {SLUGS[3]} -->", "some text i wrote between sections\n\n" + f"<!-- section: {SLUGS[3]} -->"
    )
    drafted.write_text(text)
    before = _sections(drafted)
    result = _regen(workspace, "4", FakeLLM().enqueue("Forward Looking."))
    after = _sections(result.file.path)
    assert after[SLUGS[1]] == before[SLUGS[1]] and "## Who Showed Up (renamed)" in after[SLUGS[1]]
    assert after[SLUGS[2]] == before[SLUGS[2]]
    assert "some text i wrote between sections" in after[SLUGS[2]]
    assert "forward looking." in after[SLUGS[3]]


def test_deleted_section_is_put_back_in_order_when_regenerated(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    doc = parse(drafted.read_text(), drafted.name)
    span = locate(doc.body, doc.meta.section_titles())[SLUGS[1]]
    drafted.write_text(drafted.read_text().replace(doc.body[span.start : span.end], ""))
    result = _regen(workspace, "2", FakeLLM().enqueue("Back Again."))
    body = result.file.path.read_text()
    assert body.index(SLUGS[0]) < body.index(f"<!-- section: {SLUGS[1]} -->") < body.index(f"<!-- section: {SLUGS[2]}")
    assert "back again." in body


def test_lost_boundary_fails_naming_the_section_and_writes_nothing(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    text = drafted.read_text().replace(f"<!-- section: {SLUGS[2]} -->\n## examine the harvest", "## what grew")
    drafted.write_text(text)
    llm = FakeLLM()
    with pytest.raises(DraftError, match="cannot tell where section 'Then the people' ends"):
        _regen(workspace, "2", llm)
    assert llm.history == [] and sorted(p.name for p in drafted.parent.glob("v*.md")) == ["v001.md"]


def test_regen_takes_the_sections_material_from_the_plan(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    plan = drafted.parent / "plan.md"
    plan.write_text(
        plan.read_text().replace("## examine the harvest\n", "## examine the harvest\n\n- the pumpkins\n", 1)
    )
    write(workspace / "notes" / "new.md", "a new note about the harvest\n")
    llm = FakeLLM()
    _regen(workspace, "3", llm, instructions="shorter, more concrete")
    assert [c.schema is not None for c in llm.history] == [False]  # no sort: the plan says what goes where
    assert "- the pumpkins" in llm.history[0].user or "the pumpkins" in llm.history[0].user
    assert "the writer's direction for this section: shorter, more concrete" in llm.history[0].user


def test_without_a_plan_changed_notes_are_sorted_again(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    (drafted.parent / "plan.md").unlink()
    write(workspace / "notes" / "new.md", "a new note about the harvest\n")
    llm = FakeLLM()
    _regen(workspace, "3", llm)
    assert [c.schema is not None for c in llm.history] == [True, False]


def test_versions_and_diff(workspace: Path, drafted: Path, monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    _regen(workspace, "2", FakeLLM().enqueue("Changed."))
    _append_inside(drafted, SLUGS[0], "\n\nedited later.")
    found = resolve_target(workspace / "drafts" / "year", workspace / "drafts", workspace)
    infos = describe_versions(found)
    assert [(i.version, i.edited) for i in infos] == [(1, True), (2, False)]
    assert infos[0].made_by == "draft" and infos[1].made_by == "regen of section 'then-the-people' from v001"
    diff = diff_versions(found, None, None)
    assert diff.startswith(f"--- {drafted}\n+++ {drafted.parent / 'v002.md'}\n")
    assert "+changed." in diff and "-edited later." in diff
    with pytest.raises(UsageError, match="there is no v009"):
        diff_versions(found, "9", None)


def test_section_text_reads_what_was_written(drafted: Path) -> None:
    doc = parse(drafted.read_text(), drafted.name)
    span = locate(doc.body, doc.meta.section_titles())[SLUGS[0]]
    assert section_text(doc.body, span).startswith("i learned that the queue is the org chart.")
