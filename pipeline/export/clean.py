"""A draft made clean for publishing: what essay and Obsidian put in it for editing goes, the author's words stay.

Out go essay's frontmatter (a `title` and `date` that Quartz and Hugo read take its place, with any keys the
author added), the section markers and every other comment (`<!-- -->`, Obsidian's `%% %%`: invisible in a
preview, so often private, and still in a published page's source), and the flags: an export with flags left
stops and names them, unless asked to drop the marks and keep the text. Wikilinks become their labels (or
relative links), footnotes standard ones at the end; for HTML and Word, callouts and ==highlights== become what
any reader shows (markdown keeps them for Quartz, which reads them). Code, inline or fenced, is set aside first
and put back byte for byte, so nothing in it is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from pipeline.core.errors import DraftError
from pipeline.core.text import strip_flags
from pipeline.export.footnotes import (
    inline_to_standard,
    referenced_order,
    remove_references,
    render_definitions,
    split_footnotes,
)
from pipeline.export.links import Href, convert_links
from pipeline.files.draftfile import DraftText, locate
from pipeline.files.meta import DraftMeta
from pipeline.write.expand import EMPTY_SECTION_NOTE
from pipeline.write.grounding import find_flags

_CODE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,}).*?(?:^[ \t]*(?P=fence)[^\n]*$|\Z)"
    r"|(?P<ticks>`+)(?:(?!\n[ \t]*\n)[^`])+(?P=ticks)",
    re.S | re.M,
)
_SET_ASIDE = re.compile("\x00(\\d+)\x00")
# Hidden in every preview, so often a private remark: a published page's source would still show it.
_COMMENT_LINE = re.compile(r"^[ \t]*<!--(?:(?!-->).)*-->[ \t]*(?:\n|\Z)", re.S | re.M)
_COMMENT = re.compile(r"<!--.*?-->|%%.*?%%", re.S)
_CALLOUT = re.compile(r"^(?P<quote>(?:>[ \t]?)+)\[!(?P<kind>[\w-]+)\][+-]?[ \t]*(?P<title>.*)$", re.M)
_HIGHLIGHT = re.compile(r"==(?=\S)([^=\n]+?)(?<=\S)==")
LISTED_FLAGS = 10  # named in the one error line; `essay check` lists every one
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@dataclass(frozen=True)
class CleanOptions:
    sources: Literal["keep", "drop"] = "keep"
    flags: Literal["refuse", "drop"] = "refuse"
    href: Href | None = None  # None: a wikilink becomes its label; else a link to what this gives
    image: Href | None = None  # an embedded image's source; None: as `href` gives, or its name
    # Rendered here (html, docx) rather than by a site that reads Obsidian's own syntax (Quartz): a callout
    # becomes a quote under a bold title, a ==highlight== a <mark>.
    rendered: bool = False


@dataclass(frozen=True)
class CleanDraft:
    title: str
    date: str  # YYYY-MM-DD, or "" when the draft does not say
    frontmatter: dict[str, Any]
    body: str  # CommonMark with footnotes, definitions at the end
    sources_kept: int  # footnotes that name the writer's notes, left in
    sources_dropped: int
    flags_dropped: int
    placeholders: int  # sections still holding essay's "write it yourself" note

    def markdown(self) -> str:
        header = yaml.safe_dump(self.frontmatter, sort_keys=False, allow_unicode=True, width=1000)
        return f"---\n{header}---\n\n{self.body}"


def clean_draft(doc: DraftText, name: str, options: CleanOptions) -> CleanDraft:
    """`name` is the draft's path as the user knows it, for the error that lists flags left in it."""
    flags = find_flags(_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), doc.body))  # code holds no claims
    if flags and options.flags == "refuse":
        raise DraftError(_flags_left(doc, name, flags))
    code: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        code.append(match.group())
        return f"\x00{len(code) - 1}\x00"

    text = _CODE.sub(set_aside, doc.body)
    text = _COMMENT.sub("", _COMMENT_LINE.sub("", text))
    text = strip_flags(text)
    placeholders = text.count(EMPTY_SECTION_NOTE.splitlines()[0])
    if options.rendered:
        text = _CALLOUT.sub(lambda m: f"{m['quote']}**{m['title'].strip() or m['kind'].capitalize()}**", text)
        text = _HIGHLIGHT.sub(r"<mark>\1</mark>", text)
    text = inline_to_standard(text, set(re.findall(r"\[\^([^\]\s]+)\]", text)))
    text, footnotes = split_footnotes(text)
    dropped = {f.label for f in footnotes if f.is_source} if options.sources == "drop" else set()
    text = remove_references(text, dropped)
    kept = referenced_order(text, [f for f in footnotes if f.label not in dropped])
    text = _BLANK_LINES.sub("\n\n", text).strip("\n") + "\n"
    if kept:
        text += "\n" + render_definitions(kept) + "\n"
    text = convert_links(text, options.href, options.image)
    body = _SET_ASIDE.sub(lambda m: code[int(m[1])], text)
    title, date = doc.meta.title, doc.meta.created[:10]
    return CleanDraft(
        title=title,
        date=date,
        frontmatter=_frontmatter(doc.meta, title, date),
        body=body,
        sources_kept=sum(f.is_source for f in kept),
        sources_dropped=len(dropped),
        flags_dropped=len(flags),
        placeholders=placeholders,
    )


def _frontmatter(meta: DraftMeta, title: str, date: str) -> dict[str, Any]:
    """A title and date for Quartz and Hugo, then the keys the author added (tags, aliases, ...), which win."""
    data: dict[str, Any] = {"title": title} if title else {}
    if date:
        data["date"] = date
    return data | dict(meta.model_extra or {})


def _flags_left(doc: DraftText, name: str, flags: list[tuple[int, str]]) -> str:
    spans = locate(doc.body, doc.meta.section_titles())
    titles = dict(doc.meta.section_titles())

    def section_of(offset: int) -> str:
        inside = [slug for slug, span in spans.items() if span and span.start <= offset < span.end]
        return f" in '{titles[inside[0]]}'" if inside else ""

    listed = "; ".join(f'"{claim}"{section_of(offset)}' for offset, claim in flags[:LISTED_FLAGS])
    if len(flags) > LISTED_FLAGS:
        listed += f" and {len(flags) - LISTED_FLAGS} more (`essay check {name}` lists them all)"
    return (
        f"{name} still has {len(flags)} flagged claim{'s' if len(flags) != 1 else ''}: {listed}. Check each "
        "against your notes and delete its ==marks== and ^[check: ...] note, or export with --flags drop to keep "
        "the text and drop the marks"
    )
