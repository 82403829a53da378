"""`benchmarks/run.py sort` (second part): the doubt marks, and a simulated author's corrections.

On each labeled set, per prompt, offline (the shipped embedder and options):
- the first plan's accuracy on the labels;
- the doubt marks (pipeline/sort/doubt.py): the share of the first plan's wrong labels they mark, and the
  share of the plan's placed items they mark (goals: at least half, at most a third);
- a simulated author who moves the 5, then the 10, most doubtful wrongly placed labels of each prompt to their
  right sections (the smallest margin to the runner-up first: the marked ones, which a section lists first),
  and plans again: the accuracy on the labels they did not touch (goal: 80% after 10). The author's own draft
  paragraphs are labels too, where the first plan put them, as `essay plan` treats them.
Our labeled sets do not mark judgment calls, so clear labels and judgment calls cannot be told apart here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipeline.embeddings.embed import Embedder
from pipeline.sort.doubt import doubtful
from pipeline.sort.rank import Placement, RankOptions, SortFragment, rank
from pipeline.sort.sort import OPTIONS

MOVES = (5, 10)


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
        if p.section == 0 or len(p.scores) < 2:
            result[p.id] = float("inf")
            continue
        others = [s for n, s in enumerate(p.scores, start=1) if n != p.section]
        result[p.id] = p.scores[p.section - 1] - max(others)
    return result


def relabeled(
    pool: Sequence[SortFragment], first: Sequence[Placement], truth: dict[str, int], moves: int
) -> tuple[list[SortFragment], set[str]]:
    """The pool with the author's labels: the `moves` most doubtful wrong labels moved right, and the author's
    own draft paragraphs where the first plan put them. Returns it and the moved ids."""
    placed = {p.id: p.section for p in first}
    margin = margins(first)
    wrong = sorted((i for i, s in truth.items() if placed[i] != s), key=lambda i: margin[i])
    moved = set(wrong[:moves])
    labels = {f.id: placed[f.id] for f in pool if f.by_author} | {i: truth[i] for i in moved}
    return [replace(f, label=labels.get(f.id)) for f in pool], moved


def run_cases(cases: list, embedder: Embedder | list[Embedder], options: RankOptions = OPTIONS) -> list[tuple]:
    rows = []
    first_all, marked_wrong, marked_items = Tally(), Tally(), Tally()
    after = {n: Tally() for n in MOVES}
    kept = {n: Tally() for n in MOVES}  # the same labels, were nothing re-sorted (the plan before this issue)
    for set_name, name, essay, pool, truth in cases:
        first = rank(essay, pool, embedder, options)
        placed = {p.id: p.section for p in first}
        right = sum(placed[i] == s for i, s in truth.items())
        first_all.add(right, len(truth))
        doubts = doubtful(first, {f.id for f in pool if f.by_author})
        wrong = [i for i, s in truth.items() if placed[i] != s]
        marked_wrong.add(sum(i in doubts for i in wrong), len(wrong))
        items = [p.id for p in first if p.section]
        marked_items.add(sum(i in doubts for i in items), len(items))
        cells = [f"first {right / len(truth):.0%}"]
        for moves in MOVES:
            labeled, moved = relabeled(pool, first, truth, moves)
            again = {p.id: p.section for p in rank(essay, labeled, embedder, options)}
            assert all(again[i] == truth[i] for i in moved)  # every moved item stays where it was put
            untouched = {i: s for i, s in truth.items() if i not in moved}
            hits = sum(again[i] == s for i, s in untouched.items())
            after[moves].add(hits, len(untouched))
            kept[moves].add(sum(placed[i] == s for i, s in untouched.items()), len(untouched))
            cells.append(f"after {moves} moves {hits / len(untouched):.0%} of {len(untouched)}")
        rows.append((f"learning {set_name} {name}", ", ".join(cells)))
    rows.append(("learning, all prompts: first plan", first_all.share()))
    rows.append(("learning: doubt marks on the first plan's wrong labels (goal >= 50%)", marked_wrong.share()))
    rows.append(("learning: doubt marks among the plan's placed items (goal <= 33%)", marked_items.share()))
    for moves in MOVES:
        goal = " (goal >= 80%)" if moves == 10 else ""
        rows.append((f"learning: untouched labels right after {moves} moves per prompt{goal}", after[moves].share()))
        rows.append((f"learning: the same labels if nothing were re-sorted after {moves} moves", kept[moves].share()))
    return rows
