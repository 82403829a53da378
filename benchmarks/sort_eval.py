"""Measure the offline sort on the labeled set in benchmarks/sortset/.

Run from the repository root: `python benchmarks/sort_eval.py`. For each embedder (WordLlama, static; MiniLM and
MPNet, contextual, numpy forward passes; MPNet and MiniLM voting) and each way of sorting it prints accuracy
overall and per prompt next to the goals, then each embedder's load time and cold speed, and exits non-zero
when the recommended (shipped) method misses the goal. Embeddings are memoised across methods (the options
change the ranking, not the vectors), so the seconds column is ranking time; the cold embedding speed is
measured separately.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import frontmatter
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.collect.fragments import split_body
from pipeline.collect.prompt import parse_prompt
from pipeline.embeddings.embed import Embedder, EmbedderMissing, bundled_embedder
from pipeline.embeddings.gemma import gemma_embedder
from pipeline.embeddings.minilm import minilm_embedder
from pipeline.embeddings.mpnet import mpnet_embedder
from pipeline.sort.rank import Essay, Placement, RankOptions, SortFragment, rank, shortlist
from pipeline.sort.sort import OPTIONS

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
    "best + neighbour relevance (5)": replace(BEST, neighbours=5),
    "best + neighbour relevance (10)": replace(BEST, neighbours=10),
    "best + neighbour relevance (5), keep more -0.1": replace(BEST, neighbours=5, keep_margin=-0.1),
    "shipped (pipeline.sort.sort.OPTIONS)": OPTIONS,
}
EMBEDDERS = {
    "wordllama": bundled_embedder,
    "minilm": minilm_embedder,
    "mpnet": mpnet_embedder,
    "gemma": gemma_embedder,
}
VOTE = "gemma+mpnet"  # the two contextual models voting as equals, as the offline sort shipped before
HYBRID = "hybrid: wordllama shortlist, minilm decides"
RECOMMENDED = ("gemma", "shipped (pipeline.sort.sort.OPTIONS)")  # what ships, not the sweep's maximum


def read_vault(notes: Path) -> list[SortFragment]:
    fragments = []
    for path in sorted(notes.rglob("*.md")):
        post = frontmatter.load(path)
        rel = path.relative_to(notes).as_posix()
        title = str(post.metadata.get("title") or path.stem)
        for n, piece in enumerate(split_body(post.content)):
            fragments.append(SortFragment(f"{rel}#{n}", piece.text, piece.context, title, note=rel))
    return fragments


def prompt_material(path: Path) -> tuple[Essay, list[SortFragment]]:
    prompt = parse_prompt(path)
    essay = Essay(prompt.title, prompt.instruction, tuple((s.title, s.questions) for s in prompt.sections))
    draft = [
        SortFragment(f"PROMPT#{n}", p.text, p.context, prompt.title, by_author=True, note="PROMPT")
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


def memoised(embedder: Embedder) -> Embedder:
    """The same embedder, computing each distinct text once per run (queries and documents apart)."""

    def once(embed: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
        memo: dict[str, np.ndarray] = {}

        def encode(texts: list[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if t not in memo]
            if missing:
                memo.update(zip(missing, embed(missing), strict=True))
            return np.stack([memo[t] for t in texts])

        return encode

    queries = once(embedder.embed_queries) if embedder.asymmetric else None
    return Embedder(once(embedder.embed), embedder.name, encode_query=queries)


def hybrid(essay: Essay, pool: list[SortFragment], coarse: Embedder, fine: Embedder) -> list[Placement]:
    """The cheap model keeps a short list with candidate sections; the contextual one embeds only those and
    picks among the candidates (its own relevance cut is meaningless on a pool that is already relevant)."""
    listed = dict(shortlist(rank(essay, pool, coarse, BEST)))
    chosen = [f for f in pool if f.id in listed]
    fine_scores = {p.id: p.scores for p in rank(essay, chosen, fine, replace(BEST, keep_margin=-1.0))}
    result = []
    for f in pool:
        if f.id not in listed:
            result.append(Placement(f.id, (), 0, 0.0))
            continue
        scores = fine_scores[f.id]
        result.append(Placement(f.id, scores, max(listed[f.id], key=lambda s: scores[s - 1]), 1.0))
    return result


def report_speed(vault: list[SortFragment]) -> None:
    """Load time and cold embedding speed on this machine (fragment texts, no memo)."""
    texts = [f.text for f in vault]
    for key, load in EMBEDDERS.items():
        load.cache_clear()
        start = time.perf_counter()
        embedder = load()
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        embedder.embed(texts)
        seconds = time.perf_counter() - start
        print(
            f"speed {key:10}: load {loaded:.2f}s, embed {len(texts)} fragments {seconds:.2f}s = "
            f"{len(texts) / seconds:.0f} fragments/s"
        )


def evaluate(
    cases: list, method: str, embedders: dict[str, Embedder | list[Embedder]]
) -> tuple[float, list[float], float]:
    """Accuracy overall, per prompt, and ranking seconds for one method ("<embedder>: <variant>")."""
    right = total = 0
    per_prompt, seconds = [], 0.0
    for _name, essay, pool, truth in cases:
        start = time.perf_counter()
        if method == "random valid answer":
            rng = random.Random(0)
            chosen = {f.id: rng.randint(0, len(essay.sections)) for f in pool}
        elif method == HYBRID:
            chosen = {p.id: p.section for p in hybrid(essay, pool, embedders["wordllama"], embedders["minilm"])}
        else:
            key, variant = method.split(": ", 1)
            chosen = {p.id: p.section for p in rank(essay, pool, embedders[key], VARIANTS[variant])}
        seconds += time.perf_counter() - start
        hits = sum(chosen[i] == s for i, s in truth.items())
        per_prompt.append(hits / len(truth))
        right, total = right + hits, total + len(truth)
    return right / total, per_prompt, seconds


def main() -> int:
    labels = json.loads((SET / "labels.json").read_text())
    vault = read_vault(SET / "notes")
    try:
        embedders: dict[str, Embedder | list[Embedder]] = {key: memoised(load()) for key, load in EMBEDDERS.items()}
    except EmbedderMissing as exc:
        raise SystemExit(str(exc)) from exc
    print(f"models: {', '.join(e.name for e in embedders.values())}; {len(vault)} vault fragments")
    cases = []
    for name in sorted({lab["prompt"] for lab in labels}):
        essay, draft = prompt_material(SET / "prompts" / f"{name}.md")
        pool = vault + draft
        cases.append((name, essay, pool, gold([x for x in labels if x["prompt"] == name], pool)))
    names = [c[0] for c in cases]
    print(f"goal: offline sort >= {GOAL:.0%} overall (moonshot {MOONSHOT:.0%}); labeled: {len(labels)}")
    print(f"{'method':60} {'overall':>8} " + " ".join(f"{n[:14]:>14}" for n in names) + "  seconds")
    embedders[VOTE] = [embedders["gemma"], embedders["mpnet"]]
    methods = ["random valid answer", *(f"{key}: {v}" for key in (*EMBEDDERS, VOTE) for v in VARIANTS), HYBRID]
    recommended = 0.0
    for method in methods:
        overall, per_prompt, seconds = evaluate(cases, method, embedders)
        if method == ": ".join(RECOMMENDED):
            recommended = overall
        cells = " ".join(f"{a:>14.0%}" for a in per_prompt)
        print(f"{method:60} {overall:>8.0%} {cells}  {seconds:7.2f}")
    for key, embedder in embedders.items():
        print(f"-- {key}")
        report_shortlist(cases, embedder)
    report_speed(vault)
    verdict = "MOONSHOT" if recommended >= MOONSHOT else "GOAL MET" if recommended >= GOAL else "BELOW GOAL"
    print(f"recommended ({': '.join(RECOMMENDED)}): {recommended:.1%} -> {verdict} (goal {GOAL:.0%})")
    return 0 if recommended >= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
