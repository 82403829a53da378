"""Collecting and planning a large vault (what `essay draft --dry-run` does) against reading the same
files raw, for 1,000 and 10,000 synthetic daily notes, side by side in one run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.synthetic import make_vault
from pipeline.config import Settings
from pipeline.runner import dry_run, read_inputs
from tests.fakes import FakeLLM

ROOT = Path(__file__).resolve().parent.parent


def run() -> list[tuple[str, str]]:
    rows = []
    for count in (1_000, 10_000):
        with tempfile.TemporaryDirectory() as tmp:
            notes = make_vault(Path(tmp) / "notes", count)
            started = time.perf_counter()
            raw_bytes = sum(len(p.read_bytes()) for p in notes.rglob("*.md"))
            raw = time.perf_counter() - started

            started = time.perf_counter()
            model = FakeLLM(context_window=16_384)  # planning only: no call is made
            inputs = read_inputs(ROOT / "prompts" / "platform-year.md", notes, Path(tmp) / "drafts", Settings(), model)
            report = dry_run(inputs, model)
            planned = time.perf_counter() - started
            if model.history:
                raise SystemExit("the dry run called the model")
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
