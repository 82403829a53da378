"""Synthetic vaults for the benchmarks: daily notes in the seeds' format, made up on the spot."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

_WORDS = [
    "deploy",
    "queue",
    "rollback",
    "kestrel",
    "heron",
    "pager",
    "alert",
    "runbook",
    "ticket",
    "owner",
    "team",
    "incident",
    "postmortem",
    "build",
    "cache",
    "release",
    "train",
    "planning",
    "budget",
    "runner",
    "signing",
    "security",
    "speed",
    "safety",
    "coffee",
    "reread",
    "habit",
    "note",
    "skipped",
    "offsite",
]


def make_vault(root: Path, notes: int, seed: int = 7) -> Path:
    """`notes` daily notes under root/daily, each a few paragraphs and a bullet group."""
    rng = random.Random(seed)
    day = dt.date(2020, 1, 1)
    folder = root / "daily"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(notes):
        date = day + dt.timedelta(days=n)
        paragraphs = [" ".join(rng.choices(_WORDS, k=rng.randint(12, 40))) for _ in range(rng.randint(1, 3))]
        bullets = "\n".join(f"- {' '.join(rng.choices(_WORDS, k=rng.randint(3, 9)))}" for _ in range(3))
        text = f'---\ntitle: "{date.isoformat()}-{n}"\ntags: [daily]\n---\n\n' + "\n\n".join(paragraphs)
        (folder / f"{date.isoformat()}-{n}.md").write_text(text + "\n\n" + bullets + "\n", encoding="utf-8")
    return root
