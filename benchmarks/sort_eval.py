"""Measure the offline sort on the labeled set in benchmarks/sortset/.

Run from the repository root: `python benchmarks/sort_eval.py`. For each way of sorting it prints accuracy
overall and per prompt, seconds and fragments per second, next to the goals, and exits non-zero when the
best method misses the goal.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import frontmatter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.embed import bundled_embedder
from pipeline.fragments import split_body
from pipeline.prompt import parse_prompt
from pipeline.rank import Essay, RankOptions, SortFragment, rank, shortlist

SET = Path(__file__).resolve().parent / "sortset"
GOAL, MOONSHOT = 0.85, 0.90
BEST = RankOptions()
VARIANTS = {
    "plain cosine (text only, whole section)": RankOptions(
        context_weight=0, per_question=False, standardise=False, self_train=0
    ),
    "+ context and note title": RankOptions(per_question=False, standardise=False, self_train=0),
    "+ per-question max": RankOptions(standardise=False, self_train=0),
    "+ standardised per section": RankOptions(self_train=0),
    "best (+ self-training, draft anchors)": BEST,
    "best, no context": replace(BEST, context_weight=0),
    "best, stronger self-training 0.7": replace(BEST, self_train=0.7),
    "best, context weight 1.0": replace(BEST, context_weight=1.0),
}


def read_vault(notes: Path) -> list[SortFragment]:
    fragments = []
    for path in sorted(notes.rglob("*.md")):
        post = frontmatter.load(path)
        rel = path.relative_to(notes).as_posix()
        title = str(post.metadata.get("title") or path.stem)
        for n, piece in enumerate(split_body(post.content)):
            fragments.append(SortFragment(f"{rel}#{n}", piece.text, piece.context, title))
    return fragments


def prompt_material(path: Path) -> tuple[Essay, list[SortFragment]]:
    prompt = parse_prompt(path)
    essay = Essay(prompt.title, prompt.instruction, tuple((s.title, s.questions) for s in prompt.sections))
    draft = [
        SortFragment(f"PROMPT#{n}", p.text, p.context, prompt.title, by_author=True)
        for n, p in enumerate(split_body(prompt.author_draft))
    ]
    return essay, draft


def gold(labels: list[dict], fragments: list[SortFragment]) -> dict[str, int]:
    """Map each label to the id of the fragment holding its quote; a quote that matches nothing is an error."""
    result = {}
    for label in labels:
        prefix = "PROMPT#" if label["note"] == "PROMPT" else f"{label['note']}#"
        hits = [f.id for f in fragments if f.id.startswith(prefix) and label["quote"] in f.text]
        if len(hits) != 1:
            raise SystemExit(f"label {label} matches {len(hits)} fragments, expected 1")
        result[hits[0]] = label["section"]
    return result


def report_shortlist(cases: list, embedder) -> None:
    """What a capable model would be handed: is the right section among the candidates, is the junk gone?"""
    for name, essay, pool, truth in cases:
        listed = dict(shortlist(rank(essay, pool, embedder, BEST)))
        on = [i for i, s in truth.items() if s]
        off = [i for i, s in truth.items() if not s]
        covered = sum(truth[i] in listed.get(i, ()) for i in on) / max(len(on), 1)
        dropped = sum(i not in listed for i in off) / max(len(off), 1)
        print(
            f"shortlist {name[:22]:22}: right section among candidates {covered:.0%} of on-topic, "
            f"off-topic dropped {dropped:.0%}, kept {len(listed)}/{len(pool)}"
        )


def main() -> int:
    labels = json.loads((SET / "labels.json").read_text())
    vault = read_vault(SET / "notes")
    t0 = time.perf_counter()
    embedder = bundled_embedder()
    print(f"model {embedder.name} loaded in {time.perf_counter() - t0:.2f}s; {len(vault)} vault fragments")
    cases = []
    for name in sorted({lab["prompt"] for lab in labels}):
        essay, draft = prompt_material(SET / "prompts" / f"{name}.md")
        pool = vault + draft
        cases.append((name, essay, pool, gold([x for x in labels if x["prompt"] == name], pool)))
    names = [c[0] for c in cases]
    print(f"goal: offline sort >= {GOAL:.0%} overall (moonshot {MOONSHOT:.0%}); labeled: {len(labels)}")
    print(f"{'method':44} {'overall':>8} " + " ".join(f"{n[:14]:>14}" for n in names) + "  seconds  frag/s")
    best_overall = 0.0
    for method in ["random valid answer", *VARIANTS]:
        right = total = 0
        per_prompt, seconds, count = [], 0.0, 0
        for _name, essay, pool, truth in cases:
            start = time.perf_counter()
            if method == "random valid answer":
                rng = random.Random(0)
                chosen = {f.id: rng.randint(0, len(essay.sections)) for f in pool}
            else:
                chosen = {p.id: p.section for p in rank(essay, pool, embedder, VARIANTS[method])}
            seconds += time.perf_counter() - start
            count += len(pool)
            hits = sum(chosen[i] == s for i, s in truth.items())
            per_prompt.append(hits / len(truth))
            right, total = right + hits, total + len(truth)
        overall = right / total
        if method.startswith("best ("):
            best_overall = overall
        cells = " ".join(f"{a:>14.0%}" for a in per_prompt)
        print(f"{method:44} {overall:>8.0%} {cells}  {seconds:7.2f}  {count / max(seconds, 1e-9):6.0f}")
    report_shortlist(cases, embedder)
    verdict = "MOONSHOT" if best_overall >= MOONSHOT else "GOAL MET" if best_overall >= GOAL else "BELOW GOAL"
    print(f"best method: {best_overall:.1%} -> {verdict} (goal {GOAL:.0%}, moonshot {MOONSHOT:.0%})")
    return 0 if best_overall >= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
