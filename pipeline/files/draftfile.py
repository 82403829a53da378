"""The draft file format: provenance frontmatter, then each section under a marker and a heading.

    ---
    title: ...            version, parent, created, made_by, provider, model, hashes, sections: [...]
    ---

    <!-- section: the-habit -->
    ## the habit

    prose...

The marker is invisible in Obsidian's preview and lets a regeneration find a section after the
author has edited the file: renamed its heading, written between sections, deleted one. Where a
marker is gone, the section's `## ` heading as written is the fallback.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from pipeline.core.errors import DraftError
from pipeline.files.meta import DraftMeta, load_meta

_FRONTMATTER = re.compile(r"\A---\n(.*?\n)?---\n", re.S)
_MARKER = re.compile(r"^<!-- section: ([\w-]+) -->[ \t]*$", re.M)
_H2 = re.compile(r"^## +(.+?)[ \t]*$", re.M)
# A footnote definition and its indented continuation lines, as Obsidian and CommonMark read one.
_FOOTNOTE = re.compile(r"^\[\^([^\]\s]+)\]:.*(?:\n(?:[ \t]*\n)*[ \t]+\S.*)*", re.M)


def section_marker(slug: str) -> str:
    return f"<!-- section: {slug} -->"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DraftText:
    meta: DraftMeta
    body: str  # everything after the frontmatter, byte for byte


def compose(meta: DraftMeta | dict[str, Any], body: str) -> str:
    data = meta.to_dict() if isinstance(meta, DraftMeta) else meta
    header = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n{body}"


def parse(text: str, name: str) -> DraftText:
    match = _FRONTMATTER.match(text)
    if not match:
        raise DraftError(f"{name} has no frontmatter: was it written by essay? Draft again, or restore its frontmatter")
    try:
        data = yaml.safe_load(match[1] or "") or {}
    except yaml.YAMLError:
        raise DraftError(
            f"{name}: its frontmatter is not valid YAML; fix it (compare with an earlier version)"
        ) from None
    if not isinstance(data, dict):
        raise DraftError(f"{name}: its frontmatter is not a mapping; fix it by comparing with an earlier version")
    return DraftText(load_meta(data, name), text[match.end() :])


def body_hash(body: str) -> str:
    """A hash of the whole body as written, to tell later whether the author has edited it."""
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def render_section(slug: str, title: str, text: str) -> str:
    return f"{section_marker(slug)}\n## {title.lower()}\n\n{text.strip()}\n"


def render_body(sections: Sequence[tuple[str, str, str]]) -> str:
    """(slug, title, text) of each section, in order."""
    return "\n" + "\n".join(render_section(*s) for s in sections)


@dataclass(frozen=True)
class Span:
    start: int  # the marker, or the heading where the marker is gone
    text_start: int  # after the marker and the heading
    end: int  # where the next section starts, or the end of the body


def locate(body: str, sections: Sequence[tuple[str, str]]) -> dict[str, Span | None]:
    """Where each (slug, title) section is in the body, or None where neither marker nor heading is left."""
    starts: dict[str, tuple[int, int]] = {}
    markers = {m[1]: m for m in _MARKER.finditer(body)}
    headings = list(_H2.finditer(body))
    taken = set()  # headings that start a section already: two sections of one title take one each
    for slug, _title in sections:
        if slug in markers:
            heading = _H2.match(body, _skip_blank(body, markers[slug].end()))
            starts[slug] = (markers[slug].start(), heading.end() if heading else markers[slug].end())
            taken |= {heading.start()} if heading else set()
    for slug, title in sections:
        if slug in starts:
            continue
        wanted = _normal(title)
        match = next((h for h in headings if _normal(h[1]) == wanted and h.start() not in taken), None)
        if match:
            starts[slug] = (match.start(), match.end())
            taken.add(match.start())
    # Every marker counts as a boundary, even of a section this draft no longer lists.
    boundaries = sorted({s for s, _ in starts.values()} | {m.start() for m in markers.values()})
    spans: dict[str, Span | None] = {}
    for slug, _title in sections:
        if slug not in starts:
            spans[slug] = None
            continue
        start, text_start = starts[slug]
        end = next((b for b in boundaries if b > start), len(body))
        spans[slug] = Span(start, text_start, end)
    return spans


def section_text(body: str, span: Span) -> str:
    return body[span.text_start : span.end].strip()


def unknown_heading(body: str, span: Span) -> str | None:
    """A `## ` heading inside a section's span: the start of a section whose marker is gone and that
    the author renamed, so where this section ends cannot be told."""
    match = _H2.search(body, span.text_start, span.end)
    return match[0] if match else None


def orphan_heading(body: str, spans: dict[str, Span | None]) -> str | None:
    """A `## ` heading that starts no found section: a section renamed after its marker was lost, perhaps."""
    for heading in _H2.finditer(body):
        if not any(s and s.start <= heading.start() < s.text_start for s in spans.values()):
            return heading[0]
    return None


def markers_intact(body: str, sections: Sequence[tuple[str, str]]) -> bool:
    """Whether every section has its marker: then each boundary is certain, and a `## ` heading inside a
    section is the author's own."""
    return {slug for slug, _ in sections} <= {m[1] for m in _MARKER.finditer(body)}


def replace_section(body: str, span: Span, text: str) -> str:
    """The body with one section's text replaced; every byte outside that text stays as it was, and so do the
    footnote definitions in it that other sections refer to (Obsidian puts them all at the end of the file)."""
    tail = body[span.end :]
    kept = "\n".join(footnotes_used_elsewhere(body, span))
    text = text.strip() + (f"\n\n{kept}" if kept else "")
    return body[: span.text_start] + "\n\n" + text + "\n" + ("\n" if tail else "") + tail


def footnotes_used_elsewhere(body: str, span: Span) -> list[str]:
    """The footnote definitions in a section's text whose references are outside it, as written."""
    outside = body[: span.start] + body[span.end :]
    found = _FOOTNOTE.finditer(body, span.text_start, span.end)
    return [m[0].rstrip() for m in found if re.search(rf"\[\^{re.escape(m[1])}\](?!:)", outside)]


def insert_section(body: str, at: int, slug: str, title: str, text: str) -> str:
    """Put back a section the author deleted, at offset `at` (the end of the section before it)."""
    head, tail = body[:at], body[at:]
    if head and not head.endswith("\n\n"):
        head += "\n" if head.endswith("\n") else "\n\n"
    return head + render_section(slug, title, text) + ("\n" if tail else "") + tail


def _skip_blank(body: str, position: int) -> int:
    while position < len(body) and body[position] in " \t\n":
        position += 1
    return position


def _normal(title: str) -> str:
    return re.sub(r"[^\w]+", " ", title.lower()).strip()
