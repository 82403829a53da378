"""essay batch as a user runs it: many prompts, skips what is up to date, isolates failures, resumes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import frontmatter
import pytest

from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer

NARROW_PROMPT = """---
title: people only
essay-notes: ["people.md"]
---

## who comes
Who shows up?
"""


@pytest.fixture
def batch_workspace(workspace: Path) -> Path:
    write(workspace / "prompts" / "people.md", NARROW_PROMPT)
    write(workspace / "prompts" / "broken.md", "no sections in this one, just words\n")
    return workspace


def _batch_answered(workspace: Path, server: FakeOpenAIServer, *, jobs: int, answered: int) -> subprocess.Popen[str]:
    """`essay batch` started in the background, once the server has had `answered` requests."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    run = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "batch", "--jobs", str(jobs), "--base-url", server.base_url],
        cwd=workspace,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(server.requests) < answered and time.monotonic() < deadline:
        time.sleep(0.02)
    return run


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("v*.md") if p.is_file())


def test_batch_isolates_a_bad_prompt_skips_what_is_up_to_date_and_redrafts_on_change(batch_workspace: Path) -> None:
    ws = batch_workspace
    with FakeOpenAIServer() as server:
        url = ("--base-url", server.base_url)
        first = essay("batch", *url, cwd=ws)
        assert first.returncode == 1, first.stderr
        assert "broken" in first.stdout and "has no sections" in first.stderr
        assert _files(ws / "drafts") == ["compost/v001.md", "garden/v001.md", "people/v001.md"]

        (ws / "prompts" / "broken.md").unlink()
        sent = len(server.requests)
        again = essay("batch", *url, cwd=ws)
        assert again.returncode == 0, again.stderr
        assert len(server.requests) == sent  # zero calls
        assert _files(ws / "drafts") == ["compost/v001.md", "garden/v001.md", "people/v001.md"]
        assert again.stdout.count("up to date") == 3

        note = ws / "notes" / "groceries.md"
        note.write_text(note.read_text() + "\nand string for the tomatoes\n")
        changed = essay("batch", *url, cwd=ws)
        assert changed.returncode == 0, changed.stderr
        # garden and compost read every note; people reads only people.md, which did not change
        assert _files(ws / "drafts") == [
            "compost/v001.md",
            "compost/v002.md",
            "garden/v001.md",
            "garden/v002.md",
            "people/v001.md",
        ]

        forced = essay("batch", "--force", "--prompts", "prompts", *url, cwd=ws)
        assert forced.returncode == 0
        assert "people/v002.md" in _files(ws / "drafts")


def test_prompt_frontmatter_narrows_the_notes(batch_workspace: Path) -> None:
    with FakeOpenAIServer() as server:
        done = essay("batch", "--base-url", server.base_url, cwd=batch_workspace)
    assert done.returncode == 1
    post = frontmatter.load(batch_workspace / "drafts" / "people" / "v001.md")
    assert {n for s in post["sections"] for n in s["notes"]} == {"people.md"}


@pytest.mark.parametrize("settings", ["", "[llm]\nslots = 4\n"], ids=["calls-share-the-notes", "each-its-own-notes"])
def test_batch_killed_mid_run_resumes_without_duplicates_or_leftovers(workspace: Path, settings: str) -> None:
    write(workspace / "essay.toml", settings)  # a server on this machine: unset, every call opens with the notes
    for n in range(6):
        write(workspace / "prompts" / f"essay{n}.md", f"## part one of {n}\nfirst?\n\n## part two of {n}\nsecond?\n")
    for name in ("garden.md", "compost.md"):
        (workspace / "prompts" / name).unlink()
    with FakeOpenAIServer(latency=0.15) as server:
        run = _batch_answered(workspace, server, jobs=2, answered=8)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        with sqlite3.connect(workspace / ".essay" / "state.sqlite") as db:
            stored = db.execute("select count(*) from responses").fetchone()[0]
        before_rerun = len(server.requests)
        rerun = essay("batch", "--jobs", "2", "--base-url", server.base_url, cwd=workspace)
        resent = len(server.requests) - before_rerun
    assert rerun.returncode == 0, rerun.stderr
    assert _files(workspace / "drafts") == [f"essay{n}/v001.md" for n in range(6)]
    needed = 0
    for n in range(6):
        post = frontmatter.load(workspace / "drafts" / f"essay{n}" / "v001.md")
        assert [s["slug"] for s in post["sections"]] == [f"part-one-of-{n}", f"part-two-of-{n}"]
        needed += 1 + sum(1 for s in post["sections"] if s["fragments"])
    assert stored > 0 and resent == needed - stored  # what was answered before the kill was not sent again
    assert not any((workspace / ".essay" / "tmp").glob("*"))


def test_batch_progress_is_plain_lines_off_a_terminal(workspace: Path) -> None:
    with FakeOpenAIServer() as server:
        done = essay("batch", "--base-url", server.base_url, cwd=workspace)
    assert done.returncode == 0
    assert "garden: reading notes" in done.stderr and "garden: drafted v001" in done.stderr
    assert "\x1b[" not in done.stderr


def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(workspace: Path) -> None:
    for n in range(4):
        write(workspace / "prompts" / f"essay{n}.md", f"## one {n}\nfirst?\n\n## two {n}\nsecond?\n")
    with FakeOpenAIServer(hold_after=4) as server:
        run = _batch_answered(workspace, server, jobs=1, answered=5)  # four answered, the fifth held
        run.send_signal(signal.SIGINT)
        time.sleep(2)  # the signal lands while the fifth call is certainly still held (it waits for `release`)
        server.release.set()
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 130
        assert "interrupted: nothing half-written was left; finished drafts are kept" in stderr
        assert "Traceback" not in stderr
        assert all(name.endswith("/v001.md") for name in _files(workspace / "drafts"))
        rerun = essay("batch", "--base-url", server.base_url, cwd=workspace)
    assert rerun.returncode == 0
    assert len(_files(workspace / "drafts")) == 6
