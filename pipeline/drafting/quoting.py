"""Private text reused where it is not private: a public note quoting a private one, a private item pasted into
the plan as a point. For an endpoint that may not have private notes such text is left out, and the note or plan
that holds it is named with what to do, before anything is sent; the privacy guard below would refuse it anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path
from textwrap import shorten

from pipeline.collect.notes import Fragment, VoiceSample
from pipeline.plan.reading import Material


def without_quotes(
    fragments: Sequence[Fragment],
    voice: Sequence[VoiceSample],
    private_source: Callable[[str], str | None],
    warn: Callable[[str], None],
) -> tuple[tuple[Fragment, ...], tuple[VoiceSample, ...], int]:
    """What may go to this endpoint of a public note that quotes a private one: nothing. Each such note is named
    once, with the private note it quotes; the count of fragments left out comes back."""
    named: set[str] = set()

    def holds_private(path: str, text: str) -> bool:
        source = private_source(text)
        if source and path not in named:
            named.add(path)
            warn(
                f"{path} holds text of private note {source}, so those lines stay on this machine too: "
                f"remove the quote, or mark {path} private"
            )
        return source is not None

    kept = tuple(f for f in fragments if not holds_private(f.note_path, f.text))
    voice = tuple(v for v in voice if not holds_private(v.note_path, v.text))
    return kept, voice, len(fragments) - len(kept)


def keep_private_quotes_home(
    material: Material,
    from_notes: Collection[str],
    private_source: Callable[[str], str | None],
    plan_path: Path,
    warn: Callable[[str], None],
) -> Material:
    """The plan's own points that hold a private note's text (a private item pasted in as a point) are left out
    for an endpoint that may not have it, each named; the fragments of notes were checked as they were read."""
    sections: dict[str, list[Fragment]] = {}
    for slug, items in material.sections.items():
        sections[slug] = []
        for item in items:
            source = None if item.id in from_notes else private_source(item.text)
            if source is None:
                sections[slug].append(item)
                continue
            quoted = shorten(item.text, 40, placeholder="…")
            warn(
                f"{plan_path}: the item '{quoted}' holds text of private note {source}, so it stays "
                "on this machine: delete it from the plan, or list the endpoint under [privacy] trusted"
            )
    return replace(material, sections=sections)
