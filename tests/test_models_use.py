"""`essay models use NAME` writes the [llm] settings into essay.toml and keeps everything else; it trusts a server
on this machine only with --trust, and a remote service never."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pipeline.catalog.catalog import CATALOG, GB, best_fit
from pipeline.catalog.sorting import SORTING_WHEELS
from tests.conftest import essay, write
from tests.ollama_server import CLOUD, LOCAL, FakeOllama

REPO = Path(__file__).resolve().parent.parent
KEPT = """# my settings, with comments
[llm]
provider = "openai"   # was a hosted model
base_url = "http://127.0.0.1:8080/v1"
timeout = 300

[notes]
private = ["journal/*"]  # never leaves
"""


def test_use_writes_the_llm_settings_and_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    write(tmp_path / "essay.toml", KEPT)
    with FakeOllama() as server:
        done = essay("models", "use", f"ollama:{LOCAL}", cwd=tmp_path, env={"OLLAMA_HOST": server.host})
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "essay.toml").read_text()
    assert done.stdout == f'wrote to essay.toml:\n[llm]\nprovider = "ollama"\ntimeout = 300\nmodel = "{LOCAL}"\n'
    assert text.startswith('# my settings, with comments\n[llm]\nprovider = "ollama"\ntimeout = 300\n')
    assert 'private = ["journal/*"]  # never leaves' in text and "base_url" not in text
    assert done.stderr.strip() == (
        f"private notes are not sent to {server.url}: run `essay models use ollama:{LOCAL} --trust` to trust this "
        "server on this machine with them"
    )


def test_use_trust_lists_the_local_server_under_privacy_trusted(tmp_path: Path) -> None:
    with FakeOllama() as server:
        done = essay("models", "use", f"ollama:{LOCAL}", "--trust", cwd=tmp_path, env={"OLLAMA_HOST": server.host})
    assert done.returncode == 0, done.stderr
    settings = tomllib.loads((tmp_path / "essay.toml").read_text())
    assert settings["privacy"]["trusted"] == [server.url]
    assert done.stderr.strip() == f"{server.url} is trusted with private notes ([privacy] trusted)"


def test_use_never_trusts_a_cloud_model(tmp_path: Path) -> None:
    with FakeOllama() as server:
        refused = essay("models", "use", f"ollama:{CLOUD}", "--trust", cwd=tmp_path, env={"OLLAMA_HOST": server.host})
        plain = essay("models", "use", f"ollama:{CLOUD}", cwd=tmp_path, env={"OLLAMA_HOST": server.host})
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: ollama:{CLOUD} runs on Ollama's servers, not on this machine: `use --trust` trusts only servers "
        f'here. To send it private notes anyway, add "ollama:{CLOUD}" under [privacy] trusted in essay.toml yourself'
    )
    assert plain.returncode == 0
    assert (
        plain.stderr.strip()
        == f"ollama:{CLOUD} is a remote service (Ollama's servers): private notes are never sent to it"
    )
    assert "privacy" not in tomllib.loads((tmp_path / "essay.toml").read_text())


def test_use_of_a_model_not_pulled_says_how_to_pull_it(tmp_path: Path) -> None:
    done = essay("models", "use", "qwen2.5-7b", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: qwen2.5-7b is not pulled yet: run `essay models pull qwen2.5-7b` first"
    assert not (tmp_path / "essay.toml").exists()


def test_the_marked_recommendation_fits_the_memory() -> None:
    assert best_fit(1 * GB) is None
    assert best_fit(4 * GB).name == "qwen2.5-1.5b"
    assert best_fit(8 * GB).name == "qwen2.5-7b"  # 5.7 GB and 2 GB to spare; phi-3.5-mini needs more at 8k
    assert all(entry.licence in ("Apache-2.0", "MIT") and len(entry.sha256) == 64 for entry in CATALOG)
    assert len({entry.approx_size // GB for entry in CATALOG}) >= 3  # different sizes


def test_models_txt_lists_what_setup_installs() -> None:
    listed = [line.strip() for line in (REPO / "models.txt").read_text().splitlines() if line and line[0] != "#"]
    assert listed == list(SORTING_WHEELS)
