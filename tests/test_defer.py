"""`essay batch --defer` as a user runs it, against the loopback Batch API server, through the real openai SDK."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import frontmatter
import openai
import pytest

from pipeline.batch.defer_batch import digest
from pipeline.models import prices
from tests.batch_server import BatchServer, ManualClock
from tests.conftest import Ran, essay, write

SECRET = "the spare key to the tool shed is under the third flat stone"


@pytest.fixture
def ws(workspace: Path) -> Path:
    """The two-essay workspace, with a private note and a name to redact."""
    write(workspace / "notes" / "journal.md", f"---\nprivate: true\n---\n\n{SECRET}, said marguerite\n")
    write(workspace / "essay.toml", '[privacy]\nredact = ["marguerite"]\n')
    return workspace


def _drafts(ws: Path) -> list[str]:
    return sorted(str(p.relative_to(ws / "drafts")) for p in (ws / "drafts").rglob("v*.md"))


def _defer(ws: Path, server: BatchServer, *more: str) -> Ran:
    return essay("batch", "--defer", "--base-url", server.base_url, *more, cwd=ws)


def _ledger(ws: Path, where: str) -> list[str]:
    with sqlite3.connect(ws / ".essay" / "state.sqlite") as db:
        return [row[0] for row in db.execute(f"select custom_id from deferred_calls where {where}")]


def _assert_written(ws: Path) -> None:
    for name in ("garden", "compost"):
        post = frontmatter.load(ws / "drafts" / name / "v001.md")
        assert post["sections"] and all(s["fragments"] for s in post["sections"])
        assert post.content.count("answer to ") == len(post["sections"])  # every section from a batch answer


def test_defer_submits_returns_and_repeated_runs_write_both_drafts(ws: Path) -> None:
    with BatchServer(delay=2.0) as server:
        started = time.monotonic()
        first = _defer(ws, server)
        assert first.returncode == 0, first.stderr
        assert time.monotonic() - started < 30
        assert len(server.batches) == 1 and server.chat_calls == 0
        assert "pending: 2 essays (compost, garden)" in first.stdout and "essay batch --defer" in first.stdout
        assert _drafts(ws) == []
        runs = 1
        while _drafts(ws) != ["compost/v001.md", "garden/v001.md"] and runs < 6:
            time.sleep(2.2)
            again = _defer(ws, server)
            assert again.returncode == 0, again.stderr
            runs += 1
        assert _drafts(ws) == ["compost/v001.md", "garden/v001.md"] and runs == 3  # sort, sections, write
        _assert_written(ws)
        assert server.chat_calls == 0 and len(server.batches) == 2
        assert server.uploads and all(name.startswith("essay-") for name, _ in server.uploads)
        for _, data in server.uploads:  # privacy and redaction hold for batch files as for direct calls
            assert b"third flat stone" not in data and b"marguerite" not in data.lower()

        uploads = len(server.uploads)
        rerun = _defer(ws, server)
        assert rerun.returncode == 0 and rerun.stdout.count("up to date") == 2
        assert "nothing pending" in rerun.stdout
        assert _drafts(ws) == ["compost/v001.md", "garden/v001.md"] and len(server.uploads) == uploads
        cost = essay("cost", cwd=ws)
        assert "(batch)" in cost.stdout and server.chat_calls == 0


def test_a_failing_line_is_sent_again_then_fails_its_essay_only(ws: Path) -> None:
    clock = ManualClock()
    with BatchServer(clock, delay=10) as server:
        assert _defer(ws, server).returncode == 0  # the sort
        clock.advance(10)
        assert _defer(ws, server).returncode == 0  # the sections
        server.knobs.fail = set(_ledger(ws, "essay = 'compost' and stage = 'expand'"))
        assert server.knobs.fail
        clock.advance(10)
        third = _defer(ws, server)
        assert third.returncode == 0, third.stderr
        assert "compost: a expand call failed" in third.stderr and "it goes into a new batch" in third.stderr
        assert _drafts(ws) == ["garden/v001.md"]
        clock.advance(10)
        fourth = _defer(ws, server)
        assert fourth.returncode == 1  # compost fails, garden is untouched
        assert "compost fails this run" in fourth.stderr and "error: compost: the Batch API refused" in fourth.stderr
        assert "up to date" in fourth.stdout and _drafts(ws) == ["garden/v001.md"]
        server.knobs.fail = ()
        assert _defer(ws, server).returncode == 0  # tried once more, in a new batch
        clock.advance(10)
        assert _defer(ws, server).returncode == 0
        assert _drafts(ws) == ["compost/v001.md", "garden/v001.md"] and server.chat_calls == 0


def test_an_expired_batch_goes_again_or_directly_when_asked(ws: Path) -> None:
    clock = ManualClock()
    with BatchServer(clock, delay=10, expire=True, partial=0.5) as server:
        assert _defer(ws, server).returncode == 0  # two sort calls
        clock.advance(10)
        second = _defer(ws, server)
        assert "expired: 1 of 2 answers collected" in second.stderr
        assert "1 calls were not run" in second.stderr and "they go into a new batch" in second.stderr
        created = server.batches[list(server.batches)[-1]].lines
        assert len(created) > 1  # one essay's sections, and the other's sort again
        clock.advance(10)
        third = _defer(ws, server, "--direct-retry")
        assert "they are sent directly now" in third.stderr
        assert server.chat_calls > 0  # what the expired batch left unrun went directly
        server.knobs.expire = False
        for _ in range(3):
            clock.advance(10)
            assert _defer(ws, server).returncode == 0
        assert _drafts(ws) == ["compost/v001.md", "garden/v001.md"]


def test_killed_between_upload_and_create_the_rerun_submits_once(ws: Path, monkeypatch) -> None:
    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with BatchServer(ManualClock(), delay=10) as server:
        with monkeypatch.context() as patch:  # undone alone: the suite's own patches stay
            patch.setattr(openai.resources.batches.Batches, "create", killed)
            assert _defer(ws, server).returncode == 130
        assert len(server.uploads) == 1 and not server.batches
        again = _defer(ws, server)
        assert again.returncode == 0, again.stderr
        assert len(server.uploads) == 1 and len(server.batches) == 1  # the same file, and its calls not kept again
        third = _defer(ws, server)  # still running: its calls are neither kept again nor sent
        assert "still running at the provider (2 calls)" in third.stderr and "pending: 2 essays" in third.stdout
        assert len(server.uploads) == 1 and len(server.batches) == 1 and server.chat_calls == 0


def test_a_plain_batch_collects_first_then_sends_the_rest_directly(ws: Path) -> None:
    clock = ManualClock()
    with BatchServer(clock, delay=10) as server:
        assert _defer(ws, server).returncode == 0
        clock.advance(10)
        plain = essay("batch", "--base-url", server.base_url, cwd=ws)
        assert plain.returncode == 0, plain.stderr
        assert "completed: 2 of 2 answers collected" in plain.stderr
        assert _drafts(ws) == ["compost/v001.md", "garden/v001.md"]
        assert server.chat_calls == 5  # the sections only: both sorts came from the batch


def test_dry_run_shows_what_would_be_submitted_and_sends_nothing(ws: Path) -> None:
    with BatchServer(ManualClock()) as server:
        shown = _defer(ws, server, "--dry-run")
        assert shown.returncode == 0, shown.stderr
        assert "nothing is sent" in shown.stdout
        assert "garden: about 4 calls (1 to sort first, then the sections)" in shown.stdout
        assert "private notes kept on this machine, in no batch file: journal.md" in shown.stdout
        assert server.calls == [] and not (ws / "drafts").exists()


def test_defer_needs_a_batch_api(ws: Path) -> None:
    local = essay("batch", "--defer", "--provider", "fake", cwd=ws)
    assert local.returncode == 2 and "--defer needs a Batch API" in local.stderr
    assert len(local.stderr.strip().splitlines()) == 1
    alone = essay("batch", "--dry-run", "--provider", "fake", cwd=ws)
    assert alone.returncode == 2 and "go with --defer" in alone.stderr
    with BatchServer(batch_api=False) as server:
        none = _defer(ws, server)
        assert none.returncode == 1 and "has no Batch API (404): run without --defer" in none.stderr


def test_batch_calls_cost_half() -> None:
    full = prices.cost("openai", "gpt-4o-mini", 1_000_000, 1_000_000, {})
    assert prices.cost("openai", "gpt-4o-mini", 1_000_000, 1_000_000, {}, batch=True) == pytest.approx(full / 2)


def test_digest_matches_what_submit_records(tmp_path: Path) -> None:
    from openai import OpenAI

    from pipeline.batch.batch_api import BatchLine, SubmissionRecord, submit

    lines = [BatchLine("a", {"model": "m", "messages": [{"role": "user", "content": "hi"}]})]
    with BatchServer(ManualClock()) as server, sqlite3.connect(tmp_path / "s.sqlite") as db:
        record = SubmissionRecord(db)
        submit(OpenAI(base_url=server.base_url, api_key="k", max_retries=0), lines, record)
        assert record.pending()[0].digest == digest(lines)
