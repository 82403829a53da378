"""Synthetic vaults for the benchmarks: daily notes in the seeds' format, made up from a fixed seed.

Each note is two to five blocks, paragraphs and bullet groups mixed; each paragraph is one fragment to the
pipeline, and each bullet too: 34 notes come to 251 fragments, 72 to 489. Most blocks are about a year on a
platform team (the example prompt's subject); some are errands that fit no section.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

_WHO = ["priya", "dana", "the release team", "the data team", "my manager", "a new hire", "the on-call", "i"]
_THING = [
    "the deploy queue",
    "kestrel, the build farm",
    "the rollback script",
    "the runbook for heron",
    "the signing service",
    "the flaky integration suite",
    "the pager rotation",
    "the cache on the build runners",
    "the release train",
    "the quarterly planning doc",
]
_DID = [
    "spent the morning untangling",
    "asked for help with",
    "finally rewrote",
    "got paged twice about",
    "argued for an hour about",
    "wrote a postmortem on",
    "paired with a new hire on",
    "deleted half of",
    "measured how long people wait on",
    "drew a diagram of",
]
_WHY = [
    "because nobody owns it end to end",
    "and it took three people on a call",
    "which is where speed and safety keep colliding",
    "and i noticed i was calmer than last month",
    "so the loudest ticket got help first again",
    "and i want to keep doing this at the next job",
    "which taught me more than the onboarding doc",
    "and i should unlearn saying yes to everything",
]
_ERRANDS = ["buy coffee filters", "call the dentist", "return the library book", "renew the parking permit"]


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_THING)} {rng.choice(_WHY)}."


def _block(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.08:
        return "\n".join(f"- [ ] {e}" for e in rng.sample(_ERRANDS, 2))
    if kind < 0.5:
        return "\n".join(f"- {_sentence(rng).rstrip('.')}" for _ in range(rng.randint(2, 4)))
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))


def make_vault(root: Path, notes: int, seed: int = 7) -> Path:
    """`notes` daily notes under root/daily, each two to five blocks of paragraphs and bullet groups."""
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    folder = root / "daily"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(notes):
        name = f"{(start + dt.timedelta(days=n)).isoformat()}-{n}"
        blocks = "\n\n".join(_block(rng) for _ in range(rng.randint(2, 5)))
        text = f'---\ntitle: "{name}"\ntags: [daily]\n---\n\n{blocks}\n'
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return root
