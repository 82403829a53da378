"""The plan file: which note fragments go to which section, as markdown the author edits before prose is written.

    ---
    essay_plan: 1         prompt, prompt_hash, created, body_hash (the body as written, to tell later edits)
    ---

    # plan: <essay title>  then a blockquote on how to edit it, and one on what the author's corrections moved
    ## <section title>                                  one per prompt section, in prompt order
    about 250 words. open with the outage.              lines before the first item: the author's direction
    - fragment text ([[note/path]]) <!-- f:ID -->       a fragment; continuation lines indented by two spaces
    - (? or: the plateaus) text ([[note]]) <!-- f:ID -->  a mark first: a doubt, or a move (pipeline/plan/marks.py)
    - a point the author added                          no marker: the section must cover it
    ## fits no section                                  items kept out of the draft (a direction too)
    ## kept from your plan                              what the author wrote where a new plan has no place for it
    ## left out                                         what was kept off the plan: read back as it is, never an error

The `<!-- f:ID -->` comment, invisible in Obsidian's preview, ties an item to its fragment however it is edited;
`<!-- f:ID private -->` marks an item of a private note.
`pipeline/plan/render.py` writes it and `pipeline/plan/parse.py` reads it back; both share what is here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import yaml

from pipeline.core.errors import EssayError

FORMAT = 1
UNUSED_TITLE = "fits no section"
LEFT_OUT_TITLE = "left out"
KEPT_TITLE = "kept from your plan"
KEPT_NOTE = (
    "> what you wrote where the new plan has no place for it, kept so nothing of yours is lost; "
    "it stays out of the draft: move it under a section to use it."
)

FRONTMATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*(?:\n|\Z)", re.S | re.M)
CHECKBOX = re.compile(r"^\[[ xX]\](?:[ \t]|$)")
_WORDS = re.compile(r"(\d+(?:,\d{3})*)\s*(?:-\s*)?words?\b", re.I)


class PlanError(EssayError):
    """A plan file cannot be read as the author left it; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class PlanItem:
    text: str  # as written in the plan; stored with \n line ends and no outer whitespace
    fragment_id: str | None  # None: a point the author added by hand
    note_path: str | None  # the fragment's note, with `.md`; None for the author's own draft
    by_author: bool = False  # the fragment comes from the author's own draft in the prompt
    private: bool = False  # from a private note: kept from an untrusted endpoint even once the note is gone
    box: str = ""  # the author's checkbox, `[ ]` or `[x]`: written back as it was, never sent as text
    mark: str = ""  # a doubt or a correction's move (pipeline/plan/marks.py), shown before the text

    def __post_init__(self) -> None:
        # The file cannot hold outer whitespace or CR, so an item is kept in the form it reads back as.
        object.__setattr__(self, "text", unix_newlines(self.text).strip())


@dataclass(frozen=True)
class PlanSection:
    slug: str
    title: str
    direction: str = ""  # the author's lines under the heading; states the word count when there is one
    words: int | None = None
    items: tuple[PlanItem, ...] = ()

    def __post_init__(self) -> None:
        # The direction is what the file holds, so `words` is always the count it states.
        direction = "\n".join(line.rstrip() for line in unix_newlines(self.direction).split("\n")).strip()
        stated = _word_count(direction)
        if self.words is not None and stated is None:
            direction = f"about {self.words} words. {direction}".strip()
        elif self.words is not None and stated != self.words:
            raise ValueError(f"section {self.slug}: words={self.words} but its direction says {stated} words")
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "words", self.words if stated is None else stated)


@dataclass(frozen=True)
class Plan:
    prompt: str  # the prompt's path as the caller wrote it; the caller checks it is still its prompt
    prompt_hash: str
    created: str
    sections: tuple[PlanSection, ...]
    unused: tuple[PlanItem, ...]
    left_out: tuple[tuple[str, int], ...] = ()  # (reason, count); rendered as "N fragments: reason"
    # Fragments the shortlist left out as unrelated to the prompt: counted in the plan and listed beside it, in
    # plan-unrelated.md (pipeline/plan/planning.py): on a 10,000-note vault they are tens of thousands.
    unrelated: frozenset[str] = frozenset()
    unused_direction: str = ""  # the author's lines under *fits no section*, before its first item
    kept: tuple[PlanItem, ...] = ()  # under *kept from your plan*: out of the draft, never dropped
    kept_direction: str = ""  # the lines there that are not list items
    notice: str = ""  # what this plan changed of the author's last one, said at its top


def plan_hash(text: str) -> str:
    """The hash of a plan's body (the whole text if it has no frontmatter), blind to line ends and outer blanks."""
    text = unix_newlines(text.lstrip("\ufeff"))
    match = FRONTMATTER.match(text)
    body = text[match.end() :] if match else text
    return hashlib.sha256(body.strip().encode()).hexdigest()[:16]


def plan_edited(text: str) -> bool:
    """Whether the body differs from the one `render_plan` wrote (True too if that record is gone)."""
    match = FRONTMATTER.match(unix_newlines(text.lstrip("\ufeff")))
    try:
        meta = yaml.safe_load(match[1]) if match else None
    except yaml.YAMLError:
        return True
    return not isinstance(meta, dict) or str(meta.get("body_hash")) != plan_hash(text)


def _word_count(direction: str) -> int | None:
    match = _WORDS.search(direction)
    return int(match[1].replace(",", "")) if match else None


def unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
