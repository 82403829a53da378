"""What the writing calls ask for, against what each labeled prompt asks: `python benchmarks/length_eval.py`.

For every prompt of the labeled sort sets (benchmarks/sortset*/) that asks a length, its sections get the
material their labels give them and are shared the asked length as a draft shares it
(`pipeline/write/lengths.py`); the row says the sum of what the writing calls would ask, against the asked length,
next to the goal (within 15%). How many words a model then writes is the model's: no capable model runs on this
machine, so that is not measured here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.collect.notes import Fragment, collect_notes
from pipeline.collect.prompt import parse_prompt
from pipeline.write.lengths import section_words

SETS = sorted(Path(__file__).resolve().parent.glob("sortset*"))
GOAL = 0.15


def measure() -> list[tuple[str, int, int]]:
    """(set/prompt, asked words, words the writing calls ask in all) for each labeled prompt asking a length."""
    rows = []
    for folder in SETS:
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        fragments = collect_notes(folder / "notes").fragments
        for path in sorted((folder / "prompts").glob("*.md")):
            prompt = parse_prompt(path)
            if prompt.length is None:
                continue
            material: dict[str, list[Fragment]] = {}
            for label in (x for x in labels if x["prompt"] == path.stem and x["section"]):
                found = next((f for f in fragments if f.note_path == label["note"] and label["quote"] in f.text), None)
                slug = prompt.sections[label["section"] - 1].slug
                if found is not None and found not in material.setdefault(slug, []):
                    material[slug].append(found)
            asked = sum(section_words(prompt, material, {}).values())
            rows.append((f"{folder.name}/{path.stem}", prompt.length.words, asked))
    return rows


def run() -> list[tuple[str, str]]:
    return [
        (f"length asked of the sections: {name}", f"{asked:,} of {want:,} words ({asked / want - 1:+.0%}, goal ±15%)")
        for name, want, asked in measure()
    ]


def main() -> None:
    rows = measure()
    for name, want, asked in rows:
        print(f"{name}: the prompt asks {want:,} words; its sections are asked for {asked:,} ({asked / want - 1:+.0%})")
    sys.exit(0 if all(abs(asked / want - 1) <= GOAL for _, want, asked in rows) else 1)


if __name__ == "__main__":
    main()
