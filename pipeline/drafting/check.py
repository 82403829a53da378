"""`essay check`: a draft as it is on disk, with the author's edits, checked against its notes again.

Two things count as unsupported: a flag the draft was written with and the author has not removed
(`==Priya Raman==^[check: not in your notes]`, where the name was told on the model's raw text), and a
number, date, sum of money or quote in the text now that none of the section's notes, nor the prompt,
holds. Names cannot be told again in lowercase prose, so for names the flags are the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import DraftError
from pipeline.core.text import FLAG, strip_flags
from pipeline.files.draftfile import locate, section_text
from pipeline.files.drafts import DraftFile
from pipeline.files.history import read_version
from pipeline.write.grounding import find_unsupported
from pipeline.write.sources import FOOTNOTE_REF

_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]\s]+\]:.*$", re.M)


@dataclass(frozen=True)
class Unsupported:
    section: str
    kind: str  # "flagged" (marked when written), "told twice" (a story an earlier section tells), or name, number, ...
    text: str


def check_draft(draft: DraftFile, notes_dir: Path, root: Path) -> list[Unsupported]:
    doc = read_version(draft)
    titles = doc.meta.section_titles()
    if not titles:
        raise DraftError(f"{draft.path} lists no sections in its frontmatter: was it written by essay?")
    prompt_text = _read(root / doc.meta.prompt) if doc.meta.prompt else ""
    found: list[Unsupported] = []
    for (slug, title), span in zip(titles, locate(doc.body, titles).values(), strict=True):
        if span is None:
            continue
        text = section_text(doc.body, span)
        seen = set()
        for match in FLAG.finditer(text):
            seen.add(match["inner"].lower())
            kind = "told twice" if match["note"].strip().startswith("told already") else "flagged"
            found.append(Unsupported(title, kind, match["inner"]))
        meta = doc.meta.section(slug)
        sources = [prompt_text, *(_read(notes_dir / n) for n in (meta.notes if meta else ()))]
        clean = FOOTNOTE_REF.sub("", _FOOTNOTE_DEF.sub("", strip_flags(text)))
        for claim in find_unsupported(clean, sources):
            if claim.text.lower() not in seen:
                seen.add(claim.text.lower())
                found.append(Unsupported(title, claim.kind, claim.text))
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ""
