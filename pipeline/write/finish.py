"""Finish a section: from the model's raw text to what the draft holds.

The order matters. Citation marks come out first (they name the fragments each paragraph used);
then names, numbers, dates, money and quotes that appear in none of the section's sources are flagged,
on the model's raw text, where a capital still tells a name; then the prose is lowercased (flags
survive it), and voice.md's mechanical rules are applied; last, each paragraph gets an Obsidian footnote
linking the notes it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.collect.notes import Fragment
from pipeline.core.text import lowercase_prose
from pipeline.embeddings.embed import EmbedderMissing, bundled_embedder
from pipeline.voice.apply import apply_voice
from pipeline.voice.rules import Voice
from pipeline.write.grounding import count_flags, find_unsupported, flag
from pipeline.write.sources import SourceFragment, add_footnotes, attribute, short_ids, split_citations


@dataclass(frozen=True)
class Finishing:
    """What finishing needs besides the text: the run's notes folder, its settings, other sources."""

    notes_dir: Path | None = None
    footnotes: bool = True
    extra_sources: tuple[str, ...] = ()  # the prompt and the author's own writing: not claims to flag
    voice: Voice | None = None  # voice.md's rules: sent with every writing call, the mechanical ones applied here


@dataclass(frozen=True)
class Finished:
    text: str
    flags: int  # claims flagged for the author to check


def citation_keys(fragments: Sequence[Fragment]) -> dict[str, Fragment]:
    """Short ids the writing call shows (f1, f2, ...), in the order the fragments are sent."""
    by_id = {f.id: f for f in fragments}
    return {key: by_id[fragment_id] for key, fragment_id in short_ids([f.id for f in fragments]).items()}


def finish_section(
    slug: str,
    raw: str,
    fragments: Sequence[Fragment],
    finishing: Finishing,
    keys: Mapping[str, Fragment] | None = None,
) -> Finished:
    """`keys` are the ids the call showed for `fragments` (by default f1, f2, ... in their order): a cited id
    that is not one of them is dropped as invented."""
    keys = citation_keys(fragments) if keys is None else keys
    prose, cited_keys = split_citations(raw, list(keys))
    cited = [[keys[k].id for k in paragraph] for paragraph in cited_keys]
    sources = [f"{f.note_path}\n{f.title}\n{f.date or ''}\n{f.context}\n{f.text}" for f in fragments]
    claims = find_unsupported(prose, [*sources, *finishing.extra_sources])
    text = lowercase_prose(flag(prose, claims))
    text = apply_voice(text, finishing.voice, [*finishing.extra_sources, *(f.text for f in fragments if f.by_author)])
    linkable: list[SourceFragment] = [(f.id, f.note_path, f.text) for f in fragments if f.note_path and not f.by_author]
    if finishing.footnotes and linkable:
        keep = {i for i, _, _ in linkable}
        per_paragraph = attribute(text, linkable, [[i for i in ids if i in keep] for ids in cited], _similarity)
        text = add_footnotes(slug, text, per_paragraph, linkable, finishing.notes_dir)
    return Finished(text, count_flags(text))


def _similarity(paragraph: str, texts: Sequence[str]) -> list[float]:
    """Cosine similarity by the bundled static embeddings; word overlap where they are missing."""
    try:
        embedder = bundled_embedder()
    except EmbedderMissing:
        from pipeline.write.sources import lexical_similarity

        return lexical_similarity(paragraph, texts)
    vectors = embedder.embed([paragraph, *texts])
    return [float(s) for s in np.clip(vectors[1:] @ vectors[0], 0.0, None)]
