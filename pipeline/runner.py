"""The runner: wires the stages together for one essay. The CLI only parses options and prints.

collect_notes -> parse_prompt -> assign_fragments -> expand_sections -> write_new_version
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.assign import Plan, assign_fragments, sorting_cost
from pipeline.cache import CachedModel, Store
from pipeline.config import Settings, is_trusted
from pipeline.draftfile import body_hash, compose, render_body, text_hash
from pipeline.drafts import DraftFile, essay_dir, next_version, write_new_version
from pipeline.expand import (
    SectionDraft,
    expand_sections,
    pick_voice_samples,
    target_words,
    voice_budget,
    writing_prompt_tokens,
)
from pipeline.instructions import templates_hash
from pipeline.llm import ChatModel, MeteredModel, Usage
from pipeline.notes import Fragment, Notes, collect_notes
from pipeline.prompt import Prompt, parse_prompt


class Progress:
    """What a run reports as it goes; the CLI prints it. Every method may be left as it is."""

    def on_warning(self, message: str) -> None: ...

    def on_collected(self, notes: Notes, sent: int) -> None: ...

    def on_assign_batch(self, number: int, total: int) -> None: ...

    def on_section(self, section: SectionDraft, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class Inputs:
    """What a run reads: the prompt, the notes, and the fragments that may go to this model."""

    prompt: Prompt
    notes: Notes
    fragments: tuple[Fragment, ...]
    voice_samples: tuple[str, ...]  # the author's own writing: their draft in the prompt, `voice: true` notes
    withheld_private: tuple[str, ...]  # note paths kept back from an untrusted HTTP endpoint


@dataclass(frozen=True)
class DraftResult:
    file: DraftFile
    plan: Plan
    usage: Usage


@dataclass(frozen=True)
class DryRun:
    inputs: Inputs
    batches: int
    calls: int
    prompt_tokens: int
    output_tokens: int


def read_inputs(
    prompt_path: Path,
    notes_dir: Path,
    drafts_dir: Path,
    settings: Settings,
    llm: ChatModel,
    progress: Progress | None = None,
) -> Inputs:
    """The prompt and the notes it may use; bad notes and private notes kept home are reported as warnings."""
    prompt = parse_prompt(prompt_path)
    notes = collect_notes(
        notes_dir,
        ignore=settings.ignore,
        exclude=(prompt_path, drafts_dir),
        private_globs=settings.private,
    )
    fragments = tuple(f for f in notes.fragments if prompt_selects(prompt, f))
    voice = notes.voice_samples
    withheld: tuple[str, ...] = ()
    if llm.sends_over_http and not is_trusted(settings, llm.endpoint):
        withheld = tuple(
            dict.fromkeys([f.note_path for f in fragments if f.private] + [v.note_path for v in voice if v.private])
        )
        fragments = tuple(f for f in fragments if not f.private)
        voice = tuple(v for v in voice if not v.private)
    samples = ((prompt.author_draft,) if prompt.author_draft else ()) + tuple(v.text for v in voice)
    progress = progress or Progress()
    for warning in notes.warnings:
        progress.on_warning(warning)
    if withheld:
        progress.on_warning(
            f"{len(withheld)} private note(s) stay on this machine, not sent to {llm.endpoint}; "
            "list the endpoint under [privacy] trusted in essay.toml to include them"
        )
    return Inputs(prompt, notes, fragments, samples, withheld)


def prompt_selects(prompt: Prompt, fragment: Fragment) -> bool:
    """Whether a prompt's `notes:` globs and `tags:` (if it has any) let this fragment in."""
    if prompt.note_globs and not any(fnmatch.fnmatch(fragment.note_path, g) for g in prompt.note_globs):
        return False
    return not prompt.tags or any(tag in fragment.tags for tag in prompt.tags)


def draft_essay(
    inputs: Inputs,
    drafts_dir: Path,
    llm: ChatModel,
    settings: Settings,
    progress: Progress | None = None,
    *,
    store: Store | None = None,
    temp_dir: Path | None = None,
) -> DraftResult:
    """Draft one essay. With a store, answered calls are reused: a run that was interrupted
    before it wrote its version resumes where it stopped."""
    progress = progress or Progress()
    started = time.perf_counter()
    metered = MeteredModel(llm)
    prompt, fragments = inputs.prompt, inputs.fragments
    folder = essay_dir(drafts_dir, prompt.path)  # checked before any call is spent
    version = next_version(folder)
    plan = assign_fragments(
        prompt,
        fragments,
        CachedModel(metered, store, essay=folder.name, stage="assign"),
        on_batch=progress.on_assign_batch,
    )
    done = 0

    def section_done(section: SectionDraft) -> None:
        nonlocal done
        done += 1
        progress.on_section(section, done, len(prompt.sections))

    draft = expand_sections(
        prompt,
        plan,
        {f.id: f for f in fragments},
        CachedModel(metered, store, essay=folder.name, stage="expand", sample=f"{folder.name}/v{version}"),
        voice_samples=inputs.voice_samples,
        concurrency=settings.concurrency,
        on_section=section_done,
        on_warning=progress.on_warning,
    )
    by_id = {f.id: f for f in fragments}
    body = render_body([(s.slug, s.title, s.text) for s in draft.sections])
    meta = {
        "title": prompt.title,
        "prompt": prompt.path.as_posix(),
        "version": 0,  # set when the version is claimed
        "parent": None,
        "created": now(),
        "made_by": "draft",
        "provider": llm.provider,
        "model": llm.model,
        "input_hash": input_hash(inputs, llm),
        "notes_hash": notes_hash(fragments),
        "calls": metered.usage.calls,
        "prompt_tokens": metered.usage.prompt_tokens,
        "output_tokens": metered.usage.completion_tokens,
        "seconds": round(time.perf_counter() - started, 1),
        "unused_fragments": len(plan.unused),
        "body_hash": body_hash(body),
        "sections": [section_entry(s, by_id) for s in draft.sections],
    }
    written = write_new_version(folder, lambda number: compose({**meta, "version": number}, body), temp_dir=temp_dir)
    return DraftResult(written, plan, metered.usage)


def dry_run(inputs: Inputs, llm: ChatModel) -> DryRun:
    """What a draft would send, estimated without any call, as if the notes split evenly across sections."""
    prompt, fragments = inputs.prompt, inputs.fragments
    batches, sort_in, sort_out = sorting_cost(prompt, fragments, llm.context_window)
    sections = len(prompt.sections)
    write_in = write_out = 0
    samples = pick_voice_samples(inputs.voice_samples, voice_budget(llm.context_window))
    for number, section in enumerate(prompt.sections):
        share = list(fragments[number::sections])
        if share:
            out = target_words(share) * 2 + 64
            write_in += min(writing_prompt_tokens(prompt, section, share, samples), llm.context_window - out)
            write_out += out
    return DryRun(
        inputs=inputs,
        batches=batches,
        calls=batches + sum(1 for n in range(sections) if fragments[n::sections]),
        prompt_tokens=sort_in + write_in,
        output_tokens=sort_out + write_out,
    )


def section_entry(section: SectionDraft, fragments: dict[str, Fragment]) -> dict[str, object]:
    """What the frontmatter records of one section: where its text came from, and a hash of it."""
    return {
        "slug": section.slug,
        "title": section.title,
        "notes": list(dict.fromkeys(fragments[i].note_path for i in section.fragment_ids)),
        "fragments": list(section.fragment_ids),
        "text_hash": text_hash(section.text),
    }


def notes_hash(fragments: Sequence[Fragment]) -> str:
    """Changes when any note the essay may use changes: then an earlier assignment is stale."""
    return hashlib.sha256("\n".join(sorted(f.id for f in fragments)).encode()).hexdigest()[:16]


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def input_hash(inputs: Inputs, llm: ChatModel) -> str:
    """Changes when the prompt, the notes it may use, the model or the stage templates change."""
    digest = hashlib.sha256()
    digest.update(inputs.prompt.path.read_bytes())
    for fragment in inputs.fragments:
        digest.update(fragment.id.encode())
    digest.update(f"{llm.provider}\n{llm.model}\n{templates_hash()}".encode())
    return digest.hexdigest()[:16]
