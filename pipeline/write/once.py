"""Each story once: after every section is written, a paragraph that retells an earlier section's story is
written again without it (with a model that can do it), or else flagged for the author, as an unsupported
claim is: `==its first sentence.==^[check: told already in "section"; keep one]`.

What is rewritten is checked again with the whole draft: a rewrite that still tells the story, or a call that
fails, leaves the paragraph as it was, flagged. A rewrite goes through the same finishing as the section did
(claims it makes that the notes lack are flagged, the author's casing kept) and keeps its footnote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pipeline.collect.notes import Fragment
from pipeline.core.errors import LLMError
from pipeline.messages.instructions import render
from pipeline.models.llm import ChatModel
from pipeline.write.expand import Draft, answer_budget, clean_section_text
from pipeline.write.finish import Finishing, finish_section
from pipeline.write.grounding import count_flags
from pipeline.write.retell import Embed, Retelling, find_retellings
from pipeline.write.sources import FOOTNOTE_REF

NOTHING_LEFT = "NONE"
_SENTENCE = re.compile(r"^(?P<lead>\s*)(?P<sentence>[^\n]*?[.!?])(?=\s|$)")


@dataclass(frozen=True)
class Once:
    """What telling each story once did to a draft."""

    draft: Draft
    rewritten: int  # paragraphs written again without the story an earlier section tells
    flagged: int  # retellings left for the author, flagged


def tell_once(
    draft: Draft,
    material: Mapping[str, Sequence[Fragment]],
    llm: ChatModel | None,
    finishing: Finishing,
    embed: Embed | None = None,
) -> Once:
    """The draft with each story told once; `llm` rewrites when it can (`can_sort`), else retellings are flagged.
    Only sections the model wrote (`generated`) change; the others count as tellings (the author's, in `regen`)."""
    texts = {s.slug: s.text for s in draft.sections}
    titles = {s.slug: s.title for s in draft.sections}
    changeable = {s.slug for s in draft.sections if s.generated}

    def retellings() -> list[Retelling]:
        return [r for r in find_retellings(list(texts.items()), embed) if r.second.slug in changeable]

    found = retellings()
    rewritten = 0
    if llm is not None and llm.can_sort and found:
        for retelling in sorted(found, key=lambda r: -r.second.start):  # from the end: spans before stay valid
            new = _rewrite(draft, retelling, titles, material.get(retelling.second.slug, ()), llm, finishing)
            if new is None:
                continue
            slug, before = retelling.second.slug, texts[retelling.second.slug]
            texts[slug] = _replace_paragraph(before, retelling, new)
            if any((r.second.slug, r.second.start) == (slug, retelling.second.start) for r in retellings()):
                texts[slug] = before  # the rewrite tells a story told before all the same: keep what was there
            else:
                rewritten += 1
        found = retellings()  # what is still told twice is flagged
    for retelling in sorted(found, key=lambda r: -r.second.start):
        slug = retelling.second.slug
        texts[slug] = _flag_paragraph(texts[slug], retelling, titles[retelling.first.slug])
    sections = tuple(
        replace(s, text=texts[s.slug], flags=count_flags(texts[s.slug])) if s.slug in changeable else s
        for s in draft.sections
    )
    return Once(replace(draft, sections=sections), rewritten, len(found))


def _rewrite(
    draft: Draft,
    retelling: Retelling,
    titles: Mapping[str, str],
    fragments: Sequence[Fragment],
    llm: ChatModel,
    finishing: Finishing,
) -> str | None:
    """The paragraph without the story, finished as its section was ("" when nothing is left), or None."""
    messages = render(
        "retell",
        title=draft.prompt.title,
        first_title=titles[retelling.first.slug],
        first=retelling.first.text,
        second_title=titles[retelling.second.slug],
        second=retelling.second.text,
    )
    try:
        reply = llm.complete(messages, max_tokens=answer_budget(len(retelling.second.text.split())), temperature=0.3)
    except LLMError:
        return None  # flagged instead: the draft still lands
    text = clean_section_text(reply.text)
    if not text or reply.finish_reason == "length":
        return None
    if text.strip().strip(".").upper() == NOTHING_LEFT:
        return ""
    quiet = replace(finishing, footnotes=False)
    return finish_section(retelling.second.slug, " ".join(text.split()), fragments, quiet).text.strip()


def _replace_paragraph(text: str, retelling: Retelling, new: str) -> str:
    """The section with the retelling's paragraph replaced (its footnote kept), or removed with its footnote."""
    block = text[retelling.second.start : retelling.second.end]
    refs = FOOTNOTE_REF.findall(block)
    if new:
        return text[: retelling.second.start] + new + "".join(f"[^{r}]" for r in refs) + text[retelling.second.end :]
    text = text[: retelling.second.start].rstrip("\n") + "\n\n" + text[retelling.second.end :].lstrip("\n")
    for ref in refs:
        text = re.sub(rf"^\[\^{re.escape(ref)}\]:[^\n]*\n?", "", text, flags=re.M)
    return text.strip("\n") + "\n" if text.endswith("\n") else text.strip("\n")


def _flag_paragraph(text: str, retelling: Retelling, first_title: str) -> str:
    """The retelling's first sentence highlighted, with a note naming where the story is told already."""
    start, end = retelling.second.start, retelling.second.end
    block = text[start:end]
    where = re.sub(r"[\]\n\"]", " ", first_title.lower()).strip()
    note = f'^[check: told already in "{where}"; keep one]'
    match = _SENTENCE.match(block)
    if match and not re.search(r"==|\[|`", match["sentence"]):
        flagged = f"{match['lead']}=={match['sentence']}=={note}{block[match.end() :]}"
    else:
        flagged = f"==told twice=={note} {block}"
    return text[:start] + flagged + text[end:]
