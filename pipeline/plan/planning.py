"""The plan: the sort, written as drafts/<essay>/plan.md for the author to read and edit before prose.

`make_plan` sorts (or reuses the author's placements) and writes the file; `follow_plan` reads it back
as the author left it and turns it into each section's material (pipeline/plan/reading.py). Planning again never
loses edits: an edited plan is first kept byte for byte as plan-NNN.md, and every item, point and direction in it is
carried into the new plan where the author left it (an item whose note was edited follows the note,
pipeline/plan/carry.py; what the author wrote under *left out* goes under *kept from your plan*); only fragments it
has never seen are sorted.
Where the author moved items since the plan was written, those stay and every other item is sorted again
with them as examples (pipeline/plan/corrections.py); new items are marked where the sort doubts, and listed
first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.errors import DraftError
from pipeline.embeddings.embed import VectorMemory
from pipeline.files.drafts import prompt_ref
from pipeline.messages.shared import SharedNotes
from pipeline.models.llm import ChatModel
from pipeline.plan.carry import as_planned, follow_edited_notes, plan_item
from pipeline.plan.corrections import (
    doubt_marks,
    find_corrections,
    find_record,
    notice,
    rearranged,
    record_path,
    write_record,
)
from pipeline.plan.planfile import Plan, PlanSection, plan_edited
from pipeline.plan.reading import PLAN_NAME, UNRELATED_NAME, read_plan
from pipeline.plan.render import render_item, render_plan
from pipeline.sort.sort import sort_fragments


@dataclass(frozen=True)
class PlanResult:
    path: Path
    plan: Plan
    kept_as: Path | None  # where the author's edited plan was kept, byte for byte
    carried: int  # fragments whose place came from the earlier plan
    sorted_now: int  # fragments sorted by this run
    unrelated: int  # left out by the shortlist
    moved: int = 0  # items the author's corrections moved to another section
    corrections: int = 0  # items the author moved or edited since the plan before, learned from


def prompt_hash(prompt: Prompt) -> str:
    return hashlib.sha256(prompt.path.read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class PlanRequest:
    """What a plan is made from: the prompt and the fragments the run may send, and what was left out."""

    prompt: Prompt
    fragments: tuple[Fragment, ...]
    left_out: tuple[tuple[str, int], ...] = ()
    send_all: bool = False  # even fragments the shortlist rules out
    # `slots.shares_prefix`: makes the message every call of the draft opens with, over the notes the sort sends
    shared: Callable[[Sequence[Fragment]], SharedNotes | None] | None = None


def make_plan(
    folder: Path,
    request: PlanRequest,
    llm: ChatModel,
    root: Path,
    on_progress: Callable[[str], None] | None = None,
    memory: VectorMemory | None = None,
) -> PlanResult:
    """Sort what the earlier plan has not placed, carry what it has, and write plan.md."""
    prompt, fragments, send_all, left_out = request.prompt, list(request.fragments), request.send_all, request.left_out
    earlier = read_plan(folder, prompt, root)
    if earlier:
        earlier = follow_edited_notes(earlier, fragments)
    placed = _placements(earlier) if earlier else {}
    # Left out as unrelated last time, and not placed since (an item the author moved into the plan is placed):
    # not sent again, unless `--all`.
    set_aside = frozenset() if send_all or not earlier else earlier.unrelated - placed.keys()
    by_id = {f.id: f for f in fragments}
    learned = find_corrections(earlier, find_record(folder, root), by_id, as_planned) if earlier else None
    labels = learned.numbers(prompt) if learned and learned.new else None
    # With new corrections every fragment is sorted again, the author's placements as examples; else only
    # what the plan has never placed.
    fresh = [f for f in fragments if (labels is not None or f.id not in placed) and f.id not in set_aside]
    result = sort_fragments(
        prompt,
        fresh,
        llm,
        send_all=send_all,
        on_progress=on_progress,
        memory=memory,
        shared=request.shared,
        labels=labels,
    )
    unrelated = frozenset(f.id for f in fragments if f.id in set_aside) | frozenset(result.unrelated)
    unrelated -= placed.keys()  # an item of the plan stays in it, whether or not it was asked about again
    marks = doubt_marks(result, prompt)
    moved = 0
    if earlier and learned and labels is not None:
        items, unused, moved = rearranged(prompt, earlier, result, by_id, learned, plan_item)
        sections = [
            PlanSection(s.slug, s.title, _direction(earlier, s.slug), None, group)
            for s, group in zip(prompt.sections, items, strict=True)
        ]
    else:
        sections = []
        # Every item of the earlier plan stays where the author left it, even one whose note this run does not
        # have (private, kept off this endpoint; pasted from another plan; its note gone): `follow_plan` decides.
        for section in prompt.sections:
            old = next((s for s in earlier.sections if s.slug == section.slug), None) if earlier else None
            new = [
                plan_item(by_id[i], marks.get(i, ""))
                for i in _doubtful_first(result.plan.sections[section.slug], marks)
            ]
            items = (*(old.items if old else ()), *new)
            sections.append(PlanSection(section.slug, section.title, old.direction if old else "", None, items))
        fresh_unused = [i for i in _doubtful_first(result.plan.unused, marks) if i not in unrelated]
        unused = (*(earlier.unused if earlier else ()), *(plan_item(by_id[i], marks.get(i, "")) for i in fresh_unused))
    why = list(left_out)
    if unrelated:
        reason = "unrelated to the prompt, never sent to the model: `essay plan --all` sends them"
        why.append((reason, len(unrelated)))
    header = prompt_ref(prompt.path, root), prompt_hash(prompt), _now()
    authors = {"unused_direction": earlier.unused_direction, "kept": earlier.kept} if earlier else {}
    kept_direction = earlier.kept_direction if earlier else ""
    said = notice(learned, moved) if learned and labels is not None else ""
    plan = Plan(
        *header, tuple(sections), unused, tuple(why), unrelated, **authors, kept_direction=kept_direction, notice=said
    )
    kept_as = _keep_edited(folder / PLAN_NAME)
    _write_unrelated(folder / UNRELATED_NAME, [f for f in fragments if f.id in unrelated], prompt.title)
    path = _write(folder / PLAN_NAME, render_plan(plan, prompt.title))
    write_record(record_path(folder, root), plan, learned.author if learned else frozenset())
    if labels is not None:  # sorted again: only the author's placements carried, the rest sorted now
        carried = len(learned.labels) if learned else 0
    else:
        carried = sum(1 for f in fragments if f.id in placed)
    sorted_now = len(fresh) - len(result.unrelated) - (carried if labels is not None else 0)
    return PlanResult(path, plan, kept_as, carried, sorted_now, len(unrelated), moved, learned.new if learned else 0)


def _placements(plan: Plan) -> dict[str, str]:
    placed = {i.fragment_id: s.slug for s in plan.sections for i in s.items if i.fragment_id}
    placed.update({i.fragment_id: "" for i in (*plan.unused, *plan.kept) if i.fragment_id})
    return placed


def _doubtful_first(ids: tuple[str, ...], marks: dict[str, str]) -> list[str]:
    """A section's new items, the doubtful ones first (the author checks those before the rest), else in note
    order."""
    return sorted(ids, key=lambda i: i not in marks)


def _direction(plan: Plan, slug: str) -> str:
    return next((s.direction for s in plan.sections if s.slug == slug), "")


def _keep_edited(path: Path) -> Path | None:
    """An edited plan is kept byte for byte as plan-NNN.md before a new one takes its name."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    if not plan_edited(data.decode("utf-8", errors="replace")):
        return None
    for number in itertools.count(1):
        kept = path.with_name(f"plan-{number:03d}.md")
        try:
            with open(kept, "xb") as handle:
                handle.write(data)
            return kept
        except FileExistsError:
            continue
    return None


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise DraftError(f"cannot write {path}: {exc.strerror}") from None
    return path


def _write_unrelated(path: Path, fragments: list[Fragment], essay_title: str) -> None:
    """Every fragment the shortlist left out, as plan.md lists items: the author can read what was left out,
    and copy an item into plan.md to place it."""
    if not fragments:
        path.unlink(missing_ok=True)
        return
    head = (
        f"# left out of the plan: {essay_title.strip().lower()}\n\n"
        f"> {len(fragments)} fragments judged unrelated to the prompt and never sent to the model. "
        "`essay plan --all` sends them; an item copied from here under a heading of plan.md is placed there.\n\n"
    )
    _write(path, head + "".join(render_item(plan_item(f)) for f in fragments))


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
