"""Regenerate one section of a draft as it is on disk now, author's edits included.

Only that section's text changes; every other byte of the file the author has (their edits, text
they added between sections, renamed headings) is carried into the next version as it is, and the
earlier versions are never touched. The section's earlier assignment of notes is reused unless the
notes changed or a reassignment is asked for, so a regeneration is usually one LLM call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Section
from pipeline.core.errors import DraftError, UsageError
from pipeline.drafting.choose import choose_section
from pipeline.drafting.inputs import Inputs, read_inputs
from pipeline.drafting.quoting import keep_private_quotes_home
from pipeline.drafting.record import notes_hash, now, section_meta
from pipeline.drafting.runner import essay_lock, writing_for
from pipeline.files.draftfile import (
    Span,
    body_hash,
    compose,
    footnotes_used_elsewhere,
    insert_section,
    locate,
    markers_intact,
    orphan_heading,
    replace_section,
    section_text,
    text_hash,
    unknown_heading,
)
from pipeline.files.drafts import DraftFile, next_version, write_new_version
from pipeline.files.history import Target, read_version
from pipeline.files.meta import DraftMeta
from pipeline.models.llm import EssayModel, Usage
from pipeline.models.session import Run
from pipeline.plan.planfile import Plan
from pipeline.plan.reading import PLAN_NAME, follow_plan, read_plan
from pipeline.sort.sort import sort_fragments
from pipeline.voice.generated import keep_generated
from pipeline.voice.rules import voice_hash
from pipeline.write.expand import Direction, Draft, SectionDraft, expand_section
from pipeline.write.finish import Finishing
from pipeline.write.grounding import count_flags
from pipeline.write.lengths import count_words, section_words
from pipeline.write.once import tell_once
from pipeline.write.retell import other_sections


@dataclass(frozen=True)
class RegenResult:
    file: DraftFile
    base: DraftFile
    title: str
    replaced_edits: bool  # the author had edited this section's text; it stays in the base version
    usage: Usage


def regen_section(
    run: Run, target: Target, query: str, *, instructions: str = "", reassign: bool = False
) -> RegenResult:
    with essay_lock(run, target.folder):
        return _regen_section(run, target, query, instructions=instructions, reassign=reassign)


def _regen_section(run: Run, target: Target, query: str, *, instructions: str, reassign: bool) -> RegenResult:
    started = time.perf_counter()
    base = target.chosen or target.versions[-1]
    doc = read_version(base)
    sections = doc.meta.section_titles()
    if not sections:
        raise DraftError(f"{base.path} lists no sections in its frontmatter: was it written by essay?")
    slug, title = choose_section(sections, query, base.path.name)
    span = _checked_span(doc.body, sections, slug, title, base.path)
    prompt_path = target.prompt_path or _prompt_of(doc.meta.prompt, run.workspace.root)
    if not prompt_path.is_file():
        raise UsageError(f"the prompt of {base.path} ({prompt_path}) is not found: pass the prompt file as TARGET")

    inputs = read_inputs(run, prompt_path)
    llm = run.essay_model(target.folder.name)
    by_id = {f.id: f for f in inputs.fragments}
    recorded = doc.meta.section(slug)
    plan = None if reassign else read_plan(target.folder, inputs.prompt, run.workspace.root)
    unchanged = not reassign and doc.meta.notes_hash == notes_hash(inputs.fragments)
    stored = list(recorded.fragments) if recorded and unchanged else None
    chosen, direction = _material(inputs, plan, (slug, title), stored, llm, run.progress.on_warning, target.folder)
    if not chosen:
        hint = " (or run `essay plan` again)" if plan else ""
        raise UsageError(f"no notes are assigned to section '{title}': write it yourself, or add notes about it{hint}")
    if plan:
        run.progress.on_info(f"section material from {target.folder / PLAN_NAME}")
    section = next((s for s in inputs.prompt.sections if s.slug == slug), Section(slug, title, ""))
    version = next_version(target.folder)
    sample = f"{target.folder.name}/v{version}.{run.store.times_written(target.folder.name, version)}"
    guidance = ". ".join(part for part in (direction[0], instructions) if part)
    # The other sections as the draft has them: what they cover, and their share of an asked length.
    everything, stated = _all_material(inputs, plan, doc.meta, slug, chosen)
    words = direction[1] or section_words(inputs.prompt, everything, stated).get(slug)
    writing = writing_for(run, inputs)
    others = other_sections(inputs.prompt, section, everything)
    new = expand_section(inputs.prompt, section, chosen, llm.stage("regen", sample), writing, (guidance, words), others)
    by_id.update({f.id: f for f in chosen})
    run.progress.on_section(new, 1, 1)
    if span is None:  # the author deleted it: put it back where it belongs in the prompt's order
        spans = locate(doc.body, sections)
        body = insert_section(doc.body, _insertion_point(sections, spans, slug, len(doc.body)), slug, title, new.text)
        replaced_edits = False
    else:
        old_text = section_text(doc.body, span)
        for kept in footnotes_used_elsewhere(doc.body, span):  # carried into the new version: not an edit lost
            old_text = old_text.replace(kept, "")
        replaced_edits = recorded is not None and text_hash(old_text) != recorded.text_hash
        body = replace_section(doc.body, span, new.text)
    new, body = _told_once(inputs, sections, body, new, chosen, llm.stage("retell", sample), writing.finishing)
    keep_generated(run.workspace.state_dir, [new.text] if new.generated else [])  # for `essay voice`

    meta = doc.meta.model_copy(
        update={
            "parent": base.version,
            "created": now(),
            "made_by": "regen",
            "regenerated": slug,
            "instructions": instructions or None,
            "voice_hash": voice_hash(writing.finishing.voice),
            "provider": run.provider.provider,
            "model": run.provider.model,
            "calls": llm.usage.calls,
            "prompt_tokens": llm.usage.prompt_tokens,
            "output_tokens": llm.usage.completion_tokens,
            "seconds": round(time.perf_counter() - started, 1),
            "body_hash": body_hash(body),
            "words": sum(count_words(section_text(body, span)) for span in locate(body, sections).values() if span),
            "sections": tuple(section_meta(new, by_id) if s.slug == slug else s for s in doc.meta.sections),
        }
    )
    crlf = _uses_crlf(base.path)
    written = write_new_version(
        target.folder,
        lambda number: _line_ends(compose(meta.model_copy(update={"version": number}), body), crlf),
        temp_dir=run.workspace.temp_dir,
    )
    run.store.mark_written(target.folder.name, written.version)
    return RegenResult(written, base, title, replaced_edits, llm.usage)


def _all_material(
    inputs: Inputs, plan: Plan | None, meta: DraftMeta, slug: str, chosen: list[Fragment]
) -> tuple[dict[str, list[Fragment]], dict[str, int | None]]:
    """Every section's material (the plan's, else what the draft recorded) with `chosen` for this one, and
    the plan's word counts."""
    if plan is not None:
        material = follow_plan(plan, inputs.prompt, list(inputs.fragments), inputs.keeps_home)
        return {**material.sections, slug: chosen}, {s: d[1] for s, d in material.directions.items()}
    by_id = {f.id: f for f in inputs.fragments}
    recorded = {s.slug: [by_id[i] for i in s.fragments if i in by_id] for s in meta.sections}
    return {**recorded, slug: chosen}, {}


def _told_once(
    inputs: Inputs,
    sections: Sequence[tuple[str, str]],
    body: str,
    new: SectionDraft,
    chosen: list[Fragment],
    llm: EssayModel,
    finishing: Finishing,
) -> tuple[SectionDraft, str]:
    """The new section without a story another section of the draft tells (rewritten or flagged, as a draft
    does); every other section is left exactly as it is."""
    spans = locate(body, sections)
    present = [
        SectionDraft(s, t, section_text(body, span), (), generated=s == new.slug)
        for s, t in sections
        if (span := spans.get(s)) is not None
    ]
    once = tell_once(Draft(inputs.prompt, tuple(present)), {new.slug: chosen}, llm, finishing)
    text = next(s.text for s in once.draft.sections if s.slug == new.slug)
    span = spans.get(new.slug)
    if span is None or text == section_text(body, span):
        return new, body
    for kept in footnotes_used_elsewhere(body, span):  # `replace_section` carries these again itself
        text = text.replace(kept, "")
    text = text.strip()
    return replace(new, text=text, flags=count_flags(text)), replace_section(body, span, text)


def _material(
    inputs: Inputs,
    plan: Plan | None,
    section: tuple[str, str],
    stored: list[str] | None,
    llm: EssayModel,
    warn: Callable[[str], None],
    folder: Path,
) -> tuple[list[Fragment], Direction]:
    """The section's material: from the plan where there is one; else the fragments the draft recorded
    (`stored`, None when the notes changed since or a new sort is asked for), or a new sort."""
    slug, title = section
    if plan is not None:
        material = follow_plan(plan, inputs.prompt, list(inputs.fragments), inputs.keeps_home)
        material = keep_private_quotes_home(
            material, {f.id for f in inputs.fragments}, inputs.private_source, folder / PLAN_NAME, warn
        )
        for warning in material.warnings:
            warn(warning)
        return material.sections.get(slug, []), material.directions.get(slug, ("", None))
    by_id = {f.id: f for f in inputs.fragments}
    if stored is not None and all(i in by_id for i in stored):
        return [by_id[i] for i in stored], ("", None)
    if slug not in {s.slug for s in inputs.prompt.sections}:
        raise UsageError(f"section '{title}' is no longer in {inputs.prompt.path}: put it back to sort its notes")
    result = sort_fragments(inputs.prompt, list(inputs.fragments), llm.stage("sort"))
    return [by_id[i] for i in result.plan.sections[slug]], ("", None)


def _checked_span(body: str, sections: Sequence[tuple[str, str]], slug: str, title: str, path: Path) -> Span | None:
    """Where the section is; None if the author deleted it. Refuses, writing nothing, where its boundary
    cannot be told: a `## ` heading that matches no section may be this section renamed, or the next one."""
    spans = locate(body, sections)
    span = spans[slug]
    if span is not None and markers_intact(body, sections):
        return span  # every boundary is marked: a `## ` heading inside the section is the author's own
    fix = (
        "Put its marker back above it (<!-- section: SLUG -->, with the slug of the section it starts) or "
        "restore its heading, then try again; nothing was written"
    )
    if span is not None and (heading := unknown_heading(body, span)):
        raise DraftError(
            f"cannot tell where section '{title}' ends in {path}: the heading '{heading}' after it "
            f"matches no section. {fix}"
        )
    if span is None and (heading := orphan_heading(body, spans)):
        raise DraftError(
            f"cannot find section '{title}' in {path}: its marker is gone and no heading matches it, "
            f"but '{heading}' matches no section, so it may be this one renamed. {fix}"
        )
    return span


def _prompt_of(recorded: str, root: Path) -> Path:
    path = Path(recorded)
    return path if path.is_absolute() or not (root / path).is_file() else root / path


def _insertion_point(
    sections: Sequence[tuple[str, str]], spans: dict[str, Span | None], slug: str, body_end: int
) -> int:
    """After the last section before it that is still there; else before the first one after it."""
    order = [s for s, _ in sections]
    index = order.index(slug)
    ends = [span.end for s in order[:index] if (span := spans[s])]
    if ends:
        return max(ends)
    return min((span.start for s in order[index + 1 :] if (span := spans[s])), default=body_end)


def _uses_crlf(path: Path) -> bool:
    """Whether the author's editor writes the draft with Windows line ends (the text is read with \\n ones)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return data.count(b"\r\n") * 2 > data.count(b"\n")


def _line_ends(text: str, crlf: bool) -> str:
    return text.replace("\n", "\r\n") if crlf else text
