"""An earlier plan's items carried into a new one: an item whose note was edited follows the note, in the
place the author gave it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from difflib import SequenceMatcher

from pipeline.collect.notes import Fragment
from pipeline.plan.planfile import Plan, PlanItem
from pipeline.plan.reading import listed

_LIST_MARKER = re.compile(r"\A[-*+]\s+(?!\[[ xX]\])")
_SAME_THOUGHT = 0.6  # how alike an item and an edited note's fragment read to be taken as one thought


def follow_edited_notes(plan: Plan, fragments: Sequence[Fragment]) -> Plan:
    """The plan with each item whose note was edited since (its id is gone, and a new fragment of the same note
    reads much like it) tied to that new fragment, in the item's place: the author's placement holds."""
    known = listed(plan)
    by_note: dict[str, list[Fragment]] = {}
    for fragment in fragments:
        if fragment.id not in known:
            by_note.setdefault(fragment.note_path, []).append(fragment)
    by_id = {f.id for f in fragments}

    def follow(item: PlanItem) -> PlanItem:
        if not item.fragment_id or item.fragment_id in by_id or not item.note_path:
            return item
        candidates = by_note.get(item.note_path, [])
        scored = [(SequenceMatcher(None, item.text, plan_item(f).text).ratio(), f) for f in candidates]
        score, best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        if best is None or score < _SAME_THOUGHT:
            return item
        candidates.remove(best)
        return replace(plan_item(best), box=item.box)

    sections = tuple(replace(s, items=tuple(map(follow, s.items))) for s in plan.sections)
    return replace(plan, sections=sections, unused=tuple(map(follow, plan.unused)), kept=tuple(map(follow, plan.kept)))


def as_planned(fragment: Fragment) -> Fragment:
    """The fragment as a plan holds it, and `follow_plan` gives it back unedited."""
    return replace(fragment, text=plan_item(fragment).text)


def plan_item(fragment: Fragment, mark: str = "") -> PlanItem:
    text = _LIST_MARKER.sub("", fragment.text, count=1)  # a bullet of a note is one item of the plan, not "- - x"
    path = None if fragment.by_author else fragment.note_path
    return PlanItem(text, fragment.id, path, fragment.by_author, private=fragment.private, mark=mark)
