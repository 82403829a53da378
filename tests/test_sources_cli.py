"""Every paragraph says where it came from; invented names and numbers are flagged, and `essay check` finds them."""

from __future__ import annotations

from pathlib import Path

from pipeline.write.sources import sourced_share, unresolved_links
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer

INVENTED = "Priya Raman said the budget was $250,000."


def test_an_inventing_model_is_caught_at_draft_time_and_by_check(workspace: Path) -> None:
    with FakeOpenAIServer(invent=INVENTED) as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert "claims need checking" in done.stderr
    checked = essay("check", "prompts/garden.md", cwd=workspace)
    assert checked.returncode == 1
    assert "priya raman" in checked.stdout.lower() and "$250,000" in checked.stdout
    draft = (workspace / "drafts" / "garden" / "v001.md").read_text()
    assert "==priya raman==^[check: not in your notes]" in draft  # visible in Obsidian, easy to delete


def test_every_draft_links_its_paragraphs_to_notes_that_exist(workspace: Path) -> None:
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert "claims need checking" not in done.stderr
    body = (workspace / "drafts" / "garden" / "v001.md").read_text().split("\n---\n", 1)[1]
    assert unresolved_links(body, workspace / "notes") == []
    assert sourced_share(body) >= 0.8
    checked = essay("check", "prompts/garden.md", cwd=workspace)
    assert checked.returncode == 0, checked.stdout


def test_footnotes_can_be_turned_off(workspace: Path) -> None:
    write(workspace / "essay.toml", "[draft]\nfootnotes = false\n")
    assert essay("draft", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    assert "[^" not in (workspace / "drafts" / "garden" / "v001.md").read_text()
