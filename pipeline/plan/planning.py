"""The plan: the sort, written as drafts/<essay>/plan.md for the author to read and edit before prose.

`make_plan` sorts (or reuses the author's placements) and writes the file; `follow_plan` reads it back
as the author left it and turns it into each section's material. Planning again never loses edits:
an edited plan is first kept byte for byte as plan-NNN.md, and every item, point and direction in it is
carried into the new plan where the author left it (an item whose note was edited follows the note; what
the author wrote under *left out* goes under *kept from your plan*); only fragments it has never seen are sorted.
Where the author moved items since the plan was written, those stay and every other item is sorted again
with them as examples (pipeline/plan/corrections.py); new items are marked where the sort doubts, and listed
first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.errors import DraftError
from pipeline.embeddings.embed import VectorMemory
from pipeline.files.drafts import prompt_ref
from pipeline.messages.shared import SharedNotes
from pipeline.models.llm import ChatModel
from pipeline.plan.corrections import (
    doubt_marks,
    find_corrections,
    find_record,
    notice,
    rearranged,
    record_path,
    write_record,
)
from pipeline.plan.parse import fragment_ids, parse_plan
from pipeline.plan.planfile import Plan, PlanError, PlanItem, PlanSection, plan_edited
from pipeline.plan.render import render_item, render_plan
from pipeline.sort.sort import sort_fragments

PLAN_NAME = "plan.md"
UNRELATED_NAME = "plan-unrelated.md"  # beside plan.md: what the shortlist left out, listed as the plan lists items
_LIST_MARKER = re.compile(r"\A[-*+]\s+(?!\[[ xX]\])")
_SAME_THOUGHT = 0.6  # how alike an item and an edited note's fragment read to be taken as one thought


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


@dataclass(frozen=True)
class Material:
    """What each section is written from, as the plan says."""

    sections: dict[str, list[Fragment]]
    directions: dict[str, tuple[str, int | None]]  # slug -> (the author's direction, words)
    unplaced: tuple[Fragment, ...]  # fragments the plan has never seen (notes added or changed since)
    warnings: tuple[str, ...]


def prompt_hash(prompt: Prompt) -> str:
    return hashlib.sha256(prompt.path.read_bytes()).hexdigest()[:16]


def read_plan(folder: Path, prompt: Prompt, root: Path) -> Plan | None:
    """The plan in an essay's folder as the author left it, or None if there is none."""
    path = folder / PLAN_NAME
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path} cannot be read ({exc}): fix it or delete it and run `essay plan` again") from None
    plan = replace(parse_plan(text, str(path), prompt.sections), unrelated=_read_unrelated(folder / UNRELATED_NAME))
    # A plan whose prompt is gone is this prompt's under its old name (`essay_dir` chose the folder for it).
    other = Path(plan.prompt).name != prompt.path.name and plan.prompt != prompt_ref(prompt.path, root)
    if other and (root / plan.prompt).is_file():
        raise PlanError(
            f"{path} is a plan for {plan.prompt}, not {prompt_ref(prompt.path, root)}: move it away, "
            "or run `essay plan` for the right prompt"
        )
    return plan


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
        items, unused, moved = rearranged(prompt, earlier, result, by_id, learned, _item)
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
                _item(by_id[i], marks.get(i, "")) for i in _doubtful_first(result.plan.sections[section.slug], marks)
            ]
            items = (*(old.items if old else ()), *new)
            sections.append(PlanSection(section.slug, section.title, old.direction if old else "", None, items))
        fresh_unused = [i for i in _doubtful_first(result.plan.unused, marks) if i not in unrelated]
        unused = (*(earlier.unused if earlier else ()), *(_item(by_id[i], marks.get(i, "")) for i in fresh_unused))
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


def follow_plan(
    plan: Plan, prompt: Prompt, fragments: list[Fragment], keeps_home: Callable[[PlanItem], bool] = lambda item: False
) -> Material:
    """Each section's material from the plan: the items as the author left them, in their order. An item that
    `keeps_home` (from a private note, and this endpoint is not trusted) is left out, whatever plan listed it."""
    by_id = {f.id: f for f in fragments}
    warnings: list[str] = []
    sections: dict[str, list[Fragment]] = {}
    private = 0
    for section in plan.sections:
        material = []
        for item in section.items:
            if not item.text:
                continue
            fragment = by_id.get(item.fragment_id or "")
            if fragment is not None:
                material.append(replace(fragment, text=item.text))  # the author may have edited the item
                continue
            if keeps_home(item):
                private += 1
                continue
            if item.fragment_id:
                warnings.append(
                    f"plan item '{item.text[:50]}' under '{section.title}': its note changed or is gone; "
                    "used as written in the plan"
                )
            material.append(_point(item, prompt))
        sections[section.slug] = material
    if private:
        warnings.append(f"{private} plan items from private notes stay on this machine: this endpoint is not trusted")
    known = _listed(plan) | plan.unrelated
    unplaced = tuple(f for f in fragments if f.id not in known)
    directions = {s.slug: (s.direction, s.words) for s in plan.sections}
    return Material(sections, directions, unplaced, tuple(warnings))


def _listed(plan: Plan) -> set[str | None]:
    """The fragment ids of every item the plan lists, under any heading."""
    return {i.fragment_id for i in (*(i for s in plan.sections for i in s.items), *plan.unused, *plan.kept)}


def _placements(plan: Plan) -> dict[str, str]:
    placed = {i.fragment_id: s.slug for s in plan.sections for i in s.items if i.fragment_id}
    placed.update({i.fragment_id: "" for i in (*plan.unused, *plan.kept) if i.fragment_id})
    return placed


def follow_edited_notes(plan: Plan, fragments: Sequence[Fragment]) -> Plan:
    """The plan with each item whose note was edited since (its id is gone, and a new fragment of the same note
    reads much like it) tied to that new fragment, in the item's place: the author's placement holds."""
    known = _listed(plan)
    by_note: dict[str, list[Fragment]] = {}
    for fragment in fragments:
        if fragment.id not in known:
            by_note.setdefault(fragment.note_path, []).append(fragment)
    by_id = {f.id for f in fragments}

    def follow(item: PlanItem) -> PlanItem:
        if not item.fragment_id or item.fragment_id in by_id or not item.note_path:
            return item
        candidates = by_note.get(item.note_path, [])
        scored = [(SequenceMatcher(None, item.text, _item(f).text).ratio(), f) for f in candidates]
        score, best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        if best is None or score < _SAME_THOUGHT:
            return item
        candidates.remove(best)
        return replace(_item(best), box=item.box)

    sections = tuple(replace(s, items=tuple(map(follow, s.items))) for s in plan.sections)
    return replace(plan, sections=sections, unused=tuple(map(follow, plan.unused)), kept=tuple(map(follow, plan.kept)))


def as_planned(fragment: Fragment) -> Fragment:
    """The fragment as a plan holds it, and `follow_plan` gives it back unedited."""
    return replace(fragment, text=_item(fragment).text)


def _item(fragment: Fragment, mark: str = "") -> PlanItem:
    text = _LIST_MARKER.sub("", fragment.text, count=1)  # a bullet of a note is one item of the plan, not "- - x"
    path = None if fragment.by_author else fragment.note_path
    return PlanItem(text, fragment.id, path, fragment.by_author, private=fragment.private, mark=mark)


def _doubtful_first(ids: tuple[str, ...], marks: dict[str, str]) -> list[str]:
    """A section's new items, the doubtful ones first (the author checks those before the rest), else in note
    order."""
    return sorted(ids, key=lambda i: i not in marks)


def _direction(plan: Plan, slug: str) -> str:
    return next((s.direction for s in plan.sections if s.slug == slug), "")


def _point(item: PlanItem, prompt: Prompt) -> Fragment:
    """An item with no note behind it: the author's own point (or the words of a note since changed)."""
    digest = hashlib.sha1(item.text.encode()).hexdigest()[:10]
    path = item.note_path or ""
    return Fragment(item.fragment_id or f"point-{digest}", path, prompt.title if not path else Path(path).stem,
                    None, (), item.text, by_author=item.fragment_id is None)  # fmt: skip


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


def _read_unrelated(path: Path) -> frozenset[str]:
    """The ids of what the plan left out as unrelated; none if the file is gone (what it held then counts as
    new since the plan, and `draft` says so)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    return fragment_ids(text)


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
    _write(path, head + "".join(render_item(_item(f)) for f in fragments))


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
