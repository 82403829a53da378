"""Nothing of the author's plan or draft is lost (issue 30): each case in the form a writer meets it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import essay, write
from tests.fakes import made
from tests.test_regen import FOUR_SECTIONS

FAKE = ("--provider", "fake")


def _plan(workspace: Path, prompt: str = "garden") -> Path:
    return workspace / "drafts" / prompt / "plan.md"


def _ok(*args: str, cwd: Path) -> str:
    done = essay(*args, *FAKE, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _sent() -> str:
    return "\n".join(m["content"] for call in made[-1].history for m in call.messages)


def test_a_point_and_a_direction_under_fits_no_section_survive_planning_again(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    path.write_text(
        path.read_text().replace(
            "## fits no section\n", "## fits no section\nsave these for the next essay.\n\n- the rain barrel saga\n"
        )
    )
    _ok("plan", "prompts/garden.md", cwd=workspace)
    unused = path.read_text().split("## fits no section")[1]
    assert unused.startswith("\nsave these for the next essay.\n")
    assert "- the rain barrel saga\n" in unused
    assert (workspace / "drafts" / "garden" / "plan-001.md").is_file()


def test_what_the_author_wrote_under_left_out_is_kept_under_a_heading_of_its_own(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    path.write_text(path.read_text() + "\n## left out\n\nask ines about this.\n- the shed key story\n")
    _ok("plan", "prompts/garden.md", cwd=workspace)
    text = path.read_text()
    kept = text.split("## kept from your plan\n")[1]
    assert "ask ines about this.\n" in kept and "- the shed key story\n" in kept
    assert kept.index("> ") < kept.index("ask ines")  # the one-line note comes first
    _ok("plan", "prompts/garden.md", cwd=workspace)  # and it stays there, plan after plan
    assert path.read_text().count("- the shed key story\n") == 1
    _ok("draft", "prompts/garden.md", cwd=workspace)
    assert "shed key story" not in _sent()  # kept, not drafted: it was out of the draft before too


def test_an_item_with_an_unknown_id_stays_where_the_author_put_it(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    pasted = "- the orchard plan from my other essay ([[orchard]]) <!-- f:0123456789 -->\n"
    path.write_text(path.read_text().replace("## then the people\n", "## then the people\n\n" + pasted, 1))
    _ok("draft", "prompts/garden.md", cwd=workspace)
    assert "the orchard plan from my other essay" in _sent()
    _ok("plan", "prompts/garden.md", cwd=workspace)
    people = path.read_text().split("## then the people\n")[1].split("\n## ")[0]
    assert pasted in people


def test_private_items_of_a_local_plan_survive_a_plan_for_an_untrusted_endpoint(workspace: Path) -> None:
    from tests.fake_server import FakeOpenAIServer

    write(workspace / "essay.toml", '[notes]\nprivate = ["journal/*"]\n')
    write(workspace / "notes" / "journal" / "day.md", "i cried in the garden shed after the frost\n")
    _ok("plan", "prompts/garden.md", cwd=workspace)  # the fake provider runs on this machine: trusted
    path = _plan(workspace)
    private = next(line for line in path.read_text().splitlines() if "private -->" in line)
    text = path.read_text().replace(private + "\n", "")
    path.write_text(text.replace("## finally, look forward\n", f"## finally, look forward\n\n{private}\n"))
    with FakeOpenAIServer() as server:
        done = essay("plan", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        assert done.returncode == 0, done.stderr
        assert "cried" not in str(server.requests)
        drafted = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        assert drafted.returncode == 0, drafted.stderr
        assert "cried" not in str(server.requests)
    assert private in path.read_text().split("## finally, look forward\n")[1]
    _ok("plan", "prompts/garden.md", cwd=workspace)  # local again: the item the author moved stays moved
    assert path.read_text().count(private) == 1
    assert private in path.read_text().split("## finally, look forward\n")[1]


def test_an_item_whose_note_was_edited_keeps_the_place_the_author_gave_it(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    item = next(line for line in path.read_text().splitlines() if "tomatoes went in too early" in line)
    text = path.read_text().replace(item + "\n", "")
    path.write_text(text.replace("## finally, look forward\n", f"## finally, look forward\n\n{item}\n"))
    note = workspace / "notes" / "2025-04-02.md"
    note.write_text(note.read_text().replace("went in too early", "went in far too early"))
    _ok("plan", "prompts/garden.md", cwd=workspace)
    replanned = path.read_text()
    assert replanned.count("tomatoes went in") == 1  # not the old words and the new fragment both
    forward = replanned.split("## finally, look forward\n")[1].split("\n## ")[0]
    assert "- the tomatoes went in far too early ([[2025-04-02]]) <!-- f:" in forward


def test_a_checkbox_item_keeps_its_box_and_a_tab_indented_item_is_not_new(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    text = path.read_text()
    people = text.split("## then the people\n")[1].split("\n## ")[0]
    first, second = [line for line in people.splitlines() if "<!-- f:" in line][:2]
    text = text.replace(first + "\n", "\t" + first + "\n")  # first under its heading, where a direction goes
    text = text.replace(second + "\n", "- [ ] ask tomás for a quote\n\t" + second + "\n")  # after a point
    path.write_text(text)
    drafted = _ok("draft", "prompts/garden.md", cwd=workspace)
    assert "new since the plan" not in drafted
    calls = [c.user for c in made[-1].history if 'write the section "Then the people"' in c.user]
    assert len(calls) == 1 and "ask tomás for a quote" in calls[0]
    _ok("plan", "prompts/garden.md", cwd=workspace)
    replanned = path.read_text().split("## then the people\n")[1].split("\n## ")[0]
    assert f"\n{first}\n- [ ] ask tomás for a quote\n{second}\n" in replanned  # three items, each its own


def test_a_half_saved_plan_is_refused_naming_the_line(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    text = path.read_text()
    cut = text[: text.index("<!-- f:", text.index("## start with the ground")) + 9]  # mid-way through an id
    path.write_text(cut)
    line = cut.count("\n") + 1
    done = essay("draft", "prompts/garden.md", *FAKE, cwd=workspace)
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"error: {Path('drafts/garden/plan.md')} line {line}: the plan ends mid-item ('- ")
    assert not list(path.parent.glob("v*.md"))
    whole_lines = text[: text.index("## fits no section")]  # cut at a line's end: the closing part is gone
    path.write_text(whole_lines)
    done = essay("plan", "prompts/garden.md", *FAKE, cwd=workspace)
    assert done.returncode == 1 and "has lost its closing part" in done.stderr
    assert path.read_text() == whole_lines  # nothing of the author's is replaced


TWIN_TITLES = """---
title: two walks
---

## a walk
The first one.

## a walk
The second one.
"""


def test_two_sections_with_the_same_title_draft_twice_and_regen_the_second(workspace: Path) -> None:
    write(workspace / "prompts" / "walks.md", TWIN_TITLES)
    for _ in range(2):
        _ok("draft", "prompts/walks.md", cwd=workspace)
    _ok("plan", "prompts/walks.md", cwd=workspace)
    done = essay("regen", "prompts/walks.md", "-s", "2", *FAKE, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(Path("drafts/walks/v003.md"))
    v003 = workspace / "drafts" / "walks" / "v003.md"
    v003.write_text(
        v003.read_text().replace("<!-- section: a-walk-2 -->\n", "").replace("is about a walk.", "is mine.")
    )
    assert v003.read_text().count("## a walk\n") == 2 and v003.read_text().count("is mine.") == 2
    again = essay("regen", "prompts/walks.md", "-s", "2", *FAKE, cwd=workspace)  # its marker gone: the second heading
    assert again.returncode == 0, again.stderr
    assert (workspace / "drafts" / "walks" / "v004.md").read_text().count("is mine.") == 1


def test_after_a_point_is_added_to_the_plan_batch_drafts_that_essay_again(workspace: Path) -> None:
    first = essay("batch", *FAKE, cwd=workspace)
    assert first.returncode == 0, first.stderr
    assert essay("batch", *FAKE, cwd=workspace).stdout.count("up to date") == 2
    path = _plan(workspace)
    path.write_text(path.read_text().replace("## then the people\n", "## then the people\n\n- the potluck\n", 1))
    again = essay("batch", *FAKE, cwd=workspace)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("up to date") == 1  # compost's plan is unchanged
    assert (workspace / "drafts" / "garden" / "v002.md").is_file()
    assert not (workspace / "drafts" / "compost" / "v002.md").exists()


def _draft_year(workspace: Path) -> Path:
    write(workspace / "prompts" / "year.md", FOUR_SECTIONS)
    _ok("draft", "prompts/year.md", cwd=workspace)
    return workspace / "drafts" / "year" / "v001.md"


def test_a_footnote_at_the_end_of_the_draft_survives_regen_of_the_last_section(workspace: Path) -> None:
    v001 = _draft_year(workspace)
    text = v001.read_text()
    first_prose = text.index("\n\n", text.index("## start with the ground")) + 2
    text = text[:first_prose] + "the soil was clay[^clay]. " + text[first_prose:]
    v001.write_text(text.rstrip("\n") + "\n\n[^clay]: my soil test, april 2025, from the county lab.\n")
    regen = _ok("regen", "prompts/year.md", "-s", "4", cwd=workspace)
    assert "edits" not in regen  # the definition is carried, so no edit of the author's is replaced
    v002 = (workspace / "drafts" / "year" / "v002.md").read_text()
    assert "the soil was clay[^clay]." in v002
    assert v002.endswith("\n[^clay]: my soil test, april 2025, from the county lab.\n")
    assert v002.count("[^clay]:") == 1


def test_a_section_with_the_authors_own_subheading_regenerates_when_its_markers_are_intact(workspace: Path) -> None:
    v001 = _draft_year(workspace)
    text = v001.read_text()
    at = text.index("<!-- section: examine-the-harvest -->")
    v001.write_text(text[:at] + "## what the neighbours said\n\nthey loved the peas.\n\n" + text[at:])
    done = essay("regen", "prompts/year.md", "-s", "2", *FAKE, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert "what the neighbours said" not in (workspace / "drafts" / "year" / "v002.md").read_text()
    assert "what the neighbours said" in v001.read_text()  # the author's version keeps it


def test_a_crlf_draft_stays_crlf(workspace: Path) -> None:
    v001 = _draft_year(workspace)
    v001.write_bytes(v001.read_bytes().replace(b"\n", b"\r\n"))
    _ok("regen", "prompts/year.md", "-s", "2", cwd=workspace)
    v002 = (workspace / "drafts" / "year" / "v002.md").read_bytes()
    assert b"\r\n" in v002 and b"\n" not in v002.replace(b"\r\n", b"")
    before, after = v001.read_bytes().split(b"<!-- section: "), v002.split(b"<!-- section: ")
    assert [before[n] == after[n] for n in (1, 3, 4)] == [True, True, True]  # the other sections, byte for byte


EMOJI = """---
title: a garden
---

## 🌱
What grew?

## 🍂 autumn
What fell?
"""


def test_regen_finds_a_section_by_its_exact_emoji_title(workspace: Path) -> None:
    write(workspace / "prompts" / "emoji.md", EMOJI)
    _ok("draft", "prompts/emoji.md", cwd=workspace)
    for query, version in (("🌱", "v002"), ("🍂 autumn", "v003")):
        done = essay("regen", "prompts/emoji.md", "-s", query, *FAKE, cwd=workspace)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(Path(f"drafts/emoji/{version}.md"))


def test_a_renamed_prompt_keeps_its_plan_and_drafts_folder(workspace: Path) -> None:
    _ok("plan", "prompts/garden.md", cwd=workspace)
    path = _plan(workspace)
    path.write_text(path.read_text().replace("## then the people\n", "## then the people\n\n- the potluck\n", 1))
    (workspace / "prompts" / "garden.md").rename(workspace / "prompts" / "elm-street.md")
    done = essay("draft", "prompts/elm-street.md", *FAKE, cwd=workspace)
    assert done.returncode == 0, done.stderr
    folder = Path("drafts/garden")
    assert f"prompts/elm-street.md was prompts/garden.md: its plan and drafts in {folder} carry on" in done.stderr
    assert f"following {folder / 'plan.md'}: no sorting" in done.stderr and "the potluck" in _sent()
    assert done.stdout.strip() == str(folder / "v001.md") and not (workspace / "drafts" / "elm-street").exists()

    prompt = workspace / "prompts" / "elm-street.md"  # renamed again, and its instruction edited: the title holds
    prompt.write_text(prompt.read_text().replace("three seasons", "four seasons"))
    prompt.rename(workspace / "prompts" / "allotment.md")
    again = essay("draft", "prompts/allotment.md", *FAKE, cwd=workspace)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == str(folder / "v002.md")

    copy = workspace / "prompts" / "copy.md"  # a copy, its original still there: a folder of its own
    copy.write_bytes((workspace / "prompts" / "allotment.md").read_bytes())
    assert essay("draft", "prompts/copy.md", *FAKE, cwd=workspace).stdout.strip() == str(Path("drafts/copy/v001.md"))
