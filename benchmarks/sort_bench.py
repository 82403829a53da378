"""`benchmarks/run.py sort`: each way of sorting on the six labeled sets, next to the goals.

Sets: benchmarks/sortset (104 labels, 3 prompts: an author's draft, `tags:` frontmatter), benchmarks/sortset2 (46
labels, 2 prompts, another author and subject: a check that tuning on the first set generalises), and four sets
each written and labeled blind by someone who never saw the sort's code, each one vault of one author whose daily
notes mix the subjects: benchmarks/sortset3 (135 labels), sortset4 (205) and sortset5 (204), three prompts each,
and sortset6 (129 labels, two prompts each with the author's draft of 19-20 paragraphs, every label marked clear
or a judgment call).
Ways: a random valid answer; the embeddings alone with WordLlama, MiniLM, MPNet, EmbeddingGemma, MPNet and
MiniLM voting, and EmbeddingGemma and MPNet voting (the shipped rank options); the shipped default (the embedders
`sort.sort` picks for the vault's size, timed cold); and the shortlist a capable model would be handed above 400
fragments, scored by recall (the right section among a fragment's candidates) since a fake model's answers say
nothing about sorting. Then (benchmarks/sort_learning.py) the doubt marks, a simulated author's 5 and 10 corrections
a prompt, and what a capable model's sort request takes on each vault in tokens and dollars at gpt-4o-mini's list
price. None of these calls a model; `large-plan` reports a large vault's sorting calls.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import sort_learning
from benchmarks.sort_eval import gold, memoised, prompt_material, read_vault
from pipeline.embeddings.embed import bundled_embedder
from pipeline.embeddings.gemma import gemma_embedder
from pipeline.embeddings.minilm import minilm_embedder
from pipeline.embeddings.mpnet import mpnet_embedder
from pipeline.sort.rank import Essay, SortFragment, rank, shortlist
from pipeline.sort.sort import OPTIONS, _embedders

HERE = Path(__file__).resolve().parent
SETS = {name: HERE / name for name in ("sortset", "sortset2", "sortset3", "sortset4", "sortset5", "sortset6")}
BLIND = ("sortset3", "sortset4", "sortset5", "sortset6")  # labeled by people who never saw how the sort works
GOAL, PER_PROMPT = 0.85, 0.65  # the goal overall, and the held-out vault's floor per prompt
Case = tuple[str, Essay, list[SortFragment], dict[str, int]]


def cases(folder: Path) -> list[Case]:
    labels = json.loads((folder / "labels.json").read_text())
    vault = read_vault(folder / "notes")
    result = []
    for name in sorted({x["prompt"] for x in labels}):
        essay, draft = prompt_material(folder / "prompts" / f"{name}.md")
        pool = vault + draft
        result.append((name, essay, pool, gold([x for x in labels if x["prompt"] == name], pool)))
    return result


def judgment_calls(folder: Path) -> dict[str, set[str]]:
    """Per prompt, the fragments whose labels the labeler marked `"clear": false`: a careful reader could fairly put
    them elsewhere. Sets that do not mark them give none."""
    labels = json.loads((folder / "labels.json").read_text())
    vault = read_vault(folder / "notes")
    calls = {}
    for name in sorted({x["prompt"] for x in labels}):
        marked = [x for x in labels if x["prompt"] == name and x.get("clear") is False]
        _essay, draft = prompt_material(folder / "prompts" / f"{name}.md")
        calls[name] = set(gold(marked, vault + draft)) if marked else set()
    return calls


def _random(essay: Essay, pool: list[SortFragment]) -> dict[str, tuple[int, ...]]:
    rng = random.Random(0)
    return {f.id: (rng.randint(0, len(essay.sections)),) for f in pool}


def _ranked(embedder: Callable) -> Callable:
    def sort(essay: Essay, pool: list[SortFragment]) -> dict[str, tuple[int, ...]]:
        return {p.id: (p.section,) for p in rank(essay, pool, embedder(len(pool)), OPTIONS)}

    return sort


def _shortlisted(embedder: Callable) -> Callable:
    def sort(essay: Essay, pool: list[SortFragment]) -> dict[str, tuple[int, ...]]:
        listed = dict(shortlist(rank(essay, pool, embedder(len(pool)), OPTIONS)))
        return {f.id: listed.get(f.id, ()) for f in pool}

    return sort


def _score(method: Callable, set_cases: list[Case], recall: bool) -> tuple[float, list[float], float, tuple[int, int]]:
    """Accuracy (or, for a shortlist, recall of the right section on on-topic labels), per prompt, seconds."""
    right = total = 0
    per_prompt, seconds = [], 0.0
    for _name, essay, pool, truth in set_cases:
        started = time.perf_counter()
        chosen = method(essay, pool)
        seconds += time.perf_counter() - started
        judged = {i: s for i, s in truth.items() if s or not recall}
        hits = sum((s in chosen[i]) if recall else (chosen[i] == (s,)) for i, s in judged.items())
        per_prompt.append(hits / max(len(judged), 1))
        right, total = right + hits, total + len(judged)
    return right / max(total, 1), per_prompt, seconds, (right, total)


def run() -> list[tuple[str, str]]:
    loaders = (bundled_embedder, minilm_embedder, mpnet_embedder, gemma_embedder)
    wordllama, minilm, mpnet, gemma = (memoised(load()) for load in loaders)
    methods = {
        "random valid answer": (_random, False),
        "embeddings, WordLlama": (_ranked(lambda n: wordllama), False),
        "embeddings, MiniLM": (_ranked(lambda n: minilm), False),
        "embeddings, MPNet": (_ranked(lambda n: mpnet), False),
        "embeddings, MPNet + MiniLM voting": (_ranked(lambda n: [mpnet, minilm]), False),
        "embeddings, EmbeddingGemma": (_ranked(lambda n: gemma), False),
        "embeddings, EmbeddingGemma + MPNet voting": (_ranked(lambda n: [gemma, mpnet]), False),
        "shipped default (offline)": (_ranked(lambda n: _embedders(n)), False),
        "shortlist recall, WordLlama (right section among candidates)": (_shortlisted(lambda n: wordllama), True),
        "shortlist recall, MiniLM (right section among candidates)": (_shortlisted(lambda n: minilm), True),
    }
    rows = []
    tally: dict[str, dict[str, tuple[int, int]]] = {label: {} for label in methods}
    for set_name, folder in SETS.items():
        set_cases = cases(folder)
        for label, (method, recall) in methods.items():
            overall, per_prompt, seconds, counts = _score(method, set_cases, recall)
            tally[label][set_name] = counts
            cells = ", ".join(f"{c[0]} {a:.0%}" for c, a in zip(set_cases, per_prompt, strict=True))
            verdict = ""
            if label.startswith("shipped"):
                met = overall >= GOAL and min(per_prompt) >= PER_PROMPT
                verdict = (
                    f" (goal >= {GOAL:.0%} overall, >= {PER_PROMPT:.0%} per prompt) -> {'MET' if met else 'MISSED'}"
                )
            rows.append(
                (f"sort {set_name}: {label}", f"{overall:.0%} ({cells}), {seconds:.2f}s, no model calls{verdict}")
            )
    every: list = []
    judgment = {}
    for set_name, folder in SETS.items():  # the doubt marks and the simulated author, EmbeddingGemma ranking
        every += [(set_name, *case) for case in cases(folder)]
        judgment |= {(set_name, name): ids for name, ids in judgment_calls(folder).items()}
        rows += sort_learning.learning([c for c in every if c[0] == set_name], gemma, set_name, judgment=judgment)
    blind = [c for c in every if c[0] in BLIND]
    rows += sort_learning.learning(blind, gemma, f"the {len(BLIND)} blind sets", variants=True, judgment=judgment)
    rows += sort_learning.learning(every, gemma, f"all {len(SETS)} sets", variants=True, judgment=judgment)
    rows += sort_learning.sort_costs(list(SETS.values()))
    for label, by_set in tally.items():
        every = [sum(c[i] for c in by_set.values()) for i in (0, 1)]
        blind = [sum(by_set[name][i] for name in BLIND) for i in (0, 1)]
        rows.append(
            (
                f"sort, all {len(SETS)} sets: {label}",
                f"{every[0] / every[1]:.1%} of {every[1]} labels; "
                f"the {len(BLIND)} blind sets {blind[0] / blind[1]:.1%} of {blind[1]}",
            )
        )
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
