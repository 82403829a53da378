"""`benchmarks/run.py sort`, second part: the doubt marks, a simulated author's corrections, and what a sort costs.

On each labeled set, per prompt, offline (EmbeddingGemma, the shipped options):
- the first plan's accuracy on the labels;
- the doubt marks (pipeline/sort/doubt.py): the share of the first plan's wrong labels they mark, and the share of
  the plan's items they mark (goals: at least half, at most a third);
- a simulated author who moves the 5, then the 10, most doubtful wrongly placed labels of each prompt to their
  right sections (the smallest margin to the runner-up first: the marked ones, which a section lists first),
  and plans again: the accuracy on the labels they did not touch (goal: 80% after 10), next to the same labels
  were nothing sorted again. The author's own draft paragraphs are labels too, where the first plan put them,
  as `essay plan` treats them. Each way of learning from the labels is measured (`VARIANTS`).
Where a set marks judgment calls (`"clear": false` in its labels: `sortset6/`), the first plan and the untouched
labels after 10 moves are also reported apart for the clear labels and the judgment calls.
The cost rows count what a capable model's sort request takes on each set's vault (no model is called).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.collect.notes import collect_notes, fragments_of
from pipeline.collect.prompt import parse_prompt
from pipeline.embeddings.embed import Embedder
from pipeline.models.prices import cost
from pipeline.sort.assign import sorting_cost
from pipeline.sort.doubt import doubtful
from pipeline.sort.rank import Placement, SortFragment, rank
from pipeline.sort.sort import OPTIONS

MOVES = (5, 10)
VARIANTS = {
    "shipped: the moved items stay, the rest as ranked": OPTIONS,
    "labeled items join their sections' centroids (weight 1)": replace(OPTIONS, label_weight=1.0),
    "nearest labeled example's vote (weight 0.5)": replace(OPTIONS, example_weight=0.5),
    "labeled lines vote for the lines under their heading (weight 1)": replace(OPTIONS, sibling_weight=1.0),
}
WINDOW = 128_000  # gpt-4o-mini's context window: one sorting call holds a small vault
# Case: (set name, prompt name, essay, pool, truth)
Case = tuple[str, str, object, list[SortFragment], dict[str, int]]


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, right: int, total: int) -> None:
        self.right, self.total = self.right + right, self.total + total

    def share(self) -> str:
        return f"{self.right / max(self.total, 1):.1%} of {self.total}"


def margins(placements: Sequence[Placement]) -> dict[str, float]:
    """How far each placed item's section scores above its runner-up (unplaced: infinitely sure)."""
    result = {}
    for p in placements:
        others = [s for n, s in enumerate(p.scores, start=1) if n != p.section]
        result[p.id] = p.scores[p.section - 1] - max(others) if p.section and others else float("inf")
    return result


def relabeled(
    pool: Sequence[SortFragment], first: Sequence[Placement], truth: dict[str, int], moves: int
) -> tuple[list[SortFragment], set[str]]:
    """The pool with the author's labels: the `moves` most doubtful wrong labels moved right, and the author's own
    draft paragraphs where the first plan put them. Returns it and the moved ids."""
    placed = {p.id: p.section for p in first}
    margin = margins(first)
    wrong = sorted((i for i, s in truth.items() if placed[i] != s), key=lambda i: margin[i])
    moved = set(wrong[:moves])
    labels = {f.id: placed[f.id] for f in pool if f.by_author} | {i: truth[i] for i in moved}
    return [replace(f, label=labels.get(f.id)) for f in pool], moved


def learning(
    cases: Sequence[Case],
    embedder: Embedder,
    label: str,
    variants: bool = False,
    judgment: Mapping[tuple[str, str], set[str]] | None = None,
) -> list[tuple[str, str]]:
    """The rows for these cases (`label` names them: a set, or the blind sets); every way of learning from the
    labels with `variants`, else only the shipped one. `judgment`: (set, prompt) -> the ids marked judgment calls."""
    ways = VARIANTS if variants else dict(list(VARIANTS.items())[:1])
    calls = judgment or {}
    apart = {kind: (Tally(), Tally()) for kind in ("clear labels", "judgment calls")}  # first plan, after 10
    first_all, wrong_marked, placed_marked, all_marked = Tally(), Tally(), Tally(), Tally()
    after = {(v, n): Tally() for v in ways for n in MOVES}
    kept = {n: Tally() for n in MOVES}  # the same labels, were nothing sorted again (the plan before this issue)
    for set_name, name, essay, pool, truth in cases:
        first = rank(essay, pool, embedder, OPTIONS)
        placed = {p.id: p.section for p in first}
        first_all.add(sum(placed[i] == s for i, s in truth.items()), len(truth))
        marked = calls.get((set_name, name), set())
        doubts = doubtful(first, {f.id for f in pool if f.by_author})
        wrong = [i for i, s in truth.items() if placed[i] != s]
        wrong_marked.add(sum(i in doubts for i in wrong), len(wrong))
        items = [p.id for p in first if p.section]
        placed_marked.add(sum(i in doubts for i in items), len(items))
        all_marked.add(len(doubts), len(first))
        for moves in MOVES:
            labeled, moved = relabeled(pool, first, truth, moves)
            untouched = {i: s for i, s in truth.items() if i not in moved}
            kept[moves].add(sum(placed[i] == s for i, s in untouched.items()), len(untouched))
            for variant, options in ways.items():
                again = {p.id: p.section for p in rank(essay, labeled, embedder, options)}
                assert all(again[i] == truth[i] for i in moved)  # every moved item stays where it was put
                after[variant, moves].add(sum(again[i] == s for i, s in untouched.items()), len(untouched))
                if moves == MOVES[-1] and variant == next(iter(ways)) and marked:
                    for kind, (before, later) in apart.items():
                        ids = [i for i in truth if (i in marked) == (kind == "judgment calls")]
                        before.add(sum(placed[i] == truth[i] for i in ids), len(ids))
                        kept_ids = [i for i in ids if i not in moved]
                        later.add(sum(again[i] == truth[i] for i in kept_ids), len(kept_ids))
    rows = [
        (f"learning {label}: first plan", first_all.share()),
        (f"learning {label}: doubt marks on the first plan's wrong labels (goal >= 50%)", wrong_marked.share()),
        (f"learning {label}: doubt marks among the plan's placed items (goal <= 33%)", placed_marked.share()),
        (f"learning {label}: doubt marks among all its items, fits no section included", all_marked.share()),
    ]
    for kind, (before, later) in apart.items():
        if before.total:
            rows.append((f"learning {label}: first plan, {kind} of the sets that mark them", before.share()))
            rows.append((f"learning {label}: after {MOVES[-1]} moves a prompt, untouched {kind}", later.share()))
    for moves in MOVES:
        goal = " (goal >= 80%)" if moves == 10 else ""
        rows.append(
            (f"learning {label}: after {moves} moves a prompt, untouched right if none re-sorted", kept[moves].share())
        )
        for variant in ways:
            rows.append(
                (f"learning {label}: after {moves} moves a prompt, {variant}{goal}", after[variant, moves].share())
            )
    return rows


def sort_costs(folders: Sequence[Path]) -> list[tuple[str, str]]:
    """What a capable model's sort of each vault takes (every fragment whole, one request) at gpt-4o-mini's price."""
    rows = []
    for folder in folders:
        notes = collect_notes(folder / "notes").fragments
        for path in sorted((folder / "prompts").glob("*.md"))[:1]:
            prompt = parse_prompt(path)
            own = (
                fragments_of("PROMPT", prompt.title, prompt.author_draft, by_author=True) if prompt.author_draft else []
            )
            fragments = [*notes, *own]
            calls, tokens_in, tokens_out = sorting_cost(prompt, fragments, WINDOW)
            dollars = cost("openai", "gpt-4o-mini", tokens_in, tokens_out, {})
            rows.append(
                (
                    f"sort cost {folder.name} {path.stem}",
                    f"{len(fragments)} fragments whole: {calls} call, {tokens_in:,} prompt + at most {tokens_out:,} "
                    f"answer tokens, ${dollars:.4f} at gpt-4o-mini's list price",
                )
            )
    return rows
