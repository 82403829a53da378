from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.config import Settings
from pipeline.core.progress import Progress
from pipeline.core.workspace import open_workspace
from pipeline.models.cache import Store
from pipeline.models.providers import register_provider
from pipeline.models.session import Run, RunOptions, build_run
from tests.fakes import FakeLLM, fake_provider

register_provider("fake", fake_provider)

BULLET_PROMPT = """---
title: "what running a community garden taught me"
---

Write about three seasons of running the garden on elm street.

- **Start with the ground.**
    What did the plot teach you about patience?
    What failed first?

- **Then the people.**
    Who showed up, who stopped coming, and why?

- **Finally, look forward.**
    What would you do differently next spring?
"""

HEADING_PROMPT = """---
title: "on compost"
---

A short piece about compost.

## what goes in
What belongs in the pile, and what never does?

## what comes out
What did the first batch look like?
"""


@dataclass
class Ran:
    """What a user sees of one command: its exit code and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def essay(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Ran:
    """Run the command as a user would, in this process (typer's CliRunner), from folder `cwd`, with no
    OPENAI_* variables from this machine."""
    clean = {k: None for k in os.environ if k.startswith("OPENAI_")}
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env={**clean, **(env or {})}, catch_exceptions=False)
    finally:
        os.chdir(before)
    return Ran(result.exit_code, result.stdout, result.stderr)


def essay_process(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in a new process: only where a real process matters (signals, kill -9)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_run(root: Path, llm: Any, *, cache: bool = True, settings: Settings | None = None) -> Run:
    """A run over the workspace at `root` with `llm` as its provider: the whole model stack, no CLI."""
    ws = open_workspace(root=root)
    if settings is not None:
        ws = replace(ws, settings=settings)
    return build_run(ws, llm, Store(ws.state_file), RunOptions(cache=cache), Progress())


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def static_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sort with the fast static embeddings in tests; the contextual models have tests of their own, and at
    ~100 and ~17 fragments a second on a loaded 2-core machine they would make every drafting test slow."""
    monkeypatch.setattr("pipeline.sort.sort.GEMMA_UP_TO", 0)
    monkeypatch.setattr("pipeline.sort.sort.MINILM_UP_TO", 0)
    monkeypatch.setattr("pipeline.sort.sort.MPNET_UP_TO", 0)


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A held-out workspace, written here rather than copied from the repo's example notes."""
    write(tmp_path / "prompts" / "garden.md", BULLET_PROMPT)
    write(tmp_path / "prompts" / "compost.md", HEADING_PROMPT)
    notes = tmp_path / "notes"
    write(
        notes / "2025-04-02.md",
        (
            '---\ntitle: "2025-04-02"\n---\n\n'
            "turned the beds with ines. the clay is worse than we thought #garden\n\n"
            "- bought 12 bags of compost\n- the tomatoes went in too early\n"
        ),
    )
    write(
        notes / "2025-06-19.md",
        "first harvest. tomás brought his kids and they ate the peas straight off the vine\n\n![[peas.png]]\n",
    )
    write(
        notes / "people.md",
        (
            "---\ntitle: people\ntags: [garden, people]\n---\n\n# who comes\n\n"
            "marguerite has watered every tuesday since march. see [[people/marguerite|marguerite]]\n"
        ),
    )
    write(
        notes / "links.md",
        "read [the soil guide [2nd ed]](https://example.org/Soil_Guide) before autumn\n\n```\nWATER = 2 * Days\n```\n",
    )
    write(notes / "groceries.md", "milk, eggs, a new trowel\n")
    write(notes / ".obsidian" / "workspace.md", "not a note\n")
    write(notes / "templates" / "daily.md", '---\ntitle: "{{date}}"\n---\n\ntemplate text\n')
    write(notes / "peas.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    return tmp_path


@pytest.fixture(autouse=True)
def no_pulled_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Models this machine pulled with `essay models pull` never become a test's default model."""
    empty = tmp_path_factory.mktemp("cache")
    monkeypatch.setattr("pipeline.models.pulled.cache_root", lambda: empty / "essay")
