"""Batch wall time against the ideal for the concurrency limit, on a loopback server with latency.

20 prompts of 3 sections each over the example notes; the server sleeps a time to first token plus
a time per output token for every answer. The ideal for J slots is the larger of (all the server's
busy time / J) and the longest single essay (its sorting call, then its slowest section).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from pipeline.batch import find_prompts, run_batch
from pipeline.config import Settings
from pipeline.llm import SharedLimit
from pipeline.providers.openai_chat import OpenAIChat
from tests.fake_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = 20
JOBS = 4


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        shutil.copytree(ROOT / "notes", workspace / "notes")
        (workspace / "prompts").mkdir()
        for n in range(PROMPTS):
            sections = [f"## what i saw {n}\nWhat happened?", f"## what i learned {n}\nWhat stuck?", "## next\nAnd?"]
            (workspace / "prompts" / f"essay-{n:02d}.md").write_text("\n\n".join(sections) + "\n")
        with FakeOpenAIServer(latency=0.25, per_token=0.004) as server:
            model = OpenAIChat(model="bench", base_url=server.base_url, api_key="not-needed")
            started = time.perf_counter()
            outcomes = run_batch(
                find_prompts(workspace / "prompts"),
                workspace / "notes",
                workspace / "drafts",
                SharedLimit(model, JOBS),
                Settings(provider="openai"),
                jobs=JOBS,
            )
            wall = time.perf_counter() - started
            busy = list(server.busy_seconds)
    failed = [o for o in outcomes if o.status != "drafted"]
    if failed:
        raise SystemExit(f"batch benchmark: {len(failed)} essays failed: {failed[0].error}")
    per_essay = len(busy) // PROMPTS
    # No essay can finish faster than a chain of two calls: sorting its notes, then writing a section.
    ideal = max(sum(busy) / JOBS, 2 * max(busy))
    return [
        (
            f"batch: {PROMPTS} essays, {len(busy)} calls, --jobs {JOBS}",
            f"{wall:.2f}s wall ({per_essay} calls an essay)",
        ),
        ("batch: ideal for the limit", f"{ideal:.2f}s (server busy {sum(busy):.1f}s / {JOBS} slots)"),
        ("batch: wall / ideal", f"{wall / ideal:.2f} (goal: at most 1.25)"),
    ]
