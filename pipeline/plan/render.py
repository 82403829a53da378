"""Rendering a plan as the markdown the author edits (the format: pipeline/plan/planfile.py)."""

from __future__ import annotations

import re

from pipeline.files.draftfile import compose
from pipeline.plan.planfile import (
    CHECKBOX,
    FORMAT,
    KEPT_NOTE,
    KEPT_TITLE,
    LEFT_OUT_TITLE,
    UNUSED_TITLE,
    Plan,
    PlanItem,
    plan_hash,
)

INSTRUCTIONS = (
    "> edit this plan, then run `essay draft`. move a list item under another heading to move it; delete it to\n"
    "> drop it; reorder items to order the material; add your own `- point` and the section must cover it.\n"
    "> a line under a heading that is not a list item is your direction for that section, e.g.\n"
    "> `about 200 words. open with the outage.` items under *fits no section* stay out of the draft."
)


def render_plan(plan: Plan, essay_title: str) -> str:
    notice = f"\n> {plan.notice}\n" if plan.notice else ""
    parts = [f"\n# plan: {essay_title.strip().lower()}\n\n{INSTRUCTIONS}\n{notice}"]
    for section in plan.sections:
        direction = f"{section.direction}\n" if section.direction else ""
        parts.append(f"## {section.title.lower()}\n{direction}\n{''.join(map(render_item, section.items))}")
    unused_direction = f"{plan.unused_direction}\n" if plan.unused_direction else ""
    parts.append(f"## {UNUSED_TITLE}\n{unused_direction}\n{''.join(map(render_item, plan.unused))}")
    if plan.kept or plan.kept_direction:
        kept_direction = f"{plan.kept_direction}\n\n" if plan.kept_direction else ""
        parts.append(f"## {KEPT_TITLE}\n\n{KEPT_NOTE}\n\n{kept_direction}{''.join(map(render_item, plan.kept))}")
    if plan.left_out:
        lines = [f"- {n} fragment{'' if n == 1 else 's'}: {reason.strip()}\n" for reason, n in plan.left_out]
        parts.append(f"## {LEFT_OUT_TITLE}\n\n{''.join(lines)}")
    body = "\n".join(part.rstrip("\n") + "\n" for part in parts)
    meta = {"essay_plan": FORMAT, "prompt": plan.prompt, "prompt_hash": plan.prompt_hash, "created": plan.created}
    return compose({**meta, "body_hash": plan_hash(body)}, body)


def render_item(item: PlanItem) -> str:
    """One list item: the text (continuation lines indented), its note's link and its id in a comment."""
    # The parser reads one checkbox as the item's own; a text that starts with one is kept by another in front.
    # A mark (a doubt, a move) comes after the item's own checkbox and before its text.
    box = item.box or ("[ ]" if CHECKBOX.match(item.text) else "")
    mark = f"{item.mark} " if item.mark and item.fragment_id else ""
    text = f"{box} {mark}{item.text}" if box else f"{mark}{item.text}"
    lines = text.split("\n")
    if item.fragment_id is not None:
        source = f"([[{item.note_path.removesuffix('.md')}]])" if item.note_path else ""
        source = "(your draft)" if item.by_author else source
        meta = f"{source} <!-- f:{item.fragment_id}{' private' if item.private else ''} -->".strip()
        # After a closing fence or a table row, trailing text would change the block: it gets its own line.
        if len(lines) > 1 and re.match(r"\s*(```|~~~|\|)", lines[-1]):
            lines.append(meta)
        else:
            lines[-1] = f"{lines[-1]} {meta}" if lines[-1] else meta
    rest = "".join(f"\n  {line}" if line else "\n" for line in lines[1:])
    return f"- {lines[0]}{rest}\n"
