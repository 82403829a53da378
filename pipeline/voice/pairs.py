"""What the model wrote and what the author made of it: one pair per generated section, across every essay.

A section's frontmatter entry (slug, text hash) is carried by every later version made by `essay regen` that
keeps it, so one generated text may sit, edited more or less, in several versions. Its generated text is the
one kept when it was written (see `generated`), or else any version whose section still has that hash (an
earlier draft, made before texts were kept, read again before the author touched it). Its edited text is the
latest version's that differs from it: the author's most recent word on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import DraftError
from pipeline.core.text import strip_flags
from pipeline.files.draftfile import locate, section_text, text_hash
from pipeline.files.drafts import list_versions
from pipeline.files.history import read_version
from pipeline.voice.generated import recall_generated

_TODO = "> [!todo]"  # a section no note matched: the author writes it, nothing the model wrote
_FOOTNOTE_DEFINITION = re.compile(r"^\[\^[^\]\n]+\]:[^\n]*\n?", re.M)
_FOOTNOTE_MARK = re.compile(r"\[\^[^\]\n]+\]")


@dataclass(frozen=True)
class EditPair:
    generated: str
    edited: str
    where: str  # drafts/x/v002.md, section slug: for the author to find it


@dataclass(frozen=True)
class Pairs:
    edited: tuple[EditPair, ...]
    unedited: int  # generated sections the author has left as they were
    unknown: int  # sections whose generated text is lost (written before texts were kept, and edited since)


def edit_pairs(drafts_dir: Path, state_dir: Path) -> Pairs:
    """Every generated section of every essay in `drafts_dir`, with the author's latest edit of it."""
    seen: dict[str, list[tuple[str, str]]] = {}  # text hash -> (where, text on disk), oldest version first
    folders = sorted(p for p in drafts_dir.iterdir() if p.is_dir()) if drafts_dir.is_dir() else []
    for folder in folders:
        for draft in list_versions(folder):
            try:
                doc = read_version(draft)
            except DraftError:
                continue  # broken frontmatter: nothing here can be matched to what was generated
            spans = locate(doc.body, doc.meta.section_titles())
            for section in doc.meta.sections:
                span = spans.get(section.slug)
                if section.text_hash and span is not None:
                    where = f"{draft.path}, section {section.slug}"
                    seen.setdefault(section.text_hash, []).append((where, section_text(doc.body, span)))
    pairs: list[EditPair] = []
    unedited = unknown = 0
    for hash_, copies in seen.items():
        generated = recall_generated(state_dir, hash_)
        if generated is None:
            generated = next((text for _, text in copies if text_hash(text) == hash_), None)
        if generated is not None and generated.startswith(_TODO):
            continue
        edits = [(where, text) for where, text in copies if text_hash(text) != hash_ and text.strip()]
        if generated is None:
            unknown += bool(edits)
        elif not edits:
            unedited += 1
        else:
            where, text = edits[-1]
            if plain(text) != plain(generated):
                pairs.append(EditPair(plain(generated), plain(text), where))
    return Pairs(tuple(pairs), unedited, unknown)


def plain(text: str) -> str:
    """A section's prose without what finishing added around it (flags, footnotes), which is not voice: an
    author who deletes them is checking facts, not changing how they sound."""
    text = _FOOTNOTE_DEFINITION.sub("", text)
    text = strip_flags(text)
    text = _FOOTNOTE_MARK.sub("", text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()
