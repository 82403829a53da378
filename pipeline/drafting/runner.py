"""The runner: wires the stages together for one essay. The CLI only parses options and prints.

read_inputs (prompt + notes, filtered for this run's endpoint) -> sort -> expand_sections -> write_new_version

Beside it: read_inputs in inputs.py, the calls' shared opening in layout.py, what the frontmatter records in
record.py, and the dry run in dryrun.py.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.locks import essay_lock_name, holding
from pipeline.core.text import learn_casing
from pipeline.drafting.inputs import Inputs
from pipeline.drafting.layout import shared_layout
from pipeline.drafting.quoting import keep_private_quotes_home
from pipeline.drafting.record import input_hash, notes_hash, now, section_meta
from pipeline.files.draftfile import body_hash, compose, render_body
from pipeline.files.drafts import DraftFile, essay_dir, folder_owner, next_version, prompt_ref, write_new_version
from pipeline.files.meta import DraftMeta
from pipeline.messages.shared import SharedNotes
from pipeline.models.llm import Usage
from pipeline.models.session import Run
from pipeline.plan.carry import as_planned
from pipeline.plan.planfile import Plan, plan_edited, plan_hash
from pipeline.plan.planning import PlanRequest, PlanResult, make_plan
from pipeline.plan.reading import PLAN_NAME, Material, follow_plan, read_plan
from pipeline.voice.generated import keep_generated
from pipeline.voice.rules import keep_private_home, load_voice, voice_hash
from pipeline.write.expand import SectionDraft, Writing, expand_sections
from pipeline.write.finish import Finishing
from pipeline.write.lengths import count_words
from pipeline.write.once import tell_once
from pipeline.write.polish import polish_joins


@dataclass(frozen=True)
class DraftResult:
    file: DraftFile
    plan: Plan
    usage: Usage
    flags: int = 0  # claims flagged for the author to check
    seconds: float = 0.0  # the draft's wall time (calls overlap, so not the sum of their times)
    words: int = 0  # the draft's words of prose
    retold: int = 0  # stories told twice and flagged for the author (their flags are among `flags`)


def writing_for(run: Run, inputs: Inputs) -> Writing:
    """How this run writes sections: the author's voice, the notes folder for footnotes, and the sources a
    claim may come from besides the notes (the prompt, the author's own writing)."""
    prompt = inputs.prompt
    extra = (
        prompt.title,
        prompt.instruction,
        *(s.title + "\n" + s.questions for s in prompt.sections),
        *inputs.voice_samples,
    )
    voice = load_voice(run.workspace.root)
    if not run.trusted:
        notes = [*inputs.notes.fragments, *inputs.notes.voice_samples]
        voice = keep_private_home(voice, [n.text for n in notes if n.private], [n.text for n in notes if not n.private])
    # The author's capitals come from what they wrote (notes, their draft), not from the prompt's instruction.
    casing = learn_casing([*(f.text for f in inputs.fragments), *inputs.voice_samples])
    finishing = Finishing(
        run.workspace.notes, run.settings.footnotes, extra, voice, casing=casing, prompt_file=prompt.path
    )
    return Writing(inputs.voice_samples, finishing, run.settings.concurrency, None, run.progress.on_warning)


def essay_lock(run: Run, folder: Path) -> AbstractContextManager[None]:
    """Held while a run writes an essay's plan or versions: a second run at once is told another holds it."""
    return holding(run.workspace.state_dir, essay_lock_name(folder), f"writing {folder}")


def plan_essay(run: Run, inputs: Inputs, *, send_all: bool = False) -> PlanResult:
    """Sort the notes (reusing the author's earlier placements) and write the essay's plan.md."""
    folder = essay_folder(run, inputs.prompt)
    llm = run.essay_model(folder.name).stage("sort")
    request = PlanRequest(inputs.prompt, inputs.fragments, inputs.left_out, send_all)
    with essay_lock(run, folder):
        return make_plan(folder, request, llm, run.workspace.root, run.progress.on_sort, run.store)


def essay_folder(run: Run, prompt: Prompt) -> Path:
    """The essay's drafts folder; a prompt renamed keeps the one it had, and the run says so."""
    folder = essay_dir(run.workspace.drafts, prompt.path, run.workspace.root)
    ref, owner = prompt_ref(prompt.path, run.workspace.root), folder_owner(folder)
    if owner is not None and owner != ref:
        run.progress.on_info(f"{ref} was {owner}: its plan and drafts in {folder} carry on")
    return folder


def draft_essay(run: Run, inputs: Inputs, *, polish: bool = False) -> DraftResult:
    """Draft one essay. Answered calls are reused from the workspace's store, so a run that was
    interrupted before it wrote its version resumes where it stopped. With `polish`, one more call per join
    between sections smooths it (pipeline/write/polish.py)."""
    with essay_lock(run, essay_dir(run.workspace.drafts, inputs.prompt.path, run.workspace.root)):
        return _draft_essay(run, inputs, polish)


def _draft_essay(run: Run, inputs: Inputs, polish: bool) -> DraftResult:
    started = time.perf_counter()
    prompt, fragments = inputs.prompt, inputs.fragments
    folder = essay_folder(run, prompt)  # checked before any call is spent
    version = next_version(folder)
    llm = run.essay_model(folder.name)
    plan = read_plan(folder, prompt, run.workspace.root)
    sorting = plan is None
    # The sort's calls open with the same notes as the writing calls: all the sort is asked about (past
    # SHORTLIST_FROM, the shortlist: unrelated notes do not ride along), as the plan will hold them.
    made_for_sort: list[SharedNotes | None] = []
    if plan is None:

        def opening(sent: Sequence[Fragment]) -> SharedNotes | None:
            made_for_sort.append(shared_layout(run, inputs, [as_planned(f) for f in sent]))
            return made_for_sort[-1]

        request = PlanRequest(prompt, fragments, inputs.left_out, shared=opening)
        made = make_plan(folder, request, llm.stage("sort"), run.workspace.root, run.progress.on_sort, run.store)
        run.progress.on_info(f"sorted the notes into {made.path}: edit it and draft again to change what goes where")
        plan = made.plan
    else:
        run.progress.on_info(f"following {folder / PLAN_NAME}: no sorting")
    material = follow_plan(plan, prompt, list(fragments), inputs.keeps_home)
    material = keep_private_quotes_home(
        material, {f.id for f in fragments}, inputs.private_source, folder / PLAN_NAME, run.progress.on_warning
    )
    # The writing calls open as the sort's did, byte for byte, so they find it in the server's cache. Following a
    # plan, the opening is over what it holds as the sort saw it: a resumed run sends the calls it sent before.
    if made_for_sort:
        shared = made_for_sort[-1]
    else:
        edited = not sorting and plan_edited((folder / PLAN_NAME).read_text(encoding="utf-8", errors="replace"))
        shared = shared_layout(run, inputs, _as_the_plan_holds(fragments, plan, material, edited=edited), quiet=sorting)
    for warning in material.warnings:
        run.progress.on_warning(warning)
    if material.unplaced:
        notes = len({f.note_path for f in material.unplaced})
        run.progress.on_warning(
            f"{len(material.unplaced)} fragments from {notes} notes are new since the plan and not in this draft: "
            "run `essay plan` to place them"
        )
    done = 0

    def section_done(section: SectionDraft) -> None:
        nonlocal done
        done += 1
        run.progress.on_section(section, done, len(prompt.sections))

    sample = f"{folder.name}/v{version}.{run.store.times_written(folder.name, version)}"
    writing = replace(writing_for(run, inputs), on_section=section_done, shared=shared)
    draft = expand_sections(prompt, material.sections, llm.stage("expand", sample), writing, material.directions)
    once = tell_once(draft, material.sections, llm.stage("retell", sample), writing.finishing)
    draft = once.draft
    if once.rewritten:
        run.progress.on_info(f"{once.rewritten} paragraphs told a story an earlier section tells: written without it")
    if polish:
        polished = polish_joins(draft, material.sections, llm.stage("polish", sample), writing.finishing)
        draft = polished.draft
        run.progress.on_info(f"polished {polished.joins} of {len(prompt.sections) - 1} joins between sections")
    keep_generated(run.workspace.state_dir, [s.text for s in draft.sections if s.generated])  # for `essay voice`
    fragments = (*fragments, *(f for s in material.sections.values() for f in s))
    by_id = {f.id: f for f in fragments}
    body = render_body([(s.slug, s.title, s.text) for s in draft.sections])
    words = sum(count_words(s.text) for s in draft.sections if s.generated)
    meta = DraftMeta(
        title=prompt.title,
        prompt=prompt_ref(prompt.path, run.workspace.root),
        created=now(),
        provider=run.provider.provider,
        model=run.provider.model,
        input_hash=input_hash(inputs, run),
        notes_hash=notes_hash(fragments),
        calls=llm.usage.calls,
        prompt_tokens=llm.usage.prompt_tokens,
        output_tokens=llm.usage.completion_tokens,
        seconds=round(time.perf_counter() - started, 1),
        plan_hash=plan_hash((folder / PLAN_NAME).read_text(encoding="utf-8")),
        voice_hash=voice_hash(writing.finishing.voice),
        unused_fragments=len(plan.unused),
        words=words,
        words_asked=prompt.length.asked if prompt.length else None,
        body_hash=body_hash(body),
        sections=tuple(section_meta(s, by_id) for s in draft.sections),
    )
    written = write_new_version(
        folder,
        lambda number: compose(meta.model_copy(update={"version": number}), body),
        temp_dir=run.workspace.temp_dir,
    )
    run.store.mark_written(folder.name, written.version)
    flags = sum(s.flags for s in draft.sections)
    seconds = round(time.perf_counter() - started, 1)
    return DraftResult(written, plan, llm.usage, flags, seconds, words, once.flagged)


def _as_the_plan_holds(
    fragments: Sequence[Fragment], plan: Plan, material: Material, *, edited: bool
) -> list[Fragment]:
    """What the plan's sections place, as it holds it, in the order the sort's shared message had it, then the
    author's own points; while the plan is as the sort wrote it, also what the sort found fits no section. A
    draft that resumes after its sort, or follows its plan unedited, so sends its calls word for word as before:
    their answers are reused, and a one-slot server reads the notes no second time. What the author deleted or
    moved out of the sections, what the plan left out as unrelated and what is new since it are not sent."""
    placed = {f.id: f for section in material.sections.values() for f in section}
    unused = set() if edited else {i.fragment_id for i in plan.unused if i.fragment_id}
    in_notes = [placed.get(f.id, as_planned(f)) for f in fragments if f.id in placed or f.id in unused]
    known = {f.id for f in fragments}
    return in_notes + [f for f in placed.values() if f.id not in known]
