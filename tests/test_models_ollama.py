"""Ollama as a first-class local server, against a loopback stand-in (OLLAMA_HOST) whose default window is small
and which cuts a longer prompt from the front without an error, as the real one does."""

from __future__ import annotations

from pathlib import Path

import frontmatter
import pytest

from tests.conftest import essay, write
from tests.ollama_server import CLOUD, LOCAL, FakeOllama

SECRET = "kestrel's offer is 180k and dana leaves in june"


def _big_vault(root: Path, notes: int = 40) -> None:
    """Notes whose sections' requests are longer than the stand-in's default window of 2,048 tokens."""
    topics = ["the soil and the beds", "the people who came and went", "what to do next spring"]
    for n in range(notes):
        topic = topics[n % 3]
        text = " ".join(f"in week {n} i wrote about {topic}, line {k}, and what it taught me." for k in range(12))
        write(root / "notes" / f"week-{n:02d}.md", text + "\n")


def test_models_lists_the_local_and_the_cloud_model_and_says_which_is_remote(tmp_path: Path) -> None:
    with FakeOllama() as server:
        done = essay("models", cwd=tmp_path, env={"OLLAMA_HOST": server.host})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[2:4] == [
        f"  ollama:{LOCAL}         a server on this machine   2.0 GB  16,384 tokens",
        f"  ollama:{CLOUD}  a remote service                -  16,384 tokens   "
        "runs on Ollama's servers: never sent private notes unless trusted",
    ]


def test_nothing_is_listed_for_a_server_that_does_not_answer(tmp_path: Path) -> None:
    with FakeOllama() as server:
        host = server.host
    done = essay("models", cwd=tmp_path, env={"OLLAMA_HOST": host})
    assert done.returncode == 0
    assert "ollama:" not in done.stdout


def test_every_request_runs_at_a_window_that_holds_it(workspace: Path) -> None:
    _big_vault(workspace)
    with FakeOllama(default_window=2048) as server:
        done = essay("draft", "prompts/garden.md", "--model", f"ollama:{LOCAL}", cwd=workspace,
                     env={"OLLAMA_HOST": server.host})  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = server.requests
    assert seen and {r.route for r in seen} == {"/api/chat"}
    assert max(r.prompt_tokens for r in seen) > server.default_window  # the requests need more than the default
    assert [r for r in seen if r.cut or r.prompt_tokens > r.window] == []
    assert {r.window for r in seen} == {16_384}  # one window: Ollama reloads a model when num_ctx changes
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    assert (post["provider"], post["model"]) == ("ollama", LOCAL)


def test_ollama_named_by_base_url_is_reached_through_its_native_api(workspace: Path) -> None:
    _big_vault(workspace)
    with FakeOllama(default_window=2048) as server:
        done = essay("draft", "prompts/garden.md", "--base-url", f"{server.url}/v1", "--model", LOCAL, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert {r.route for r in server.requests} == {"/api/chat"}
    assert [r for r in server.requests if r.cut] == []
    assert frontmatter.load(workspace / "drafts" / "garden" / "v001.md")["provider"] == "ollama"


def test_the_same_vault_through_v1_would_be_cut(workspace: Path) -> None:
    """The stand-in catches what the tests above guard against: Ollama's /v1 runs at its default window (here
    behind something that hides /api/version, so essay cannot tell it is Ollama)."""
    _big_vault(workspace)
    with FakeOllama(default_window=2048, version=False) as server:
        done = essay("draft", "prompts/garden.md", "--base-url", f"{server.url}/v1", "--model", LOCAL, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert any(r.cut for r in server.requests)


def _private_workspace(root: Path, trusted: str) -> None:
    write(root / "essay.toml", f'[privacy]\ntrusted = ["{trusted}"]\n')
    write(root / "notes" / "journal.md", f"---\nprivate: true\n---\n\n{SECRET}. the garden kept me sane.\n")


def test_a_private_note_never_reaches_the_cloud_model_even_with_the_local_server_trusted(workspace: Path) -> None:
    with FakeOllama() as server:
        _private_workspace(workspace, server.url)
        done = essay("draft", "prompts/garden.md", "--model", f"ollama:{CLOUD}", cwd=workspace,
                     env={"OLLAMA_HOST": server.host})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert server.requests and {r.model for r in server.requests} == {CLOUD}
    assert [r for r in server.requests if "kestrel" in r.text.lower()] == []
    assert f"1 private note(s) stay on this machine, not sent to ollama:{CLOUD}" in done.stderr


def test_the_trusted_local_model_does_get_the_private_note(workspace: Path) -> None:
    """The control for the test above: the same note reaches a server on this machine that is trusted."""
    with FakeOllama() as server:
        _private_workspace(workspace, server.url)
        done = essay("draft", "prompts/garden.md", "--model", f"ollama:{LOCAL}", cwd=workspace,
                     env={"OLLAMA_HOST": server.host})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert any("kestrel" in r.text.lower() for r in server.requests)


def test_a_model_ollama_does_not_have_is_one_line(workspace: Path) -> None:
    with FakeOllama() as server:
        done = essay("draft", "prompts/garden.md", "--model", "ollama:nope:7b", cwd=workspace,
                     env={"OLLAMA_HOST": server.host})  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: Ollama at {server.url} has no model 'nope:7b': run `ollama pull nope:7b`, or see `essay models`"
    )


def test_a_draft_on_the_bundled_model_says_what_it_is_and_names_a_real_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.catalog.catalog import best_fit, machine_memory
    from pipeline.cli.models import bundled_notice
    from pipeline.models.providers.local import LocalLlama

    fit = best_fit(machine_memory())
    assert fit is not None
    expected = (
        f"the bundled 135M model's prose is a smoke test, not a draft: `essay models pull {fit.name}` gets a real one"
    )
    with FakeOllama() as server:
        monkeypatch.setenv("OLLAMA_HOST", server.host)
        assert (
            bundled_notice(LocalLlama()) == f"{expected}, or use Ollama's: --model ollama:{LOCAL}"
        )  # not the cloud one
    assert bundled_notice(LocalLlama()) == expected  # no Ollama answers there now
    assert bundled_notice(FakeLLMLike()) is None


class FakeLLMLike:
    provider, model, bundled = "fake", "fake-model", False


def test_an_unknown_model_name_says_where_to_look(workspace: Path) -> None:
    done = essay("draft", "prompts/garden.md", "--model", "qwen2.5-7b", cwd=workspace)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: no model named 'qwen2.5-7b' here: `essay models` lists what this machine has, and what "
        "`essay models pull NAME` gets"
    )


def test_a_llama_cpp_server_in_essay_toml_and_lm_studio_are_listed(tmp_path: Path) -> None:
    from pipeline.catalog.discover import lmstudio_models
    from tests.fake_server import FakeOpenAIServer

    props = {"total_slots": 1, "default_generation_settings": {"n_ctx": 8192}, "model_path": "/m/qwen-7b.gguf"}
    with FakeOpenAIServer(props=props) as server:
        write(tmp_path / "essay.toml", f'[llm]\nbase_url = "{server.base_url}"\n')
        done = essay("models", cwd=tmp_path, env={"OLLAMA_HOST": "127.0.0.1:9"})
    assert f"  qwen-7b.gguf  a server on this machine        -  8,192 tokens    {server.base_url}" in done.stdout
    assert lmstudio_models("http://127.0.0.1:9/v1") == []  # nothing answers: nothing listed


def test_ollama_not_running_is_one_line(workspace: Path) -> None:
    with FakeOllama() as server:
        host = server.host  # closed once the block ends
    done = essay("draft", "prompts/garden.md", "--model", f"ollama:{LOCAL}", cwd=workspace, env={"OLLAMA_HOST": host})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: cannot reach Ollama at http://{host} (ConnectError): start it (`ollama serve`), or set OLLAMA_HOST "
        "to where it listens"
    )
