"""`essay models pull` against a loopback stand-in for the Hub (HF_ENDPOINT) serving the bundled SmolLM2 GGUF:
resumed after kill -9, verified against the published sha256, installed only when whole; then used to draft."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import frontmatter
import pytest

from pipeline.core.config import Settings
from pipeline.models.providers import make_model
from pipeline.models.providers.local import bundled_model_path
from tests.conftest import essay
from tests.hub_server import FakeHub, file_sha256

GGUF = bundled_model_path()
REPO, FILE = "essay-test/SmolLM2-GGUF", GGUF.name
SPEC = f"hf:{REPO}/{FILE}"
NAME = "smollm2-135m-instruct.q4_1"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """essay's cache in a folder of the test's own, for this process and the ones it starts (XDG_CACHE_HOME)."""
    root = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("pipeline.models.pulled.cache_root", lambda: root / "essay")
    return root / "essay" / "models"


def _env(hub_url: str) -> dict[str, str]:
    return {"HF_ENDPOINT": hub_url, "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}


def _listed(cwd: Path, env: dict[str, str]) -> list[str]:
    done = essay("models", cwd=cwd, env=env | {"OLLAMA_HOST": _closed_port()})
    assert done.returncode == 0, done.stderr
    return [line.split()[0] for line in done.stdout.splitlines()[1:] if line.startswith("  ")]


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_a_pull_killed_part_way_lists_nothing_and_the_next_fetches_only_the_rest(cache: Path, tmp_path: Path) -> None:
    size = GGUF.stat().st_size
    part = cache / ".partial" / f"{NAME}.gguf.part"
    with FakeHub({f"{REPO}/{FILE}": GGUF}, throttle=0.01) as hub:
        env = _env(hub.url)
        pulling = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "models", "pull", SPEC],
            env=os.environ | env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not (part.is_file() and part.stat().st_size >= 4 << 20):  # wait for the state, not for a time
            assert pulling.poll() is None and time.monotonic() < deadline, "the pull ended before 4 MB arrived"
            time.sleep(0.05)
        os.kill(pulling.pid, signal.SIGKILL)
        pulling.wait()
        kept = part.stat().st_size
        assert 4 << 20 <= kept < size
        assert NAME not in _listed(tmp_path, env)
        assert not (cache / f"{NAME}.gguf").exists()

        hub.throttle = 0.0
        served_before = hub.served
        done = essay("models", "pull", SPEC, cwd=tmp_path, env=env)
        fetched = hub.served - served_before
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == NAME
    assert f"resuming: {kept / 1e6:.1f} MB of {size / 1e6:.1f} MB already downloaded" in done.stderr
    assert hub.ranges[-1] == kept  # a Range request from the bytes on disk
    assert fetched == size - kept < size
    assert file_sha256(cache / f"{NAME}.gguf") == file_sha256(GGUF)
    assert NAME in _listed(tmp_path, env)
    assert not part.exists()


def test_bytes_that_do_not_match_the_published_sha256_install_nothing(cache: Path, tmp_path: Path) -> None:
    data = bytearray(GGUF.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the byte the stand-in flips
    import hashlib

    got, expected = hashlib.sha256(bytes(data)).hexdigest(), file_sha256(GGUF)
    with FakeHub({f"{REPO}/{FILE}": GGUF}, corrupt=True) as hub:
        done = essay("models", "pull", SPEC, cwd=tmp_path, env=_env(hub.url))
        assert NAME not in _listed(tmp_path, _env(hub.url))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"error: {REPO}/{FILE} does not match its published sha256 (expected {expected[:12]}…, got {got[:12]}…): "
        "the download was deleted and nothing installed; run the pull again"
    )
    assert list(cache.rglob("*.gguf*")) == []


def test_a_dropped_connection_is_resumed_in_the_same_run(cache: Path, tmp_path: Path) -> None:
    with FakeHub({f"{REPO}/{FILE}": GGUF}) as hub:
        hub.drop_after = 3 << 20
        done = essay("models", "pull", SPEC, cwd=tmp_path, env=_env(hub.url))
    assert done.returncode == 0, done.stderr
    assert hub.ranges[0] == 0 and hub.ranges[1] >= 3 << 20  # the second request asked for the rest only
    assert hub.served == GGUF.stat().st_size
    assert "the connection dropped (RemoteProtocolError): resuming" in done.stderr


def test_no_hub_access_is_one_line_that_points_elsewhere(cache: Path, tmp_path: Path) -> None:
    dead = f"http://{_closed_port()}"
    done = essay("models", "pull", "qwen2.5-1.5b", cwd=tmp_path, env={"HF_ENDPOINT": dead})
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: cannot reach the Hugging Face Hub at {dead} (ConnectError): check the connection or HF_ENDPOINT; a "
        "GGUF file you have works as --model PATH.gguf, and a running Ollama's models as --model ollama:NAME"
    )


def test_a_full_disk_is_said_before_any_byte_is_fetched(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("pipeline.catalog.download.shutil.disk_usage", lambda path: usage(10**9, 10**9, 10**6))
    with FakeHub({f"{REPO}/{FILE}": GGUF}) as hub:
        done = essay("models", "pull", SPEC, cwd=tmp_path, env=_env(hub.url))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: not enough disk space in {cache}: the model needs {GGUF.stat().st_size / 1e9:.2f} GB more, 0.00 GB "
        "are free; free some space, or set XDG_CACHE_HOME to a disk that has it"
    )
    assert hub.served == 0


def test_a_pulled_model_is_the_default_and_answers_to_its_name(cache: Path, tmp_path: Path) -> None:
    with FakeHub({f"{REPO}/{FILE}": GGUF}) as hub:
        assert essay("models", "pull", SPEC, cwd=tmp_path, env=_env(hub.url)).returncode == 0
    by_name = make_model(Settings(model=NAME))
    default = make_model(Settings())
    assert (by_name.model, by_name.path) == (NAME, cache / f"{NAME}.gguf")
    assert (default.model, default.can_sort) == (NAME, True)
    removed = essay("models", "rm", NAME, cwd=tmp_path)
    assert removed.stdout.strip() == f"removed {NAME} ({GGUF.stat().st_size / 1e6:.1f} MB)"
    assert make_model(Settings()).model == GGUF.stem  # the bundled model again
    again = essay("models", "rm", NAME, cwd=tmp_path)
    assert again.stderr.strip() == f"error: no pulled model named '{NAME}' (pulled: none); `essay models` lists them"


@pytest.mark.real_model
def test_use_then_draft_with_the_hub_gone_names_the_pulled_model(cache: Path, workspace: Path) -> None:
    (workspace / "essay.toml").write_text('# my settings\n[notes]\nignore = ["archive/*"]\n', encoding="utf-8")
    with FakeHub({f"{REPO}/{FILE}": GGUF}) as hub:
        pulled = essay("models", "pull", SPEC, cwd=workspace, env=_env(hub.url))
        hub_url = hub.url
    assert pulled.returncode == 0, pulled.stderr
    used = essay("models", "use", NAME, cwd=workspace)
    assert used.stdout == f'wrote to essay.toml:\n[llm]\nprovider = "local"\nmodel = "{NAME}"\n'
    assert (workspace / "essay.toml").read_text().startswith('# my settings\n[notes]\nignore = ["archive/*"]\n')
    done = essay("draft", "prompts/compost.md", cwd=workspace, env={"HF_ENDPOINT": hub_url})  # nothing listens there
    assert done.returncode == 0, done.stderr
    post = frontmatter.load(workspace / "drafts" / "compost" / "v001.md")
    assert (post["provider"], post["model"]) == ("local", NAME)
    assert "smoke test" not in done.stderr  # a real model was used, so no pointer to one


def test_ctrl_c_keeps_the_bytes_and_says_how_to_go_on(cache: Path, tmp_path: Path) -> None:
    part = cache / ".partial" / f"{NAME}.gguf.part"
    with FakeHub({f"{REPO}/{FILE}": GGUF}, throttle=0.01) as hub:
        pulling = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "models", "pull", SPEC],
            env=os.environ | _env(hub.url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not (part.is_file() and part.stat().st_size >= 1 << 20):
            assert pulling.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        pulling.send_signal(signal.SIGINT)
        out, err = pulling.communicate(timeout=60)
        assert NAME not in _listed(tmp_path, _env(hub.url))
    assert pulling.returncode == 130
    assert err.strip().splitlines()[-1] == (
        f"interrupted: the bytes downloaded so far are kept; run `essay models pull {SPEC}` again to continue"
    )
    assert out == "" and part.stat().st_size >= 1 << 20


def test_a_hub_file_that_is_not_the_pinned_one_is_not_downloaded(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.catalog.catalog import CatalogEntry

    pinned = "ab" * 32
    entry = CatalogEntry("tiny", REPO, FILE, "main", pinned, 10**8, "Apache-2.0", 10**9, 8192, "a test entry")
    monkeypatch.setattr("pipeline.catalog.download.catalog_entry", lambda name: entry if name == "tiny" else None)
    with FakeHub({f"{REPO}/{FILE}": GGUF}) as hub:
        done = essay("models", "pull", "tiny", cwd=tmp_path, env=_env(hub.url))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: the Hub's {REPO}/{FILE} (sha256 {file_sha256(GGUF)[:12]}…) is not the file the catalog pinned "
        f"(abababababab…): nothing was downloaded; pull hf:{REPO}/{FILE} to take the Hub's"
    )
    assert hub.served == 0
