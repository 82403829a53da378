"""The plan says where the sort doubts, and learns from the items the author moves."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.collect.notes import Fragment, collect_notes
from pipeline.collect.prompt import parse_prompt
from pipeline.embeddings.embed import Embedder
from pipeline.plan.corrections import _named
from pipeline.plan.marks import doubt_mark, moved_mark, split_mark
from pipeline.plan.planning import PlanRequest, make_plan
from pipeline.plan.reading import follow_plan, read_plan
from pipeline.sort.doubt import doubtful
from pipeline.sort.rank import Placement
from tests.conftest import essay
from tests.fakes import FakeLLM


class Offline(FakeLLM):
    """A model too small to sort: the embeddings place everything."""

    can_sort = False


def _plan(workspace: Path, llm: FakeLLM):
    prompt = parse_prompt(workspace / "prompts" / "garden.md")
    fragments = tuple(collect_notes(workspace / "notes").fragments)
    result = make_plan(workspace / "drafts" / "garden", PlanRequest(prompt, fragments), llm, workspace)
    return prompt, fragments, result


def _sections(text: str) -> dict[str, list[str]]:
    """Each heading's item lines, in order."""
    found: dict[str, list[str]] = {}
    for block in text.split("\n## ")[1:]:
        title, _, rest = block.partition("\n")
        found[title] = [line for line in rest.splitlines() if line.startswith("- ")]
    return found


def test_a_close_runner_up_is_named_and_a_clear_lead_is_not() -> None:
    placements = [
        Placement("close", (1.0, 0.9, -1.0), 1, 1.0, 0.3),
        Placement("clear", (2.0, 0.0, 0.0), 1, 1.0, 0.3),
        Placement("far below the cut", (0.1, 0.3, 0.1), 0, 0.0, -0.4),
        Placement("just below the cut", (0.1, 0.3, 0.1), 0, 0.4, -0.01),  # its best section is the runner-up
        Placement("authors", (1.0, 1.0, 0.0), 2, 1.0, 0.3),
    ]
    assert doubtful(placements, fixed={"authors"}) == {"close": 2, "just below the cut": 2}


def test_doubtful_items_come_first_in_their_section_marked_and_never_reach_the_draft(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.sort.doubt.DOUBT_MARGIN", 0.0)  # nothing doubtful: the plan's own order
    prompt, fragments, first = _plan(workspace, Offline())
    section = next(s for s in first.plan.sections if len(s.items) >= 2)
    last = section.items[-1]
    runner_up = next(s for s in prompt.sections if s.slug != section.slug)
    number = prompt.sections.index(runner_up) + 1
    (workspace / "drafts" / "garden" / "plan.md").unlink()
    monkeypatch.setattr("pipeline.sort.sort.doubtful", lambda placements, fixed: {last.fragment_id: number})

    _plan(workspace, Offline())

    lines = _sections((workspace / "drafts" / "garden" / "plan.md").read_text())[section.title.lower()]
    assert lines[0].startswith(f"- (? or: {runner_up.title.lower()}) {last.text}")
    assert not any(line.startswith("- (?") for line in lines[1:])
    material = follow_plan(read_plan(workspace / "drafts" / "garden", prompt, workspace), prompt, list(fragments))
    texts = [f.text for f in material.sections[section.slug]]
    assert texts[0] == last.text  # the mark is the plan's, not the author's words


def _move_first_item(path: Path, source: str, target: str) -> str:
    """Move the first item under `source` to the end of `target`, as the author would; returns its line."""
    text = path.read_text()
    item = _sections(text)[source][0]
    text = text.replace(item + "\n", "", 1)
    head = f"## {target}\n"
    start = text.index(head) + len(head)
    end = text.find("\n## ", start)
    text = text[:end].rstrip("\n") + f"\n{item}\n" + text[end:]
    path.write_text(text)
    return item


def test_a_moved_item_stays_teaches_the_model_and_what_moved_because_of_it_is_marked(workspace: Path) -> None:
    _, fragments, _ = _plan(workspace, FakeLLM())
    path = workspace / "drafts" / "garden" / "plan.md"
    before = _sections(path.read_text())
    moved = _move_first_item(path, "start with the ground", "finally, look forward")
    edited = path.read_bytes()
    moved_text = re.sub(r"\A- (\(\? or: [^)]*\) )?", "", moved).split(" ([[")[0]
    asked = len(fragments) - 1  # every other fragment is sorted again
    llm = FakeLLM().enqueue(json.dumps({"1": list(range(1, asked + 1)), "2": [], "3": [], "0": []}))

    _, _, again = _plan(workspace, llm)

    calls = [c for c in llm.history if c.schema]
    print([len(c.schema["properties"]["0"]["items"]["enum"]) for c in calls], [c.user[-300:] for c in calls])
    (call,) = calls
    assert "the writer placed these notes themselves" in call.user
    assert f"\n3: {moved_text}\n" in call.user  # the correction, as an example under its section's number
    assert len(re.findall(r"^\[\d+\] ", call.user, re.M)) == asked  # and not asked about again
    text = path.read_text()
    after = _sections(text)
    assert any(moved_text in line and "(?" not in line for line in after["finally, look forward"])
    others = [line for title, lines in before.items() if title != "start with the ground" for line in lines]
    newly = [line for line in after["start with the ground"] if "moved by your corrections" in line]
    assert again.moved == len(newly) == len([line for line in others if "<!-- f:" in line]) > 0
    assert after["start with the ground"][: len(newly)] == newly  # listed first
    assert f"> your 1 correction moved {again.moved} other items" in text
    assert (workspace / "drafts" / "garden" / "plan-001.md").read_bytes() == edited  # byte for byte

    # Planned again with no new correction: nothing is sorted, and the author's item is still theirs.
    third = FakeLLM()
    _plan(workspace, third)
    assert not [c for c in third.history if c.schema]
    assert any(moved_text in line for line in _sections(path.read_text())["finally, look forward"])


def test_the_cli_says_what_the_corrections_moved(workspace: Path) -> None:
    assert essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    _move_first_item(workspace / "drafts" / "garden" / "plan.md", "start with the ground", "then the people")
    done = essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace)
    assert done.returncode == 0, done.stderr
    moved = read_plan(workspace / "drafts" / "garden", parse_prompt(workspace / "prompts" / "garden.md"), workspace)
    count = sum("moved by your corrections" in i.mark for s in moved.sections for i in s.items)
    count += sum("moved by your corrections" in i.mark for i in moved.unused)
    expected = f"{count} other item{'' if count == 1 else 's'} moved" if count else "nothing else moved"
    assert f"sorted again with your 1 correction: {expected}\n" in done.stderr


def test_a_mark_reads_back_off_the_text_even_when_its_section_title_has_parentheses() -> None:
    for mark in (doubt_mark("Why (really) I started"), moved_mark("the plateaus")):
        assert split_mark(f"{mark} first go at an open string (a d, badly)") == (
            mark,
            "first go at an open string (a d, badly)",
        )
    assert split_mark("(? i wonder) my own aside") == ("", "(? i wonder) my own aside")


def test_on_a_large_vault_an_item_not_asked_about_again_keeps_its_place(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat = Embedder(lambda texts: np.ones((len(texts), 4), dtype=np.float32), "flat")  # ranks in note order
    monkeypatch.setattr("pipeline.sort.sort.bundled_embedder", lambda: flat)
    monkeypatch.setattr("pipeline.sort.sort.MOST_SORT_CALLS", 1)
    prompt = parse_prompt(workspace / "prompts" / "garden.md")
    chores = tuple(
        Fragment(f"c{n}", f"chores/{n:04}.md", f"chores {n}", None, (), f"buy {n} batteries") for n in range(600)
    )
    folder = workspace / "drafts" / "garden"
    make_plan(folder, PlanRequest(prompt, chores), FakeLLM(context_window=32_768), workspace)  # all in one call
    first = read_plan(folder, prompt, workspace)
    where = {i.fragment_id: s.slug for s in first.sections for i in s.items} | {i.fragment_id: "" for i in first.unused}
    _move_first_item(folder / "plan.md", "start with the ground", "then the people")
    llm = FakeLLM(context_window=4096)  # now one call holds a third of them: the shortlist picks which

    make_plan(folder, PlanRequest(prompt, chores), llm, workspace)

    again = read_plan(folder, prompt, workspace)
    now = {i.fragment_id: s.slug for s in again.sections for i in s.items} | {i.fragment_id: "" for i in again.unused}
    (call,) = [c for c in llm.history if c.schema]
    asked = len(call.schema["properties"]["0"]["items"]["enum"])
    assert len(where) == 600 and asked < 300  # the shortlist held fewer than the plan's items
    assert set(where) <= set(now)  # none fell out of the plan
    stayed = [i for i in where if now[i] == where[i]]
    assert len(stayed) >= len(where) - 1 - asked  # only the moved item and those asked again may move


def test_a_marked_item_with_a_checkbox_reads_back_as_it_was_written() -> None:
    from pipeline.plan.parse import _read_list
    from pipeline.plan.planfile import PlanItem
    from pipeline.plan.render import render_item

    for item in (
        PlanItem("[ ] book mot", "a1", "daily/x.md", mark=doubt_mark("the plateaus")),  # a task as a note's text
        PlanItem("buy rosin", "a2", "daily/x.md", box="[x]", mark=moved_mark("why (really) i started")),
    ):
        line = render_item(item)
        _, (back,) = _read_list([(1, text) for text in line.rstrip("\n").split("\n")], "plan.md")
        assert back == item


@pytest.mark.parametrize("written_before_records_moved", [False, True])
def test_a_correction_is_learned_in_a_workspace_moved_elsewhere(
    workspace: Path, tmp_path: Path, written_before_records_moved: bool
) -> None:
    _plan(workspace, FakeLLM())
    path = workspace / "drafts" / "garden" / "plan.md"
    _move_first_item(path, "start with the ground", "finally, look forward")
    if written_before_records_moved:  # a record named by the folder's absolute path, as essay wrote them before
        folder = workspace / "drafts" / "garden"
        (record,) = (workspace / ".essay" / "plans").iterdir()
        record.rename(_named(workspace, str(folder.resolve())))
    else:  # the whole workspace copied to another machine or folder
        workspace = Path(shutil.copytree(workspace, tmp_path / "synced" / "vault"))
    llm = FakeLLM()
    _plan(workspace, llm)
    calls = [c for c in llm.history if c.schema]
    assert calls and "the writer placed these notes themselves" in calls[0].user  # sorted again, learning
