"""Each section as the model wrote it, kept in .essay/voice/generated/<text hash>.md.

A draft's frontmatter holds only a hash of each section's generated text, and the author edits the draft in
place: once they have, what the model wrote is gone from the drafts folder. The response cache holds the raw
answer, but before finishing (citations, flags, casing, footnotes) and keyed by the request, so no section can
be found in it again for sure. So the finished text is kept here as it is written, named by the hash the
frontmatter records; like the cache, it never leaves the machine.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from pipeline.files.draftfile import text_hash

FOLDER = Path("voice") / "generated"


def keep_generated(state_dir: Path, texts: Iterable[str]) -> None:
    """Keep each generated section text; a failure to keep one costs only what `essay voice` can learn."""
    folder = state_dir / FOLDER
    for text in texts:
        path = folder / f"{text_hash(text)}.md"
        if path.is_file():
            continue
        temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temp.write_text(text.strip() + "\n", encoding="utf-8")
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)


def recall_generated(state_dir: Path, hash_: str) -> str | None:
    """The generated text with this hash, if it was kept and is still what was kept."""
    path = state_dir / FOLDER / f"{hash_}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text.strip() if text_hash(text) == hash_ else None
