"""The plan is the author's: edit it, and the draft follows; planning again keeps the edits."""

from __future__ import annotations

from pathlib import Path

from pipeline.plan.marks import split_mark
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer
from tests.fakes import made

FOUR = """---
title: a garden year
tags: [essay]
---

Write about the garden.

- **Start with the ground.**
    What did the soil teach you?
- **Then the people.**
    Who came?
- **Examine the harvest.**
    What grew?
- **Finally, look forward.**
    What next?

i started the garden because the lot was empty and i was bored. the first spring was mostly rocks.
"""


def _calls_for(title: str) -> list[str]:
    """The notes a section's writing call is written from (not the lines saying what the others cover)."""
    calls = [c.user for c in made[-1].history if f'write the section "{title}"' in c.user]
    return [call.split("the writer's notes for this section:", 1)[-1] for call in calls]


def test_moving_an_item_and_adding_a_point_steer_the_draft_without_sorting(workspace: Path) -> None:
    write(workspace / "prompts" / "year.md", FOUR)
    planned = essay("plan", "prompts/year.md", "--provider", "fake", cwd=workspace)
    assert planned.returncode == 0, planned.stderr
    path = workspace / "drafts" / "year" / "plan.md"
    assert planned.stdout.strip() == "drafts/year/plan.md"
    text = path.read_text()
    assert "(your draft)" in text  # the author's own paragraph under the prompt is material, marked as theirs
    first = text.split("\n## ")[1]
    moved = next(line for line in first.splitlines() if line.startswith("- ") and "([[" in line)
    edited = text.replace(moved + "\n", "", 1)
    edited = edited.replace("## finally, look forward\n", f"## finally, look forward\n\n{moved}\n", 1)
    edited = edited.replace("## then the people\n", "## then the people\n\n- mention the badge photo i never took\n", 1)
    path.write_text(edited)

    drafted = essay("draft", "prompts/year.md", "--provider", "fake", cwd=workspace)
    assert drafted.returncode == 0, drafted.stderr
    assert "following drafts/year/plan.md: no sorting" in drafted.stderr
    assert not [c for c in made[-1].history if c.schema is not None]  # no sorting call
    item_text = split_mark(moved.split(" ([[")[0].removeprefix("- "))[1]  # a doubt mark is not material
    assert any(item_text in call for call in _calls_for("Finally, look forward"))
    assert not any(item_text in call for call in _calls_for("Start with the ground"))
    assert any("mention the badge photo i never took" in call for call in _calls_for("Then the people"))
    assert "plan_hash:" in (workspace / "drafts" / "year" / "v001.md").read_text()

    again = essay("plan", "prompts/year.md", "--provider", "fake", cwd=workspace)
    assert again.returncode == 0, again.stderr
    assert (workspace / "drafts" / "year" / "plan-001.md").read_text() == edited  # kept byte for byte
    replanned = path.read_text()
    assert "mention the badge photo i never took" in replanned
    assert replanned.index(item_text) > replanned.index("## finally, look forward")  # the move carried over


def test_a_broken_plan_is_one_line_and_no_draft_is_written(workspace: Path) -> None:
    assert essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    path = workspace / "drafts" / "garden" / "plan.md"
    path.write_text(path.read_text().replace("## then the people", "## the neighbours"))
    done = essay("draft", "prompts/garden.md", "--provider", "fake", cwd=workspace)
    assert done.returncode == 1 and "heading '## the neighbours' is no section of the prompt" in done.stderr
    path.write_text("")
    empty = essay("draft", "prompts/garden.md", "--provider", "fake", cwd=workspace)
    assert empty.returncode == 1 and "is empty: delete it and run `essay plan` again" in empty.stderr
    assert not list((workspace / "drafts" / "garden").glob("v*.md"))


def test_no_cache_still_logs_every_call(workspace: Path) -> None:
    done = essay("draft", "prompts/garden.md", "--provider", "fake", "--no-cache", cwd=workspace)
    assert done.returncode == 0, done.stderr
    sent = len(made[-1].history)
    log = essay("log", "-n", "50", cwd=workspace)
    rows = [line for line in log.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == sent == 4


def test_an_endpoint_that_refuses_json_schema_is_remembered_across_runs(workspace: Path) -> None:
    with FakeOpenAIServer("json_object") as server:
        assert essay("plan", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace).returncode == 0
        first = [r.get("response_format", {}).get("type") for r in server.requests if r.get("response_format")]
        (workspace / "drafts" / "garden" / "plan.md").unlink()
        before = len(server.requests)
        again = essay("plan", "prompts/garden.md", "--base-url", server.base_url, "--no-cache", cwd=workspace)
        assert again.returncode == 0
        second = [
            r.get("response_format", {}).get("type") for r in server.requests[before:] if r.get("response_format")
        ]
    assert first == ["json_schema", "json_object"]
    assert second and "json_schema" not in second


def test_obsidian_tags_never_filter_and_essay_filters_say_what_they_left_out(workspace: Path) -> None:
    write(workspace / "prompts" / "tagged.md", "---\ntags: [garden]\n---\n\n## the people\nwho?\n")
    tagged = essay("draft", "prompts/tagged.md", "--dry-run", cwd=workspace)
    assert "notes: 5 read" in tagged.stdout and "outside the prompt's filter" not in tagged.stdout
    write(workspace / "prompts" / "narrow.md", '---\nessay-notes: ["people.md"]\n---\n\n## the people\nwho?\n')
    narrow = essay("draft", "prompts/narrow.md", "--dry-run", cwd=workspace)
    assert "4 of 5 notes left out by the prompt's filter (essay-notes: people.md)" in narrow.stderr
    assert "outside the prompt's filter: groceries.md" in narrow.stdout
    write(workspace / "prompts" / "none.md", "---\nessay-tags: [nothing-has-this]\n---\n\n## x\ny?\n")
    none = essay("draft", "prompts/none.md", "--dry-run", cwd=workspace)
    assert "matches no note: check the globs and tags" in none.stderr


def test_a_large_vault_sends_the_shortlist_and_nothing_reaches_a_section_unchecked(workspace: Path) -> None:
    for n in range(450):  # errands and chores, far more than the model is shown
        write(workspace / "notes" / "chores" / f"{n}.md", f"buy {n} batteries and call the plumber about the sink\n")
    planned = essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace)
    assert planned.returncode == 0, planned.stderr
    sorting = [c for c in made[-1].history if c.schema is not None]
    assert 1 <= len(sorting) <= 10
    # Each call numbers its fragments; the schema offers each number under the sections it may go to.
    sent = sum(len(set().union(*(spec["items"]["enum"] for spec in c.schema["properties"].values()))) for c in sorting)
    assert sent < 455  # the shortlist left chores out
    plan = (workspace / "drafts" / "garden" / "plan.md").read_text()
    placed = sum(block.count("<!-- f:") for block in plan.split("\n## ")[1:] if not block.startswith("fits no section"))
    assert 0 < placed <= sent  # only what the model was asked about sits in a section
    assert "unrelated to the prompt, never sent to the model" in plan


def _left_out_as_unrelated(plan: str) -> int:
    line = next(line for line in plan.splitlines() if "unrelated to the prompt, never sent" in line)
    return int(line.removeprefix("- ").split()[0])


def test_unrelated_fragments_are_counted_not_listed_and_plan_all_sends_them(workspace: Path) -> None:
    for n in range(450):
        write(workspace / "notes" / "chores" / f"{n}.md", f"buy {n} batteries and call the plumber about the sink\n")
    assert essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    folder = workspace / "drafts" / "garden"
    plan = (folder / "plan.md").read_text()
    unrelated = _left_out_as_unrelated(plan)
    beside = (folder / "plan-unrelated.md").read_text()
    items = [line for line in beside.splitlines() if line.startswith("- ")]
    assert len(items) == unrelated > 0  # listed beside the plan, where the author can read them
    assert not any(item in plan for item in items)  # counted in the plan, not listed there
    assert sum(f"buy {n} batteries" in plan for n in range(450)) < 450

    drafted = essay("draft", "prompts/garden.md", "--provider", "fake", cwd=workspace)
    assert drafted.returncode == 0, drafted.stderr
    assert "new since the plan" not in drafted.stderr  # the plan knows them, though it does not list them

    # The author copies one left-out item under a heading of the plan: planning again keeps it placed there.
    moved = next(item for item in items if "batteries" in item)
    heading = next(line for line in plan.splitlines() if line.startswith("## ") and "fits no section" not in line)
    (folder / "plan.md").write_text(plan.replace(heading + "\n", f"{heading}\n\n{moved}\n", 1))
    assert essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    replanned = (folder / "plan.md").read_text()
    assert moved in replanned.split("## fits no section")[0]
    assert _left_out_as_unrelated(replanned) == unrelated - 1

    sent_all = essay("plan", "prompts/garden.md", "--all", "--provider", "fake", cwd=workspace)
    assert sent_all.returncode == 0, sent_all.stderr
    everything = (folder / "plan.md").read_text()
    assert all(f"buy {n} batteries" in everything for n in range(450))  # `--all` sent and sorted them this time
    assert "unrelated to the prompt" not in everything
    assert not (folder / "plan-unrelated.md").exists()


def test_the_dry_run_counts_the_sorting_calls_a_draft_would_make(workspace: Path) -> None:
    local = essay("draft", "prompts/garden.md", "--dry-run", cwd=workspace)
    assert "(0 to sort fragments" in local.stdout  # the bundled model does not sort: the embeddings do
    remote = essay("draft", "prompts/garden.md", "--dry-run", "--base-url", "http://127.0.0.1:9/v1", cwd=workspace)
    assert "(1 to sort fragments" in remote.stdout
    assert essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    planned = essay("draft", "prompts/garden.md", "--dry-run", "--base-url", "http://127.0.0.1:9/v1", cwd=workspace)
    assert "(0 to sort fragments" in planned.stdout  # it follows the plan
