"""Finer fragments: split a note body into the separate thoughts an essay section can use.

A note is often a list of unrelated thoughts (a daily note: a work update, a grocery list, a reflection).
Sorting works on single thoughts, so each bullet item, checklist item and loose line is its own piece; a
paragraph of prose, a fenced code block and a bullet with its sub-items stay whole. Each piece keeps the
heading or label it sits under as `context` ("things im satisfied:", "## reflection"), because that label
often says more about where the thought belongs than the thought itself. Text is kept exactly as written.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^#{1,6}\s+\S")
_BOLD_ONLY = re.compile(r"^\s*(\*\*|__)[^*_]+(\*\*|__)\s*:?\s*$")  # "**org culture**", "**reflection:**"
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?:[-*+]|\d+[.)])\s+(?P<text>.*)$")
_EMBED_ONLY = re.compile(r"^(\s*!\[\[[^\]]+\]\]\s*)+$")
_TAGS_ONLY = re.compile(r"^\s*(?:[-*+]\s+)?(?:#[^\W\d_][\w/-]*\s*)+$")  # "#dad #shop": the note's tags, not a thought
_ENDS_MID_SENTENCE = re.compile(r"(,|\b(the|a|an|and|or|but|of|to|in|on|for|with|that|is|was|my|i))\s*$", re.I)
_LABEL = re.compile(r":\s*(\*\*|__)?\s*$")  # a line whose last word ends in ":" introduces what follows
_MIN_WRAP_WIDTH = 50  # hard-wrapped prose has lines at least this long...
_MAX_WRAP_WIDTH = 120  # ...and no longer: longer lines are unwrapped paragraphs, one thought each


@dataclass(frozen=True)
class Piece:
    text: str
    context: str  # the heading and/or label the piece sits under ("" if none); never the note title


@dataclass
class _State:
    pieces: list[Piece]
    heading: str = ""
    label: str = ""  # a "things im satisfied:" line: context for the items under it
    blank_before: bool = False


def split_body(body: str) -> list[Piece]:
    """Split a note body (frontmatter already removed) into pieces, one thought each."""
    state = _State(pieces=[])
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            state.blank_before = True
            i += 1
            continue
        if _FENCE.match(line):
            end = _fence_end(lines, i)
            _add(state, lines[i : end + 1])
            i = end + 1
        elif _EMBED_ONLY.match(line):
            _attach_embed(state, line)
            i += 1
        elif _HEADING.match(line) or (_BOLD_ONLY.match(line) and not _LABEL.search(line)):
            state.heading, state.label = line.strip(), ""
            i += 1
        elif _LIST_ITEM.match(line):
            i = _take_list(state, lines, i)
        else:
            i = _take_text(state, lines, i)
        state.blank_before = False
    return state.pieces


def _context(state: _State, parent: str = "") -> str:
    return " / ".join(part for part in (state.heading, state.label, parent) if part)


def _add(state: _State, lines: list[str], parent: str = "") -> None:
    text = "\n".join(lines).strip()
    # A line of tags alone says what the note is about: the note keeps them as its tags (collect/notes.py), and
    # as a piece of its own it went to a section of every plan that shared its word.
    if re.search(r"\w", text) and not _TAGS_ONLY.match(text):
        state.pieces.append(Piece(text, _context(state, parent)))


def _attach_embed(state: _State, line: str) -> None:
    # An image illustrates the thought before it; alone it carries nothing to sort.
    if state.pieces:
        last = state.pieces[-1]
        state.pieces[-1] = Piece(f"{last.text}\n{line.strip()}", last.context)
    else:
        state.pieces.append(Piece(line.strip(), _context(state)))


def _fence_end(lines: list[str], start: int) -> int:
    for j in range(start + 1, len(lines)):
        if _FENCE.match(lines[j]):
            return j
    return len(lines) - 1


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _take_list(state: _State, lines: list[str], start: int) -> int:
    """Consume a list: each top-level item (with its sub-items) is a piece, except an item that only labels
    its children ("- saturday:"), whose children become pieces with it as context."""
    base = _indent(lines[start])
    i = start
    while i < len(lines):
        item = _LIST_ITEM.match(lines[i])
        if not item or _indent(lines[i]) < base:
            break
        if _indent(lines[i]) > base:  # an orphan sub-item: treat as its own item
            base = _indent(lines[i])
        block = [lines[i]]
        j = i + 1
        while j < len(lines) and lines[j].strip() and _indent(lines[j]) > base and not _FENCE.match(lines[j]):
            block.append(lines[j])
            j += 1
        if len(block) > 1 and _LABEL.search(item["text"]) and _LIST_ITEM.match(block[1]):
            sub = _State(pieces=[], heading=_context(state), label=item["text"].strip())
            _take_list(sub, block[1:], 0)
            state.pieces.extend(sub.pieces)
        else:
            _add(state, block)
        i = j
        while i < len(lines) and _EMBED_ONLY.match(lines[i]):
            _attach_embed(state, lines[i])
            i += 1
    return i


def _take_text(state: _State, lines: list[str], start: int) -> int:
    """Consume consecutive non-list lines: one prose paragraph, or loose lines that are separate thoughts."""
    block: list[str] = []
    i = start
    while i < len(lines) and lines[i].strip():
        line = lines[i]
        if _FENCE.match(line) or _LIST_ITEM.match(line) or _EMBED_ONLY.match(line) or _HEADING.match(line):
            break
        if block and _is_label(line):
            break
        block.append(line)
        i += 1
    if _is_label(block[0]):
        state.label = block[0].strip()
        rest = block[1:]
    else:
        if state.blank_before:
            state.label = ""  # a blank line and new text end the label's list
        rest = block
    if not rest:
        return i
    if _is_wrapped(rest):
        _add(state, rest)
    else:
        for line in rest:
            _add(state, [line])
    return i


def _is_label(line: str) -> bool:
    # Short lines only: a long sentence ending in ":" introduces an example, not a list of thoughts.
    return bool(_LABEL.search(line)) and len(line.strip()) <= 80


def _is_wrapped(block: list[str]) -> bool:
    """True when the lines are one paragraph hard-wrapped at a width: every line but the last is long and
    the next line's first word would not have fitted on it."""
    if len(block) == 1:
        return True
    width = max(len(line.rstrip()) for line in block)
    if not _MIN_WRAP_WIDTH <= width <= _MAX_WRAP_WIDTH:
        return False
    if len(block) == 2 and not _ENDS_MID_SENTENCE.search(block[0]):
        return False  # two long lines are as likely two thoughts: only a dangling end proves a wrap
    for line, nxt in itertools.pairwise(block):
        first_word = nxt.split()[0] if nxt.split() else ""
        if len(line.rstrip()) + 1 + len(first_word) <= width - 2:
            return False
    return True
