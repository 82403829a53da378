"""The plan as the author left it: read back from drafts/<essay>/plan.md, and followed into each section's material.

`read_plan` reads the file (and plan-unrelated.md beside it); `follow_plan` turns it into what each section is
written from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.files.drafts import prompt_ref
from pipeline.plan.parse import fragment_ids, parse_plan
from pipeline.plan.planfile import Plan, PlanError, PlanItem

PLAN_NAME = "plan.md"
UNRELATED_NAME = "plan-unrelated.md"  # beside plan.md: what the shortlist left out, listed as the plan lists items


@dataclass(frozen=True)
class Material:
    """What each section is written from, as the plan says."""

    sections: dict[str, list[Fragment]]
    directions: dict[str, tuple[str, int | None]]  # slug -> (the author's direction, words)
    unplaced: tuple[Fragment, ...]  # fragments the plan has never seen (notes added or changed since)
    warnings: tuple[str, ...]


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
    known = listed(plan) | plan.unrelated
    unplaced = tuple(f for f in fragments if f.id not in known)
    directions = {s.slug: (s.direction, s.words) for s in plan.sections}
    return Material(sections, directions, unplaced, tuple(warnings))


def listed(plan: Plan) -> set[str | None]:
    """The fragment ids of every item the plan lists, under any heading."""
    return {i.fragment_id for i in (*(i for s in plan.sections for i in s.items), *plan.unused, *plan.kept)}


def _point(item: PlanItem, prompt: Prompt) -> Fragment:
    """An item with no note behind it: the author's own point (or the words of a note since changed)."""
    digest = hashlib.sha1(item.text.encode()).hexdigest()[:10]
    path = item.note_path or ""
    return Fragment(item.fragment_id or f"point-{digest}", path, prompt.title if not path else Path(path).stem,
                    None, (), item.text, by_author=item.fragment_id is None)  # fmt: skip


def _read_unrelated(path: Path) -> frozenset[str]:
    """The ids of what the plan left out as unrelated; none if the file is gone (what it held then counts as
    new since the plan, and `draft` says so)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    return fragment_ids(text)
