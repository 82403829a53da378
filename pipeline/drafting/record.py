"""What a draft's frontmatter records of its run: its sections' sources, and hashes that tell when it is stale."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from pipeline.collect.notes import Fragment
from pipeline.drafting.inputs import Inputs
from pipeline.drafting.layout import caching_pays
from pipeline.files.draftfile import text_hash
from pipeline.files.meta import SectionMeta
from pipeline.messages.instructions import templates_hash
from pipeline.models.providers.slots import shares_prefix
from pipeline.models.session import Run
from pipeline.voice.rules import load_voice, voice_hash
from pipeline.write.expand import SectionDraft


def section_meta(section: SectionDraft, fragments: dict[str, Fragment]) -> SectionMeta:
    """What the frontmatter records of one section: where its text came from, and a hash of it."""
    return SectionMeta(
        slug=section.slug,
        title=section.title,
        notes=tuple(dict.fromkeys(fragments[i].note_path for i in section.fragment_ids if i in fragments)),
        fragments=section.fragment_ids,
        text_hash=text_hash(section.text),
        flags=section.flags,
    )


def notes_hash(fragments: Sequence[Fragment]) -> str:
    """Changes when any note the essay may use changes: then an earlier assignment is stale."""
    return hashlib.sha256("\n".join(sorted(f.id for f in fragments)).encode()).hexdigest()[:16]


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def input_hash(inputs: Inputs, run: Run) -> str:
    """Changes when the prompt, the notes it may use, the model, the stage templates or voice.md change."""
    digest = hashlib.sha256()
    digest.update(inputs.prompt.path.read_bytes())
    for fragment in inputs.fragments:
        digest.update(fragment.id.encode())
    llm = run.provider
    # Without asking the server: whether a draft is up to date must not hang on its answer, nor send anything.
    shared = shares_prefix(run.settings, ask_server=False, caches=caching_pays(run, inputs.prompt, quiet=True))
    digest.update(f"{llm.provider}\n{llm.model}\n{templates_hash(shared=shared)}".encode())
    digest.update((voice_hash(load_voice(run.workspace.root)) or "").encode())  # voice.md's rules change the text
    return digest.hexdigest()[:16]
