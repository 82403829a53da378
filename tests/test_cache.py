"""Answered calls are reused: a redraft sorts nothing again, a resumed run sends nothing again."""

from __future__ import annotations

from pathlib import Path

import frontmatter
import pytest

from pipeline.drafting.inputs import read_inputs
from pipeline.drafting.runner import draft_essay
from tests.conftest import essay, make_run, write
from tests.fake_server import FakeOpenAIServer
from tests.fakes import FakeLLM


def _draft(workspace: Path, llm: FakeLLM, cache: bool = True):
    with make_run(workspace, llm, cache=cache) as run:
        return draft_essay(run, read_inputs(run, workspace / "prompts" / "garden.md"))


def test_a_redraft_reuses_the_sort_but_writes_fresh_sections(workspace: Path) -> None:
    llm = FakeLLM()
    first = _draft(workspace, llm)
    calls_first = len(llm.history)
    second = _draft(workspace, llm)
    second_calls = llm.history[calls_first:]
    assert [c.schema is None for c in second_calls] == [True, True, True]  # three sections, no sorting call
    assert second.file.version == 2 and second.usage.calls == 3
    assert first.plan == second.plan


def test_a_resumed_run_of_the_same_version_sends_nothing(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    llm = FakeLLM()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if the run had been stopped just before writing v001

    with monkeypatch.context() as patch:
        patch.setattr("pipeline.drafting.runner.write_new_version", killed)
        with pytest.raises(KeyboardInterrupt):
            _draft(workspace, llm)
    sent = len(llm.history)
    resumed = _draft(workspace, llm)
    assert len(llm.history) == sent and resumed.usage.calls == 0
    assert resumed.file.path.name == "v001.md"


def test_a_deleted_draft_drafted_again_is_a_new_sample_not_the_cache(workspace: Path) -> None:
    llm = FakeLLM()
    first = _draft(workspace, llm)
    first.file.path.unlink()
    sent = len(llm.history)
    again = _draft(workspace, llm)
    assert again.file.path.name == "v001.md"
    assert len(llm.history) == sent + 3  # three sections written afresh; the sort is reused
    assert again.usage.calls == 3


def test_without_the_cache_every_prose_call_is_sent_and_the_plan_is_followed(workspace: Path) -> None:
    llm = FakeLLM()
    _draft(workspace, llm, cache=False)
    _draft(workspace, llm, cache=False)
    assert sum(c.schema is not None for c in llm.history) == 1  # the second draft follows plan.md
    assert sum(c.schema is None for c in llm.history) == 6


def test_each_draft_records_its_own_calls_tokens_and_time(workspace: Path) -> None:
    result = _draft(workspace, FakeLLM(), cache=False)
    post = frontmatter.load(result.file.path)
    assert post["calls"] == 4 and post["prompt_tokens"] > 0 and post["output_tokens"] > 0
    assert isinstance(post["seconds"], float)


def test_log_and_cost_show_the_calls(workspace: Path) -> None:
    write(workspace / "essay.toml", '[prices."house-model"]\ninput = 1.0\noutput = 2.0\n')
    with FakeOpenAIServer() as server:
        for model in ("gpt-4o-mini", "house-model", "mystery-model"):
            done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, "--model", model, cwd=workspace)
            assert done.returncode == 0, done.stderr
        again = essay(
            "draft", "prompts/garden.md", "--base-url", server.base_url, "--model", "gpt-4o-mini", cwd=workspace
        )
        assert again.returncode == 0
    log = essay("log", "-n", "50", cwd=workspace)
    assert log.returncode == 0
    rows = [line.split() for line in log.stdout.splitlines()[1:]]
    # the first draft sorted and wrote plan.md; the others follow it
    assert [r[3] for r in rows].count("sort") == 1 and [r[3] for r in rows].count("expand") == 12
    cost = essay("cost", "prompts/garden.md", cwd=workspace)
    assert cost.returncode == 0, cost.stderr
    lines = {line.split()[1]: line.split() for line in cost.stdout.splitlines()[1:]}
    assert lines["gpt-4o-mini"][2:4] == ["7", "0"]  # calls sent, cache hits
    assert lines["gpt-4o-mini"][-1].startswith("$") and lines["house-model"][-1].startswith("$")
    assert lines["mystery-model"][-1] == "?"
    assert 'no price known for mystery-model: set [prices."MODEL"]' in cost.stderr


def test_log_before_any_run_says_what_to_do(tmp_path: Path) -> None:
    done = essay("log", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: no calls logged in . yet: run `essay draft` there first"


def _open_store_after(barrier, path: str, out) -> None:  # type: ignore[no-untyped-def]
    from pipeline.models.cache import Store

    barrier.wait()
    try:
        store = Store(Path(path))
    except Exception as exc:  # reported to the test, not lost in the child
        out.put(repr(exc))
        return
    out.put(store.recovered)
    store.close()


@pytest.mark.parametrize("start", ["a file of the previous release", "no file yet"])
def test_runs_opening_the_state_at_the_same_moment_all_open_it_and_lose_nothing(tmp_path: Path, start: str) -> None:
    import multiprocessing
    import sqlite3

    from pipeline.models.cache import _MIGRATIONS

    path = tmp_path / "state.sqlite"
    if start == "a file of the previous release":
        old = sqlite3.connect(path, isolation_level=None)
        old.execute("pragma journal_mode=wal")
        for number, script in enumerate(_MIGRATIONS[:3], start=1):
            old.executescript(f"begin; {script}; pragma user_version = {number}; commit;")
        old.execute("insert into responses values ('k', 'kept answer', 1, 1, 'stop', 0)")
        old.close()
    spawn = multiprocessing.get_context("spawn")
    barrier, out = spawn.Barrier(3), spawn.Queue()
    runs = [spawn.Process(target=_open_store_after, args=(barrier, str(path), out)) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    assert [out.get(timeout=5) for _ in runs] == [None, None, None]  # none failed, none took the file for damaged
    kept = sqlite3.connect(path).execute("select text from responses").fetchall()
    assert kept == ([("kept answer",)] if start.startswith("a file") else [])
    assert not list(tmp_path.glob("*.damaged-*"))
