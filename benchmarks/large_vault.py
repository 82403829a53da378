"""Collecting and planning a large vault (what `essay draft --dry-run` does) against reading the same
files raw, for 1,000 and 10,000 synthetic daily notes, side by side in one run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.synthetic import make_vault
from pipeline.core.progress import Progress
from pipeline.core.workspace import open_workspace
from pipeline.drafting.dryrun import dry_run
from pipeline.drafting.inputs import read_inputs
from pipeline.models.cache import Store
from pipeline.models.llm import Completion
from pipeline.models.session import RunOptions, build_run

ROOT = Path(__file__).resolve().parent.parent


class _NoCalls:
    """A model for planning only: a dry run must not call it."""

    provider, model, endpoint = "none", "none", "none"
    sends_over_http = False
    can_sort = True  # so the dry run counts the sorting calls a capable model would get
    context_window = 16_384

    def complete(self, *args: Any, **kwargs: Any) -> Completion:
        raise SystemExit("the dry run called the model")


def run() -> list[tuple[str, str]]:
    rows = []
    for count in (1_000, 10_000):
        with tempfile.TemporaryDirectory() as tmp:
            notes = make_vault(Path(tmp) / "notes", count)
            started = time.perf_counter()
            raw_bytes = sum(len(p.read_bytes()) for p in notes.rglob("*.md"))
            raw = time.perf_counter() - started

            started = time.perf_counter()
            ws = open_workspace(root=Path(tmp), notes=notes)
            with build_run(ws, _NoCalls(), Store(ws.state_file), RunOptions(cache=False), Progress()) as run:
                inputs = read_inputs(run, ROOT / "prompts" / "platform-year.md")
                report = dry_run(run, inputs)
            planned = time.perf_counter() - started
        rows += [
            (f"{count:,} notes: read raw", f"{raw:.2f}s ({raw_bytes / 1e6:.1f} MB)"),
            (
                f"{count:,} notes: collect + plan (--dry-run)",
                f"{planned:.2f}s, {len(inputs.fragments):,} fragments in {report.batches} sorting calls"
                + (" (goal: under 10 s)" if count == 10_000 else ""),
            ),
            (f"{count:,} notes: collect + plan / raw read", f"{planned / raw:.1f}x"),
        ]
    return rows
