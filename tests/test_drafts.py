import os
import threading
from pathlib import Path

import frontmatter
import pytest

from pipeline.core.errors import DraftError
from pipeline.drafting.inputs import read_inputs
from pipeline.drafting.runner import draft_essay
from pipeline.files.drafts import essay_dir, list_versions, write_new_version
from tests.conftest import make_run
from tests.fakes import FakeLLM


def _draft(workspace: Path, llm: FakeLLM, prompt: str = "garden.md"):
    with make_run(workspace, llm) as run:
        return draft_essay(run, read_inputs(run, workspace / "prompts" / prompt))


def test_draft_file_has_sections_in_order_with_markers_and_provenance(workspace: Path, fake_llm: FakeLLM) -> None:
    result = _draft(workspace, fake_llm)
    assert result.file.path == workspace / "drafts" / "garden" / "v001.md"
    post = frontmatter.load(result.file.path)
    assert post["title"] == "what running a community garden taught me"
    assert post["version"] == 1 and post["provider"] == "fake" and post["model"] == "fake-model"
    assert len(post["input_hash"]) == 16
    slugs = [s["slug"] for s in post["sections"]]
    assert slugs == ["start-with-the-ground", "then-the-people", "finally-look-forward"]
    used_notes = {n for s in post["sections"] for n in s["notes"]}
    assert used_notes <= {"2025-04-02.md", "2025-06-19.md", "people.md", "links.md", "groceries.md"}
    assert used_notes and all(s["fragments"] for s in post["sections"])
    body = post.content
    positions = [body.index(f"<!-- section: {slug} -->\n## ") for slug in slugs]
    assert positions == sorted(positions)
    assert "## start with the ground" in body


def test_second_draft_is_v002_and_v001_is_untouched(workspace: Path, fake_llm: FakeLLM) -> None:
    first = _draft(workspace, fake_llm)
    before = first.file.path.read_bytes()
    second = _draft(workspace, fake_llm)
    assert second.file.path.name == "v002.md" and second.file.version == 2
    assert first.file.path.read_bytes() == before
    assert [d.version for d in list_versions(first.file.path.parent)] == [1, 2]


def test_concurrent_writers_never_share_a_version(tmp_path: Path) -> None:
    folder = tmp_path / "essay"
    results = []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        results.append(write_new_version(folder, lambda v: f"writer {n} version {v}\n"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.version for r in results) == list(range(1, 9))
    for r in results:
        assert r.path.read_text().endswith(f"version {r.version}\n")
    assert sorted(p.name for p in folder.iterdir()) == [f"v{n:03d}.md" for n in range(1, 9)]


def test_temp_files_of_dead_runs_are_swept(tmp_path: Path) -> None:
    folder = tmp_path / "essay"
    folder.mkdir()
    dead_pid = 2**22 + 12345  # above any pid this machine hands out
    stale = folder / f".v001.md.{dead_pid}.1a2b3c4d.tmp"
    stale.write_text("half a draft")
    written = write_new_version(folder, lambda v: "whole\n")
    assert not stale.exists() and written.path.name == "v001.md"


def test_drafts_folder_cannot_be_redirected_outside_by_a_symlink(tmp_path: Path) -> None:
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, drafts / "garden")
    with pytest.raises(DraftError, match="outside"):
        essay_dir(drafts, Path("prompts/garden.md"), tmp_path)


def test_prompt_name_cannot_escape_the_drafts_folder(tmp_path: Path) -> None:
    assert essay_dir(tmp_path, Path("../../..%2Fetc.md"), tmp_path) == tmp_path / "2fetc"
