"""Batch wall time against the ideal for the concurrency limit, on the parallel fake server.

The server (benchmarks/servers.py, `parallel`, in its own process) answers any number of calls at once,
like a hosted API: 0.3 s to the first token + 8 ms an output token, prose exactly max_tokens long. So the
only limit is the batch's own `--jobs` (its call slots), and the question is whether it keeps them busy.
8 prompts of 2 sections each over a small synthetic vault. The ideal for J slots is the larger of (all the
server's busy time / J) and the longest chain one essay must wait through (its sort, then its slowest section).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.servers import FakeServer
from benchmarks.synthetic import make_vault
from pipeline.batch.batch import find_prompts, run_batch
from pipeline.core.progress import Progress
from pipeline.core.workspace import open_workspace
from pipeline.models.cache import Store
from pipeline.models.providers.openai_chat import OpenAIChat
from pipeline.models.session import RunOptions, build_run

PROMPTS = 8
JOBS = 4
GOAL = 1.25


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        make_vault(workspace / "notes", 2, seed=3)
        (workspace / "prompts").mkdir()
        for n in range(PROMPTS):
            sections = [f"## what i saw {n}\nWhat happened?", f"## what i learned {n}\nWhat stuck?"]
            (workspace / "prompts" / f"essay-{n:02d}.md").write_text("\n\n".join(sections) + "\n")
        with FakeServer("parallel") as server:
            model = OpenAIChat(model="bench", base_url=server.base_url, api_key="not-needed")
            ws = open_workspace(root=workspace)
            with build_run(ws, model, Store(ws.state_file), RunOptions(cache=False, jobs=JOBS), Progress()) as run:
                started = time.perf_counter()
                outcomes = run_batch(run, find_prompts(ws.prompts))
                wall = time.perf_counter() - started
            calls = [c for c in server.stats() if c["status"] == 200]
    failed = [o for o in outcomes if o.status != "drafted"]
    if failed:
        raise SystemExit(f"batch benchmark: {len(failed)} essays failed: {failed[0].error}")
    busy = [c["busy"] for c in calls]
    sorts = [c["busy"] for c in calls if c["structured"]]
    sections = [c["busy"] for c in calls if not c["structured"]]
    ideal = max(sum(busy) / JOBS, max(sorts, default=0) + max(sections, default=0))
    verdict = "meets the goal" if wall / ideal <= GOAL else "ABOVE GOAL"
    return [
        (
            f"batch: {PROMPTS} essays, {len(calls)} calls, --jobs {JOBS}",
            f"{wall:.2f}s wall ({len(sorts)} to sort, {len(sections)} sections)",
        ),
        ("batch: ideal for the limit", f"{ideal:.2f}s (server busy {sum(busy):.1f}s / {JOBS} slots)"),
        ("batch: wall / ideal", f"{wall / ideal:.2f}x (goal: at most {GOAL:.2f}): {verdict}"),
    ]
