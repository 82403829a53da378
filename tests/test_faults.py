"""Endpoints that rate-limit, fail, time out and answer garbage; notes and keys that must not leak.

The real openai SDK talks over HTTP to a loopback server that injects the faults.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import frontmatter
import pytest

from pipeline.collect.notes import collect_notes
from pipeline.collect.prompt import parse_prompt
from pipeline.core.errors import ContextTooLong
from pipeline.drafting.inputs import read_inputs
from pipeline.files.drafts import write_new_version
from pipeline.models.providers import openai_chat
from pipeline.models.redact import RedactingModel
from pipeline.sort.assign import assign_fragments
from pipeline.write.expand import expand_section
from tests.conftest import essay, make_run, write
from tests.fake_server import FakeOpenAIServer
from tests.fakes import FakeLLM

KEY = "sk-test-Zq81UNIQUEsecretKEY"


def _no_drafts(workspace: Path) -> bool:
    return not (workspace / "drafts").exists() or not any((workspace / "drafts").rglob("*.md"))


def test_draft_completes_through_429s_500s_and_broken_answers(workspace: Path) -> None:
    faults = ["429", "429", "500", "500", "badbody", "badjson", "think", "length", "empty"]
    with FakeOpenAIServer(faults=faults) as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
    assert done.returncode == 0, done.stderr
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    assert all(s["fragments"] for s in post["sections"])  # the broken assignment was repaired or re-asked
    assert "let me plan" not in post.content and "<think>" not in post.content
    assert "cut off in the mid" not in post.content  # the unfinished sentence was dropped
    assert "Traceback" not in done.stderr


def test_always_401_fails_at_once_with_one_line_about_the_key(workspace: Path) -> None:
    with FakeOpenAIServer(always="401") as server:
        done = essay(
            "draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace, env={"OPENAI_API_KEY": KEY}
        )
        sent = len(server.requests)
    assert done.returncode == 1 and sent == 1  # no retry: a retry cannot fix a bad key
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {server.base_url} refused the API key (401): set OPENAI_API_KEY to a valid key"]
    assert done.stderr.rstrip().endswith(errors[0])
    assert "Traceback" not in done.stderr
    assert _no_drafts(workspace)


class FakeClock:
    """Time that passes only when the retry loop waits: retry tests need not really wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_always_500_gives_up_within_the_timeout_attempts_included(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(openai_chat, "clock", clock.monotonic)
    monkeypatch.setattr(openai_chat, "sleep", clock.sleep)
    write(workspace / "essay.toml", "[llm]\ntimeout = 30\n")
    with FakeOpenAIServer(always="500-bare") as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        sent = len(server.requests)
    assert clock.now - 1000.0 <= 30  # every wait fitted in the one bound the settings give a call
    assert done.returncode == 1 and 2 < sent <= 8
    assert "answered HTTP 500, after retries" in done.stderr and "Traceback" not in done.stderr
    assert _no_drafts(workspace)
    assert not any((workspace / ".essay" / "tmp").glob("*"))


def test_the_api_key_appears_in_no_file_and_no_output(workspace: Path) -> None:
    env = {"OPENAI_API_KEY": KEY}
    with FakeOpenAIServer(faults=["429", "500"]) as server:
        ok = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace, env=env)
        dry = essay("draft", "prompts/garden.md", "--dry-run", "--base-url", server.base_url, cwd=workspace, env=env)
    with FakeOpenAIServer(always="401") as server:  # a careless server that echoes the key it was sent
        refused = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace, env=env)
    assert ok.returncode == 0 and refused.returncode == 1
    for run in (ok, dry, refused):
        assert KEY not in run.stdout + run.stderr
    for path in workspace.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_redacted_terms_never_reach_the_endpoint_and_come_back_in_the_draft(workspace: Path) -> None:
    write(workspace / "essay.toml", '[privacy]\nredact = ["marguerite", "Elm Street"]\n')
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        sent = str(server.requests).lower()
    assert done.returncode == 0, done.stderr
    assert "marguerite" not in sent and "elm street" not in sent and "redacted-" in sent


def test_redaction_restores_what_the_model_wrote() -> None:
    inner = FakeLLM().enqueue("I Thanked Redacted-1 at redacted-2 and REDACTED-9.")
    model = RedactingModel(inner, ["Dana", "kestrel"])
    reply = model.complete([{"role": "user", "content": "dana fixed Kestrel; dana's build"}])
    assert inner.history[0].messages[0]["content"] == "Redacted-2 fixed Redacted-1; Redacted-2's build"
    assert reply.text == "I Thanked kestrel at Dana and REDACTED-9."


def test_dry_run_lists_every_note_that_would_leave_and_where(workspace: Path) -> None:
    write(workspace / "notes" / "salary.md", "---\nprivate: true\n---\n\nthe raise\n")
    done = essay("draft", "prompts/garden.md", "--dry-run", "--base-url", "http://127.0.0.1:9/v1", cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert "these 5 notes would be sent to http://127.0.0.1:9/v1:" in done.stdout
    assert "  people.md" in done.stdout and "private, kept on this machine: salary.md" in done.stdout
    local = essay("draft", "prompts/garden.md", "--dry-run", cwd=workspace)
    assert "nothing leaves this machine" in local.stdout


class _SmallWindow(FakeLLM):
    """A model whose real window is smaller than it claims: more than `limit` fragments overflow it."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def complete(self, messages, **kwargs):  # type: ignore[no-untyped-def]
        text = "".join(m["content"] for m in messages)
        if len(re.findall(r"\n\[f?\d+\]", text)) > self.limit or text.count("\n--- ") > self.limit:
            self.history.append(None)  # type: ignore[arg-type]
            raise ContextTooLong("too long")
        return super().complete(messages, **kwargs)


def test_context_overflow_splits_the_work_and_tries_again(workspace: Path) -> None:
    prompt = parse_prompt(workspace / "prompts" / "garden.md")
    fragments = collect_notes(workspace / "notes").fragments
    llm = _SmallWindow(limit=3)
    plan = assign_fragments(prompt, fragments, llm)
    assert not plan.unused and sum(len(v) for v in plan.sections.values()) == len(fragments)
    section = expand_section(prompt, prompt.sections[0], fragments, llm)
    sent_notes = {f.note_path for f in fragments if f.id in section.fragment_ids}
    assert 0 < len(sent_notes) <= 3 and len(section.fragment_ids) < len(fragments)


def test_a_write_killed_midway_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, scratch = tmp_path / "drafts" / "essay", tmp_path / ".essay" / "tmp"

    def dies(_descriptor: int) -> None:
        raise KeyboardInterrupt  # as if the run were stopped between writing and publishing

    monkeypatch.setattr(os, "fsync", dies)
    with pytest.raises(KeyboardInterrupt):
        write_new_version(folder, lambda v: "a whole draft\n" * 1000, temp_dir=scratch)
    assert list(folder.iterdir()) == [] and list(scratch.iterdir()) == []


def test_the_local_model_reads_private_notes(workspace: Path) -> None:
    write(workspace / "notes" / "secret.md", "---\nprivate: true\n---\n\ncodename osprey\n")
    with make_run(workspace, FakeLLM()) as run:  # in-process, like the local provider: nothing leaves the machine
        inputs = read_inputs(run, workspace / "prompts" / "garden.md")
    assert any("osprey" in f.text for f in inputs.fragments) and inputs.withheld_private == ()
