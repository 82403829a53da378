"""regen, versions and diff as a user runs them, against a loopback OpenAI-compatible server."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer
from tests.test_regen import FOUR_SECTIONS, SLUGS, _append_inside, _sections


def test_draft_edit_regen_versions_diff(workspace: Path) -> None:
    write(workspace / "prompts" / "year.md", FOUR_SECTIONS)
    v001 = workspace / "drafts" / "year" / "v001.md"
    with FakeOpenAIServer() as server:
        url = ("--base-url", server.base_url)
        assert essay("draft", "prompts/year.md", *url, cwd=workspace).returncode == 0
        _append_inside(v001, SLUGS[0], "\n\ni added this to section one.")
        _append_inside(v001, SLUGS[2], "\n\nand this to section three.")
        edited = v001.read_bytes()

        sent_before = len(server.requests)
        regen = essay("regen", "prompts/year.md", "--section", "2", *url, cwd=workspace)
        assert regen.returncode == 0, regen.stderr
        assert len(server.requests) - sent_before == 1  # one section, one call
        v002 = workspace / "drafts" / "year" / "v002.md"
        assert regen.stdout.strip() == str(Path("drafts/year/v002.md"))
        assert v001.read_bytes() == edited
        before, after = _sections(v001), _sections(v002)
        assert [after[s] == before[s] for s in SLUGS] == [True, False, True, True]

        by_word = essay("regen", "drafts/year", "--section", "people", *url, cwd=workspace)
        assert by_word.returncode == 0, by_word.stderr
        v003 = _sections(workspace / "drafts" / "year" / "v003.md")
        assert "i added this to section one." in v003[SLUGS[0]] and "and this to section three." in v003[SLUGS[2]]
        assert v003[SLUGS[1]] != after[SLUGS[1]]

        unknown = essay("regen", "prompts/year.md", "--section", "weather", *url, cwd=workspace)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: no section matches 'weather' in v003.md; its sections are:")
    assert "  2. Then the people  [then-the-people]" in unknown.stderr and "Traceback" not in unknown.stderr
    assert sorted(p.name for p in (workspace / "drafts" / "year").glob("v*.md")) == ["v001.md", "v002.md", "v003.md"]

    versions = essay("versions", "prompts/year.md", cwd=workspace)
    assert versions.returncode == 0, versions.stderr
    lines = versions.stdout.splitlines()
    assert [line[:4] for line in lines] == ["v001", "v002", "v003"]
    assert "draft" in lines[0] and lines[0].endswith("edited since")
    assert "regen of section 'then-the-people' from v002" in lines[2] and lines[2].endswith("as written")

    diff = essay("diff", "prompts/year.md", cwd=workspace)
    assert diff.returncode == 0
    assert diff.stdout.startswith("--- drafts/year/v002.md\n+++ drafts/year/v003.md\n")
    assert "\n+this part is about then the people. take" in diff.stdout
    assert "version:" not in diff.stdout  # the text, not the frontmatter

    nothing = essay("diff", "prompts/year.md", "1", "1", cwd=workspace)
    assert nothing.stdout.strip() == "the two versions are identical"


def test_regen_before_any_draft_says_what_to_do(workspace: Path) -> None:
    done = essay("regen", "prompts/garden.md", "--section", "1", cwd=workspace)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: no drafts in drafts/garden yet: run `essay draft PROMPT` first"
