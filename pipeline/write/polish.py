"""Polish (`essay draft --polish`): one more call per join between sections, so the draft reads as one essay.

Each section after the first gets its opening paragraph written again to follow on from the end of the section
before. Its substance is held: the rewrite goes through the section's finishing (a claim its notes lack is
flagged) and is kept only if it flags nothing new, keeps every figure and most of the rare words of the
paragraph, and stays about as long; otherwise the paragraph stays as it was. Text that is the author's own (a
paragraph drawn close to their draft) is never polished, nor a section the model did not write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pipeline.collect.notes import Fragment
from pipeline.core.errors import LLMError
from pipeline.messages.instructions import render
from pipeline.models.llm import ChatModel
from pipeline.write.expand import Draft, SectionDraft, answer_budget, clean_section_text
from pipeline.write.finish import Finishing, finish_section
from pipeline.write.grounding import count_flags
from pipeline.write.retell import Paragraph, prose_paragraphs
from pipeline.write.sources import FOOTNOTE_REF

KEEP_WORDS = 0.8  # share of the paragraph's content words a polished one must keep
LENGTH_RANGE = (0.75, 1.4)  # its length against the paragraph's
AUTHORS_OWN = 0.6  # a paragraph with this share of its words in one of the author's own paragraphs is theirs
_FIGURE = re.compile(r"\d[\d,.]*")
_CONTENT = re.compile(r"[a-z][a-z'’]{3,}")


@dataclass(frozen=True)
class Polished:
    draft: Draft
    joins: int  # openings written again to follow on from the section before


def polish_joins(
    draft: Draft, material: Mapping[str, Sequence[Fragment]], llm: ChatModel, finishing: Finishing
) -> Polished:
    sections = list(draft.sections)
    joins = 0
    for k in range(1, len(sections)):
        before, after = sections[k - 1], sections[k]
        if not (before.generated and after.generated):
            continue
        ending = prose_paragraphs(before.slug, before.text)
        opening = prose_paragraphs(after.slug, after.text)
        own = [f.text for f in material.get(after.slug, ()) if f.by_author]
        if not ending or not opening or _is_authors(opening[0].text, own):
            continue
        new = _polished(draft, (before, ending[-1]), (after, opening[0]), material.get(after.slug, ()), llm, finishing)
        if new is not None:
            text = after.text[: opening[0].start] + new + after.text[opening[0].end :]
            sections[k] = replace(after, text=text, flags=count_flags(text))
            joins += 1
    return Polished(replace(draft, sections=tuple(sections)), joins)


def _polished(
    draft: Draft,
    ending: tuple[SectionDraft, Paragraph],
    opening: tuple[SectionDraft, Paragraph],
    fragments: Sequence[Fragment],
    llm: ChatModel,
    finishing: Finishing,
) -> str | None:
    """The opening paragraph written to follow on, with its footnote marks; None where it would change what it says."""
    (before, last), (after, first) = ending, opening
    messages = render(
        "polish",
        title=draft.prompt.title,
        before_title=before.title,
        before=last.text,
        title_after=after.title,
        after=first.text,
    )
    try:
        reply = llm.complete(messages, max_tokens=answer_budget(len(first.text.split())), temperature=0.3)
    except LLMError:
        return None
    raw = " ".join(clean_section_text(reply.text).split())
    if not raw or reply.finish_reason == "length":
        return None
    new = finish_section(after.slug, raw, fragments, replace(finishing, footnotes=False)).text.strip()
    old_block = after.text[first.start : first.end]
    if not _keeps_substance(first.text, new) or count_flags(new) > count_flags(old_block):
        return None
    return new + "".join(f"[^{r}]" for r in FOOTNOTE_REF.findall(old_block))


def _keeps_substance(old: str, new: str) -> bool:
    ratio = len(new.split()) / max(1, len(old.split()))
    if not LENGTH_RANGE[0] <= ratio <= LENGTH_RANGE[1]:
        return False
    if set(_FIGURE.findall(old)) - set(_FIGURE.findall(new)):
        return False
    words = set(_CONTENT.findall(old.lower()))
    return not words or len(words & set(_CONTENT.findall(new.lower()))) / len(words) >= KEEP_WORDS


def _is_authors(paragraph: str, own: Sequence[str]) -> bool:
    words = set(_CONTENT.findall(paragraph.lower()))
    return bool(words) and any(len(words & set(_CONTENT.findall(t.lower()))) / len(words) >= AUTHORS_OWN for t in own)
