"""essay against what a writer would do instead: paste every note and the prompt into one chat.

For each server kind (benchmarks/servers.py, each run against a fresh server process, a fresh workspace):
(a) `essay draft` through the CLI, as a subprocess (the real openai SDK over HTTP, --no-cache), on 34
    synthetic daily notes (251 fragments) and the example prompt prompts/platform-year.md;
(b) one call that sends the same notes and prompt and asks for the whole essay, with max_tokens equal to
    the output tokens all of (a)'s calls produced, so both sides generate the same number of tokens.
Both walls are timed by this process: (a) includes the CLI's start-up, as a writer would wait for it.
Both servers listen on loopback. The one-slot server gets essay's default for a server on this machine: every
call opens with the same notes, so the pipeline sends several times the one call's prompt tokens while the server
prefills about as many as it (both counts are reported). The parallel server stands for a hosted API, which is
not on this machine: its workspace's essay.toml says `[llm] slots = 4`, which gives each call its own notes, as
a hosted API gets by default. The one-slot server is also run with that layout, for comparison.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from openai import OpenAI

from benchmarks.servers import DECODE, PREFILL, FakeServer
from benchmarks.synthetic import make_vault

ROOT = Path(__file__).resolve().parent.parent
PROMPT = Path("prompts") / "platform-year.md"
NOTES = 34  # 251 fragments: the issue measures "about 250"
GOALS = {"parallel": (0.6, 0.4), "one-slot": (1.1, 0.9)}  # wall ratio: goal, moonshot
EACH_ITS_OWN = "[llm]\nslots = 4\n"  # the layout a hosted API gets: each call carries only its own notes
RUNS = [("parallel", EACH_ITS_OWN), ("one-slot", ""), ("one-slot", EACH_ITS_OWN)]
PROMPT_GOAL = 1.5
SYSTEM = "You write essays in the author's own voice: lowercase, casual, first person, from their notes."


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for mode, settings in RUNS:
        rows += _compare(mode, settings)
    return rows


def _compare(mode: str, settings: str) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "prompts").mkdir()
        shutil.copy(ROOT / PROMPT, workspace / PROMPT)
        make_vault(workspace / "notes", NOTES)
        (workspace / "essay.toml").write_text(settings, encoding="utf-8")
        with FakeServer(mode) as server:
            ready = time.perf_counter()
            wall, started, _ = draft_wall(workspace, server.base_url)
            launched = started - ready
            calls = [c for c in server.stats() if c["status"] == 200]
        out = sum(c["completion_tokens"] for c in calls)
        with FakeServer(mode) as server:
            single_wall = _one_call(single_shot_messages(workspace), server.base_url, out)
            single = server.stats()[-1]
    sent = sum(c["prompt_tokens"] for c in calls)
    read = sum(c["prompt_tokens"] - c["cached_tokens"] for c in calls)
    read_single = single["prompt_tokens"] - single["cached_tokens"]
    sorts = [c for c in calls if c["structured"]]
    sections = [c for c in calls if not c["structured"]]
    goal, moonshot = GOALS[mode]
    first = min(c["arrived"] for c in calls) - launched
    tail = wall - (max(c["finished"] for c in calls) - launched)
    label = f"single-shot [{mode}{', each call its own notes' if settings else ''}]"
    return [
        (
            f"{label} pipeline: essay draft (CLI)",
            f"{wall:.1f}s, {len(calls)} calls ({len(sorts)} to sort), {sent:,} tokens in, {out:,} out; "
            f"start-up {first:.1f}s before the first call, {tail:.1f}s after the last",
        ),
        (f"{label} pipeline: server time, sorting", _busy(sorts, mode)),
        (f"{label} pipeline: server time, sections", _busy(sections, mode)),
        (
            f"{label} one call, same notes, same output",
            f"{single_wall:.1f}s, {single['prompt_tokens']:,} tokens in, {single['completion_tokens']:,} out",
        ),
        (f"{label} wall, pipeline / one call", _verdict(wall / single_wall, goal, moonshot)),
        (
            f"{label} prompt tokens, pipeline / one call",
            _verdict(sent / single["prompt_tokens"], PROMPT_GOAL, None, f"{sent:,} / {single['prompt_tokens']:,} = "),
        ),
        (
            f"{label} prompt tokens prefilled (not reused), pipeline / one call",
            f"{read:,} / {read_single:,} = {read / read_single:.2f}x",
        ),
    ]


def draft_wall(workspace: Path, base_url: str, model: str = "bench", prompt: Path = PROMPT) -> tuple[float, float, str]:
    """Run `essay draft` in the workspace; its wall time, when it was launched (perf_counter), and its stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), OPENAI_API_KEY="not-needed", NO_COLOR="1")
    command = [sys.executable, "-m", "pipeline", "draft", str(prompt), "--notes", "notes", "--drafts", "drafts"]
    command += ["--base-url", base_url, "--model", model, "--no-cache"]
    launched = time.perf_counter()
    done = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - launched
    if done.returncode != 0:
        raise SystemExit(f"essay draft failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, launched, done.stderr


def single_shot_messages(workspace: Path, prompt_path: Path = PROMPT) -> list[dict[str, str]]:
    """The prompt file and every note as a writer would paste them: each note's text under its path."""
    notes = []
    for path in sorted((workspace / "notes").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        body = text.split("---\n", 2)[2] if text.startswith("---\n") else text
        notes.append(f"## {path.relative_to(workspace / 'notes').as_posix()}\n{body.strip()}")
    prompt = (workspace / prompt_path).read_text(encoding="utf-8")
    user = f"{prompt}\n\nmy notes:\n\n" + "\n\n".join(notes) + "\n\nwrite the whole essay, one section a heading."
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _one_call(messages: list[dict[str, str]], base_url: str, max_tokens: int) -> float:
    client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0, timeout=600)
    started = time.perf_counter()
    client.chat.completions.create(model="bench", messages=messages, max_tokens=max_tokens, temperature=0.7)  # type: ignore[arg-type]
    return time.perf_counter() - started


def _busy(calls: list[dict[str, Any]], mode: str) -> str:
    """The server's time on these calls; on one slot, split into prompt reading (prefill) and writing."""
    if not calls:
        return "no calls"
    out = sum(c["completion_tokens"] for c in calls)
    busy = f"{sum(c['busy'] for c in calls):.1f}s busy in {len(calls)} calls, {out:,} tokens out"
    if mode != "one-slot":
        return busy
    fresh = sum(c["prompt_tokens"] - c["cached_tokens"] for c in calls)
    cached = sum(c["cached_tokens"] for c in calls)
    prefill = f"prefill {fresh:,} fresh tokens {fresh * PREFILL:.1f}s ({cached:,} cached)"
    return f"{busy}: {prefill}, decode {out * DECODE:.1f}s"


def _verdict(ratio: float, goal: float, moonshot: float | None, prefix: str = "") -> str:
    if moonshot is not None and ratio <= moonshot:
        mark = "meets the moonshot"
    else:
        mark = "meets the goal" if ratio <= goal else "ABOVE GOAL"
    aim = f"goal: at most {goal:.2f}" + (f", moonshot {moonshot:.2f}" if moonshot is not None else "")
    return f"{prefix}{ratio:.2f}x ({aim}): {mark}"
