"""How well the grounding check tells invention from paraphrase, on benchmarks/grounding_set/.

    python benchmarks/grounding_eval.py [--verbose]

Prints false flags per 1,000 words on faithful drafts and recall on known inventions, each next to its goal, and
exits 1 when either misses it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pipeline.write.grounding import Claim, find_unsupported

SET = Path(__file__).parent / "grounding_set"
GOAL_FALSE_PER_1000 = 1.0
GOAL_RECALL = 0.8
_MARK = re.compile(r"⟦(.*?)⟧", re.S)


def read_sources(case: Path) -> list[str]:
    notes = case / "notes"
    return [f"{p.relative_to(notes).with_suffix('')}\n{p.read_text()}" for p in sorted(notes.rglob("*.md"))]


def unmark(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """The draft without ⟦⟧ marks, and where the marked inventions sit in it."""
    text, spans, position = [], [], 0
    length = 0
    for match in _MARK.finditer(marked):
        text.append(marked[position : match.start()])
        length += match.start() - position
        spans.append((length, length + len(match.group(1))))
        text.append(match.group(1))
        length += len(match.group(1))
        position = match.end()
    text.append(marked[position:])
    return "".join(text), spans


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def show(case: str, label: str, claims: list[Claim]) -> None:
    for claim in claims:
        print(f"  {case}: {label} {claim.kind}: {claim.text!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every flag")
    args = parser.parse_args()
    faithful_words = false_flags = inventions = found = extra = 0
    for case in sorted(p for p in SET.iterdir() if (p / "notes").is_dir()):
        sources = read_sources(case)
        faithful = (case / "faithful.md").read_text()
        flagged = find_unsupported(faithful, sources)
        faithful_words += words(faithful)
        false_flags += len(flagged)
        if flagged:
            show(case.name, "false flag", flagged)
        if (case / "invented.md").exists():
            text, spans = unmark((case / "invented.md").read_text())
            claims = find_unsupported(text, sources)
            hit = [any(c.start < end and start < c.end for c in claims) for start, end in spans]
            inventions += len(spans)
            found += sum(hit)
            stray = [c for c in claims if not any(c.start < end and start < c.end for start, end in spans)]
            extra += len(stray)
            for (start, end), ok in zip(spans, hit, strict=True):
                if not ok:
                    print(f"  {case.name}: missed invention {text[start:end]!r}")
            show(case.name, "stray flag in invented draft", stray)
            if args.verbose:
                show(case.name, "flag", claims)
    rate = 1000 * false_flags / max(faithful_words, 1)
    recall = found / max(inventions, 1)
    ok_rate, ok_recall = rate <= GOAL_FALSE_PER_1000, recall >= GOAL_RECALL
    print(f"faithful drafts: {faithful_words} words, {false_flags} false flags")
    verdicts = {True: " ok", False: " MISSED"}
    print(f"false flags per 1,000 words: {rate:.2f}  (goal <= {GOAL_FALSE_PER_1000:.0f})" + verdicts[ok_rate])
    recall_text = f"{found}/{inventions} = {recall:.0%}"
    print(f"recall on inventions: {recall_text}  (goal >= {GOAL_RECALL:.0%})" + verdicts[ok_recall])
    print(f"stray flags in invented drafts (outside marked inventions): {extra}")
    return 0 if ok_rate and ok_recall else 1


if __name__ == "__main__":
    sys.exit(main())
