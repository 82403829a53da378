"""Learning from the author's corrections: what they moved in plan.md teaches the sort of what they did not.

In the workspace's own state (`.essay/plans/`, one file per essay folder) a record says where the plan as
written put each fragment, and which items the author has placed themselves. Planning again, an item found
elsewhere than the record says (moved, or copied in), or whose text the author edited, is the author's: it
stays where they put it, in every later plan too, and becomes a labeled example, as do the author's own draft
paragraphs wherever the plan places them. When there are new corrections, every other item is sorted again with
those examples (`sort_fragments(labels=...)`); each that lands elsewhere is marked with where it was and listed
first in its new section, and the plan says at its top how many moved. Without the record (a plan written
before it existed, or another workspace) the plan carries over as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.workspace import STATE_NAME
from pipeline.plan.marks import doubt_mark, moved_mark
from pipeline.plan.planfile import UNUSED_TITLE, Plan, PlanItem
from pipeline.sort.sort import Sorted

RECORDS = "plans"  # under the workspace's .essay/: the tool's own state, never beside the author's files


@dataclass(frozen=True)
class Record:
    placed: dict[str, str]  # fragment id -> section slug ("" = fits no section), as the plan was written
    author: frozenset[str]  # ids the author has placed themselves, in this plan or an earlier one


@dataclass(frozen=True)
class Corrections:
    labels: dict[str, str]  # id -> the slug the author put it under ("" = fits no section)
    new: int  # items the author moved or edited since the plan was written
    author: frozenset[str]  # the author's own placements (their draft paragraphs aside)

    def numbers(self, prompt: Prompt) -> dict[str, int]:
        number = {s.slug: n for n, s in enumerate(prompt.sections, start=1)}
        return {i: number.get(slug, 0) for i, slug in self.labels.items()}


def record_path(folder: Path, root: Path) -> Path:
    """Where the record of the plan in `folder` (an essay's drafts folder) is kept: named by the folder's path
    inside the workspace, so a workspace moved or synced elsewhere still finds it."""
    try:
        key = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:  # drafts kept outside the workspace (`--drafts`): named by where they are
        key = str(folder.resolve())
    return _named(root, key)


def _named(root: Path, key: str) -> Path:
    return root / STATE_NAME / RECORDS / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def find_record(folder: Path, root: Path) -> Record | None:
    """The record of the plan in `folder`, or one written before records were named inside the workspace."""
    return read_record(record_path(folder, root)) or read_record(_named(root, str(folder.resolve())))


def read_record(path: Path) -> Record | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Record(dict(data["placed"]), frozenset(data["author"]))
    except (OSError, ValueError, KeyError, TypeError):  # none, or damaged: the plan carries over as it is
        return None


def write_record(path: Path, plan: Plan, author: frozenset[str]) -> None:
    placed = {i.fragment_id: s.slug for s in plan.sections for i in s.items if i.fragment_id}
    placed |= {i.fragment_id: "" for i in plan.unused if i.fragment_id}
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps({"placed": placed, "author": sorted(author & placed.keys())}), encoding="utf-8")
        os.replace(temp, path)
    except OSError:  # the record only teaches the next plan: without it, the next plan carries this one over
        temp.unlink(missing_ok=True)


def find_corrections(
    earlier: Plan, record: Record | None, by_id: Mapping[str, Fragment], as_planned: Callable[[Fragment], Fragment]
) -> Corrections:
    """What the author changed in `earlier` since it was written (`as_planned`: a fragment's text as a plan holds
    it, to tell an edited item)."""
    current = {i.fragment_id: (s.slug, i) for s in earlier.sections for i in s.items if i.fragment_id in by_id}
    current |= {i.fragment_id: ("", i) for i in earlier.unused if i.fragment_id in by_id}
    if record is None:
        return Corrections({}, 0, frozenset())
    moved = {i for i, (slug, _) in current.items() if record.placed.get(i) != slug}
    edited = {i for i, (_, item) in current.items() if item.text != as_planned(by_id[i]).text}
    author = frozenset((record.author & current.keys()) | moved | edited)
    labels = {i: current[i][0] for i in current if i in author or by_id[i].by_author}
    return Corrections(labels, len((moved | edited) - record.author), author)


def rearranged(
    prompt: Prompt,
    earlier: Plan,
    result: Sorted,
    by_id: Mapping[str, Fragment],
    learned: Corrections,
    item_of: Callable[[Fragment, str], PlanItem],
) -> tuple[list[tuple[PlanItem, ...]], tuple[PlanItem, ...], int]:
    """Each section's items (and the unused) after sorting again with the corrections: the items that moved,
    marked and first; then the ones that stayed, in the author's order; then fragments new since, doubtful
    first. Returns the sections' items, the unused items and how many moved."""
    slugs = [s.slug for s in prompt.sections]
    titles = {s.slug: s.title for s in prompt.sections} | {"": UNUSED_TITLE}
    now = {i: slug for slug, ids in result.plan.sections.items() for i in ids} | {i: "" for i in result.plan.unused}
    for i in result.unrelated:  # not asked about (a large vault's shortlist): not a verdict of "fits no section"
        now.pop(i, None)
    old = [(s.slug, s.items) for s in earlier.sections if s.slug in slugs] + [("", earlier.unused)]
    was = {i.fragment_id: slug for slug, items in old for i in items if i.fragment_id in by_id}
    names = {n: titles[s] for n, s in enumerate(["", *slugs])}
    moved_in: dict[str, list[PlanItem]] = {slug: [] for slug in ["", *slugs]}
    stayed: dict[str, list[PlanItem]] = {slug: [] for slug in ["", *slugs]}
    for slug, items in old:
        for item in items:
            if item.fragment_id is not None and item.fragment_id not in by_id:
                stayed[slug].append(item)  # its note is not in this run (private, or gone): `follow_plan` decides
                continue
            if item.fragment_id is None or item.fragment_id in learned.labels:
                stayed[slug].append(replace(item, mark=""))
            elif item.fragment_id not in now:  # not asked again (a large vault's shortlist): it stays as it was
                stayed[slug].append(item)
            else:
                target = now[item.fragment_id]
                if target == slug:
                    stayed[slug].append(replace(item, mark=_doubt(result, names, item.fragment_id)))
                else:
                    moved_in[target].append(replace(item, mark=moved_mark(titles[slug])))
    fresh = [i for i in now if i not in was]
    for slug in ["", *slugs]:
        new = [i for i in fresh if now[i] == slug]
        new.sort(key=lambda i: i not in result.doubts)  # doubtful first, then in note order
        stayed[slug] += [item_of(by_id[i], _doubt(result, names, i)) for i in new]
    sections = [tuple(moved_in[slug] + stayed[slug]) for slug in slugs]
    moved = sum(len(items) for items in moved_in.values())
    return sections, tuple(moved_in[""] + stayed[""]), moved


def doubt_marks(result: Sorted, prompt: Prompt) -> dict[str, str]:
    """The doubt mark of each doubtful fragment of a sort, naming its runner-up."""
    names = dict(enumerate([UNUSED_TITLE, *(s.title for s in prompt.sections)]))
    return {i: _doubt(result, names, i) for i in result.doubts}


def _doubt(result: Sorted, names: Mapping[int, str], fragment_id: str) -> str:
    runner_up = result.doubts.get(fragment_id)
    return doubt_mark(names[runner_up]) if runner_up is not None else ""


def notice(learned: Corrections, moved: int) -> str:
    """The plan's first line after its instructions, where corrections were learned from."""
    what = f"{moved} other item{'' if moved == 1 else 's'}" if moved else "no other item"
    tail = ": each is marked *(moved by your corrections, was: …)* and listed first in its section" if moved else ""
    return f"your {learned.new} correction{'' if learned.new == 1 else 's'} moved {what}{tail}."
