"""Drafts on the real bundled model: in-process (the default provider) and behind llama.cpp's own server.

These are slower (about a minute each on 2 cores): a 135M model on the CPU. They show that the
default works with no key and no network, and that the openai provider copes with a real server
that rejects json_schema.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import frontmatter
import pytest

from pipeline.models.providers.local import bundled_model_path
from tests.conftest import essay, write

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.real_model


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(bundled_model_path()),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "8192",
            "--verbose",
            "False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("llama.cpp's server did not start") from None
                time.sleep(0.3)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_default_provider_drafts_offline_from_the_example_workspace(tmp_path: Path) -> None:
    for folder in ("prompts", "notes"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    done = essay("draft", "prompts/daily-notes.md", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    post = frontmatter.load(tmp_path / "drafts" / "daily-notes" / "v001.md")
    assert post["provider"] == "local" and post["model"].startswith("SmolLM2-135M")
    assert [s["slug"] for s in post["sections"]] == ["the-habit", "what-it-gives-back", "what-it-costs"]
    written = [s["slug"] for s in post["sections"] if s["fragments"]]
    assert written, "the model put no note in any section"
    assert "Traceback" not in done.stderr and "llama_" not in done.stderr  # llama.cpp stays quiet


def test_llama_cpp_server_heading_prompt_on_held_out_notes(tmp_path: Path, llama_server: str) -> None:
    write(
        tmp_path / "prompts" / "bikes.md",
        "---\ntitle: fixing bikes\n---\n\nWrite about learning to fix bikes.\n\n"
        "## the first repair\nWhat broke, and how did you fix it?\n\n## what it taught me\nWhat stuck with you?\n",
    )
    write(tmp_path / "notes" / "2024-03-02.md", "replaced my first inner tube. took an hour and two tubes\n")
    write(tmp_path / "notes" / "2024-03-09.md", "learned that patience matters more than tools when truing a wheel\n")
    write(tmp_path / "notes" / "shopping.md", "buy tire levers and a patch kit\n")
    done = essay("draft", "prompts/bikes.md", "--base-url", llama_server, "--model", "smollm2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    post = frontmatter.load(tmp_path / "drafts" / "bikes" / "v001.md")
    assert post["provider"] == "openai" and post["model"] == "smollm2"
    assert [s["slug"] for s in post["sections"]] == ["the-first-repair", "what-it-taught-me"]
    body = post.content
    assert body.index("## the first repair") < body.index("## what it taught me")
