"""`essay plan` on a 10,000-note vault where about 1% is relevant, against the fake parallel server.

The vault is the labeled set's notes (benchmarks/sortset/notes, 18 notes) plus unrelated notes made from a
fixed seed: half are daily notes about a platform team (benchmarks/synthetic.py: work talk, a hard distractor
for an essay about leaving a job), half everyday life (cooking, travel, money, family, home). For each
labeled prompt, `essay plan` runs through the CLI (a subprocess, the real openai SDK, --no-cache) and is
checked against the goals: between 1 and 10 sorting calls, every labeled on-topic note keeps a place in a
section, 60 s or less.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.servers import FakeServer
from benchmarks.synthetic import make_vault

ROOT = Path(__file__).resolve().parent.parent
SET = Path(__file__).resolve().parent / "sortset"
NOTES = 10_000
MOST_CALLS, MOST_SECONDS = 10, 60.0
_LIFE = {
    "kitchen": ["soaked the chickpeas", "the sourdough starter smells like nail varnish", "made a big pot of chilli",
                "bought a new cast iron pan", "ran out of rice again", "tried the lemon tart recipe"],
    "travel": ["booked the ferry for august", "the hostel in porto has no lockers", "renewed my passport",
               "found cheap flights to riga", "packing list: adapter, sunscreen, socks", "the train was cancelled"],
    "money": ["moved savings to the fixed account", "the phone bill went up again", "budget for the holidays",
              "council tax direct debit failed", "sold the old sofa for forty", "looked at mortgage rates"],
    "family": ["called grandma about her hip", "the twins' birthday party is on sunday", "dad sent another meme",
               "helped my sister move flats", "school run swap with the neighbours", "the dog needs a haircut"],
    "home": ["the boiler made the noise again", "painted the hallway grey", "the washing machine leaks",
             "ordered new curtains", "mould in the bathroom corner", "the landlord is sending a plumber"],
}  # fmt: skip


def _life_vault(folder: Path, count: int, seed: int = 11) -> None:
    """`count` everyday notes: a few lines each, from two or three subjects, some checklists."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        lines = []
        for subject in rng.sample(sorted(_LIFE), rng.randint(2, 3)):
            bullet = "- [ ] " if rng.random() < 0.3 else "- "
            lines += [bullet + line for line in rng.sample(_LIFE[subject], 2)]
        (folder / f"life-{n:05}.md").write_text(f"---\ntitle: life {n}\n---\n\n" + "\n".join(lines) + "\n")


def build_workspace(root: Path) -> Path:
    """The workspace: essay.toml-free, notes/ (labeled + unrelated), prompts/ (the labeled set's)."""
    shutil.copytree(SET / "notes", root / "notes")
    shutil.copytree(SET / "prompts", root / "prompts")
    existing = sum(1 for _ in (root / "notes").rglob("*.md"))
    work = (NOTES - existing) // 2
    make_vault(root / "notes" / "work-notes", work)
    _life_vault(root / "notes" / "life", NOTES - existing - work)
    return root


def _plan(workspace: Path, prompt: str, base_url: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), OPENAI_API_KEY="not-needed", NO_COLOR="1")
    command = [sys.executable, "-m", "pipeline", "plan", f"prompts/{prompt}.md", "--notes", "notes"]
    command += ["--drafts", "drafts", "--base-url", base_url, "--model", "bench", "--no-cache"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"essay plan failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, (workspace / done.stdout.strip().splitlines()[-1]).read_text()


def placed_notes(plan: str) -> set[str]:
    """Notes with at least one item under a section heading (not under "fits no section")."""
    notes: set[str] = set()
    for block in re.split(r"^## ", plan, flags=re.M)[1:]:
        if block.startswith("fits no section"):
            break
        notes |= {m.removesuffix(".md") for m in re.findall(r"\(\[\[([^\]|]+)(?:\|[^\]]*)?\]\]\)", block)}
    return notes


def run() -> list[tuple[str, str]]:
    labels = json.loads((SET / "labels.json").read_text())
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = build_workspace(Path(tmp))
        for prompt in sorted({x["prompt"] for x in labels}):
            relevant = {x["note"].removesuffix(".md") for x in labels if x["prompt"] == prompt and x["section"]}
            relevant.discard("PROMPT")
            with FakeServer("parallel") as server:
                seconds, plan = _plan(workspace, prompt, server.base_url)
                calls = [c for c in server.stats() if c.get("structured")]
            kept = relevant & placed_notes(plan)
            tokens_in = sum(c["prompt_tokens"] for c in calls)
            tokens_out = sum(c["completion_tokens"] for c in calls)
            ok = 1 <= len(calls) <= MOST_CALLS and kept == relevant and seconds <= MOST_SECONDS
            rows.append((
                f"large plan, {NOTES:,} notes, {prompt}",
                f"{len(calls)} sorting calls ({tokens_in:,} prompt + {tokens_out:,} answer tokens), {seconds:.1f}s, "
                f"relevant notes placed {len(kept)}/{len(relevant)} "
                f"(goal: 1-{MOST_CALLS} calls, all placed, <= {MOST_SECONDS:.0f} s) -> {'MET' if ok else 'MISSED'}",
            ))  # fmt: skip
            shutil.rmtree(workspace / "drafts", ignore_errors=True)
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
