"""The sort request's text: the essay, its sections, the author's own placements, and every fragment in full.

A fragment is shown whole (up to `text_cap`, which a large window makes generous; the author's own draft
paragraphs in full), under its note's title and with its heading or label where that changes, as the writing
calls show notes. Cut at 80 characters, "…uniquely difficult and necessary at microsoft because of the" lost
the half of the thought that said where it belongs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.text import estimate_tokens
from pipeline.messages.instructions import render

TEXT_CAP = 2000  # characters of a note's fragment (~500 tokens): a long journal paragraph whole, a pasted page not
_BULLET = re.compile(r"\A[-*+]\s+(?!\[[ xX]\])")  # a list marker; a task's checkbox stays: it says "errand"

Example = tuple[Fragment, int]  # a fragment the author placed themselves, and its section (1..N, 0 = none)


def text_cap(context_window: int, by_author: bool = False) -> int:
    """The most characters of one fragment a call carries: a quarter of the window's worth for a note's fragment
    (so a small window still holds several), half of it for the author's own paragraph."""
    if by_author:
        return max(200, context_window * 2)
    return max(80, min(TEXT_CAP, context_window))


def fragment_text(fragment: Fragment, context_window: int) -> str:
    """The fragment on one line, whole up to its cap (then cut back to a whole word and marked "…"), not spent on
    a list marker."""
    text = _BULLET.sub("", re.sub(r"\s+", " ", fragment.text).strip(), count=1)
    limit = text_cap(context_window, fragment.by_author)
    if len(text) <= limit:
        return text
    words = text[: limit + 1].rsplit(" ", 1)[0]
    return (words if len(words) > limit // 2 else text[:limit]) + "…"


def fragment_tokens(fragment: Fragment, context_window: int) -> int:
    """What one fragment costs in the request: its text, its key, and its label at most."""
    return estimate_tokens(fragment_text(fragment, context_window)) + estimate_tokens(_label(fragment)) + 6


def sort_request(
    prompt: Prompt, fragments: Sequence[Fragment], context_window: int, examples: Sequence[Example] = ()
) -> list[dict[str, str]]:
    """The messages of one sorting call: `fragments` numbered from 1, grouped by note; `examples` listed first."""
    return render(
        "assign",
        title=prompt.title,
        instruction=prompt.instruction,
        sections=[
            {"number": n, "title": s.title, "questions": re.sub(r"\s+", " ", s.questions)}
            for n, s in enumerate(prompt.sections, start=1)
        ],
        has_examples=bool(examples),
        examples=[
            {"section": section, "text": fragment_text(fragment, context_window)} for fragment, section in examples
        ],
        notes=_by_note(fragments, context_window),
        count=len(fragments),
    )


def _by_note(fragments: Sequence[Fragment], context_window: int) -> list[dict[str, object]]:
    """Fragments, numbered from 1, under their note's title (sent once per run of a note), each with its heading
    or label where it differs from the fragment before."""
    groups: list[dict[str, object]] = []
    previous = ""
    for number, fragment in enumerate(fragments, start=1):
        if not groups or groups[-1]["path"] != fragment.note_path:
            date = fragment.date if fragment.date and fragment.date not in fragment.title else ""
            source = "the writer's own draft" if fragment.by_author else fragment.title
            groups.append({"path": fragment.note_path, "source": source, "date": date, "fragments": []})
            previous = ""
        label = _label(fragment)
        entry = {
            "key": number,
            "text": fragment_text(fragment, context_window),
            "context": "" if label == previous else label,
        }
        previous = label
        groups[-1]["fragments"].append(entry)  # type: ignore[union-attr]
    return groups


def _label(fragment: Fragment) -> str:
    return fragment.context.strip("#*: ")
