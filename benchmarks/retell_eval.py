"""How well retellings are found, on benchmarks/retell_set/: drafts with stories planted twice, in two sections.

    python benchmarks/retell_eval.py [--sweep]

A planted pair is found when the later telling is flagged as retelling the earlier one. Every other flagged pair
is a false flag; they are counted per 2,000 words of draft. `--sweep` prints both over a range of thresholds
(the weights are fixed in pipeline/write/retell.py), to show how much room the chosen one has. The weights and
threshold were chosen on the drafts not named `heldout-*`; those three were written afterwards and never tuned
on, and are reported apart.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.write.retell import THRESHOLD, find_retellings

SET = Path(__file__).parent / "retell_set"
GOAL_RECALL = 0.9
GOAL_FALSE_PER_2000 = 1.0
_HEADING = re.compile(r"^## (.+)$", re.M)


def sections_of(draft: str) -> list[tuple[str, str]]:
    """(slug, text) per `## ` section of a draft, markers and all."""
    parts = _HEADING.split(draft)
    return [(parts[i].strip().lower(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def evaluate(threshold: float = THRESHOLD, *, held_out: bool = False) -> tuple[int, int, int, int, list[str]]:
    """(found, planted, false flags, words, lines about each miss and false flag) on the tuning drafts, or with
    `held_out` on the held-out ones."""
    labels: dict[str, list[list[str]]] = json.loads((SET / "labels.json").read_text())
    found = planted = false = words = 0
    notes: list[str] = []
    for name, pairs in labels.items():
        if name.startswith("heldout-") != held_out:
            continue
        draft = (SET / name).read_text(encoding="utf-8")
        words += len(draft.split())
        flagged = find_retellings(sections_of(draft), threshold=threshold)
        hits = set()
        for first, second in pairs:
            planted += 1
            match = next((r for r in flagged if _starts(r.second.text, second) and _starts(r.first.text, first)), None)
            if match is not None:
                found += 1
                hits.add(match)
            else:
                notes.append(f"missed {name}: {second[:40]}…")
        for r in flagged:
            if r not in hits:
                false += 1
                notes.append(f"false flag {name} ({r.score}): {r.second.text[:50]}… ~ {r.first.text[:50]}…")
    return found, planted, false, words, notes


def _starts(text: str, prefix: str) -> bool:
    return " ".join(text.split()).lower().startswith(" ".join(prefix.split()).lower())


def run() -> list[tuple[str, str]]:
    """The rows for benchmarks/run.py."""
    rows = []
    for held_out in (False, True):
        found, planted, false, words, _ = evaluate(held_out=held_out)
        rows.append(
            (
                f"retellings found, {'held-out' if held_out else 'tuning'} drafts ({words:,} words)",
                f"{found}/{planted} = {found / planted:.0%} (goal ≥ {GOAL_RECALL:.0%}); false flags "
                f"{false * 2000 / words:.2f} per 2,000 words (goal ≤ {GOAL_FALSE_PER_2000:g})",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="recall and false flags over a range of thresholds")
    args = parser.parse_args()
    if args.sweep:
        for step in range(30, 71, 4):
            found, planted, false, words, _ = evaluate(step / 100)
            print(f"threshold {step / 100:.2f}: found {found}/{planted}, false flags {false * 2000 / words:.2f}/2k")
    met = True
    for held_out in (False, True):
        found, planted, false, words, notes = evaluate(held_out=held_out)
        recall, per_2000 = found / planted, false * 2000 / words
        print(f"\n{'held-out' if held_out else 'tuning'} drafts:", *notes, sep="\n  ")
        print(f"retellings found: {found}/{planted} = {recall:.0%} (goal ≥ {GOAL_RECALL:.0%})")
        print(f"false flags: {false} in {words:,} words = {per_2000:.2f} per 2,000 (goal ≤ {GOAL_FALSE_PER_2000:g})")
        met = met and recall >= GOAL_RECALL and per_2000 <= GOAL_FALSE_PER_2000
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
