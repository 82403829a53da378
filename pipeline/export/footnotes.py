"""Footnotes for publishing: Obsidian's inline `^[note]` becomes a standard `[^label]` footnote (Hugo's goldmark
reads no inline ones), and every definition moves to the end of the document, in the order they are referred to.

A draft defines its footnotes inside each section (`[^growth-2]: [[daily/2026-01-12]]`), so regeneration can
replace one section alone; a published essay keeps them together at the end. A footnote whose definition holds
only links to notes is a *source* footnote: `--sources drop` removes it and its marks; the author's own footnotes,
with words of their own, always stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.export.links import wikilinks_in, without_wikilinks

_DEFINITION = re.compile(r"^\[\^(?P<label>[^\]\s]+)\]:[ \t]?(?P<text>.*)$")
_CONTINUATION = re.compile(r"^(?: {4}|\t)")


@dataclass(frozen=True)
class Footnote:
    label: str
    text: str  # the definition after `[^label]: `, continuation lines included

    @property
    def is_source(self) -> bool:
        """Only links to notes, separated by commas: what essay writes after a paragraph it drew from them."""
        return bool(wikilinks_in(self.text)) and not re.sub(r"[\s,;&]+|\band\b", "", without_wikilinks(self.text))


def inline_to_standard(text: str, taken: set[str]) -> str:
    """`text^[a note]` -> `text[^note-1]`, with `[^note-1]: a note` on a line at the end."""
    out: list[str] = []
    definitions: list[str] = []
    position = 0
    number = 0
    start = text.find("^[")
    while start != -1:
        end = _closing_bracket(text, start + 1)
        if end is None:
            start = text.find("^[", start + 2)
            continue
        number += 1
        while f"note-{number}" in taken:
            number += 1
        label = f"note-{number}"
        out += [text[position:start], f"[^{label}]"]
        definitions.append(f"[^{label}]: {text[start + 2 : end].strip()}")
        position = end + 1
        start = text.find("^[", position)
    out.append(text[position:])
    joined = "".join(out)
    return joined.rstrip("\n") + "\n\n" + "\n".join(definitions) + "\n" if definitions else joined


def split_footnotes(text: str) -> tuple[str, list[Footnote]]:
    """The text without its footnote definitions, and the definitions in their order (code already set aside)."""
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    found: list[Footnote] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        definition = _DEFINITION.match(line.rstrip("\n"))
        if definition is None:
            kept.append(line)
            index += 1
            continue
        body = [definition["text"]]
        index += 1
        while index < len(lines) and _continues(lines, index):
            body.append(lines[index].rstrip("\n"))
            index += 1
        found.append(Footnote(definition["label"], "\n".join(body).rstrip()))
    return "".join(kept), found


def remove_references(text: str, labels: set[str]) -> str:
    if not labels:
        return text
    wanted = "|".join(re.escape(label) for label in sorted(labels))
    return re.sub(rf"\[\^(?:{wanted})\](?!:)", "", text)


def referenced_order(text: str, footnotes: list[Footnote]) -> list[Footnote]:
    """Definitions in the order the text first refers to them; ones it never refers to last, as they were."""
    first = {}
    for match in re.finditer(r"\[\^([^\]\s]+)\](?!:)", text):
        first.setdefault(match[1], match.start())
    return sorted(footnotes, key=lambda f: (f.label not in first, first.get(f.label, 0)))


def render_definitions(footnotes: list[Footnote]) -> str:
    return "\n".join(f"[^{f.label}]: {f.text}" for f in footnotes)


def _continues(lines: list[str], index: int) -> bool:
    """An indented line goes on a definition; a blank one does when an indented line follows it."""
    if _CONTINUATION.match(lines[index]) and lines[index].strip():
        return True
    return not lines[index].strip() and index + 1 < len(lines) and bool(_CONTINUATION.match(lines[index + 1]))


def _closing_bracket(text: str, opening: int) -> int | None:
    """The `]` that closes the `[` at `opening`, on the same line, with brackets inside balanced."""
    depth = 0
    for index in range(opening, len(text)):
        char = text[index]
        if char == "\n":
            return None
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
    return None
