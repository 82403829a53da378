"""The runner: wires the stages together for one essay. The CLI only parses options and prints.

read_inputs (prompt + notes, filtered for this run's endpoint) -> sort -> expand_sections -> write_new_version
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.collect.notes import (
    Fragment,
    Notes,
    collect_notes,
    fragments_of,
    path_matches,
    private_match,
)
from pipeline.collect.prompt import Prompt, parse_prompt
from pipeline.core.config import on_this_machine
from pipeline.core.errors import UsageError
from pipeline.core.locks import essay_lock_name, holding
from pipeline.core.text import estimate_tokens
from pipeline.drafting.quoting import keep_private_quotes_home, without_quotes
from pipeline.files.draftfile import body_hash, compose, render_body, text_hash
from pipeline.files.drafts import (
    DraftFile,
    check_drafts_folder,
    essay_dir,
    folder_owner,
    next_version,
    prompt_ref,
    write_new_version,
)
from pipeline.files.meta import DraftMeta, SectionMeta
from pipeline.messages.instructions import templates_hash
from pipeline.messages.shared import SharedNotes, shared_notes, sort_messages, write_messages
from pipeline.models.llm import Usage
from pipeline.models.providers.slots import shares_prefix
from pipeline.models.session import Run
from pipeline.plan.planfile import Plan, PlanItem, plan_edited, plan_hash
from pipeline.plan.planning import (
    PLAN_NAME,
    Material,
    PlanRequest,
    PlanResult,
    as_planned,
    follow_plan,
    make_plan,
    read_plan,
)
from pipeline.sort.assign import answer_tokens
from pipeline.sort.sort import SHORTLIST_FROM, sorting_estimate, to_be_asked
from pipeline.voice.generated import keep_generated
from pipeline.voice.rules import keep_private_home, load_voice, voice_hash
from pipeline.write.expand import (
    MOST_WORDS,
    SectionDraft,
    Writing,
    answer_budget,
    expand_sections,
    pick_voice_samples,
    section_budget,
    target_words,
    voice_budget,
)
from pipeline.write.finish import Finishing


@dataclass(frozen=True)
class Inputs:
    """What a run reads: the prompt, the notes, and the fragments that may go to this run's model."""

    prompt: Prompt
    notes: Notes
    fragments: tuple[Fragment, ...]
    voice_samples: tuple[str, ...]  # the author's own writing: their draft in the prompt, `voice: true` notes
    withheld_private: tuple[str, ...]  # note paths kept back from an untrusted HTTP endpoint
    left_out: tuple[tuple[str, int], ...] = ()  # why fragments did not reach the model, and how many
    filtered_out: tuple[str, ...] = ()  # note paths outside the prompt's essay-notes / essay-tags
    private_stays_home: bool = False  # this run's endpoint may not have private notes
    private_globs: tuple[str, ...] = ()  # `[notes] private`
    # The private note whose text a text holds, when that may not go to this run's endpoint (the guard's test).
    private_source: Callable[[str], str | None] = field(default=lambda text: None, repr=False)

    def keeps_home(self, item: PlanItem) -> bool:
        """Whether a plan item whose fragment this run does not have stays on this machine: the plan marked it
        private, or its note is withheld as private or matches a private glob (a plan written before items were
        marked knows its notes by path alone)."""
        if not self.private_stays_home:
            return False
        path = item.note_path or ""
        return item.private or path in self.withheld_private or any(private_match(path, g) for g in self.private_globs)


@dataclass(frozen=True)
class DraftResult:
    file: DraftFile
    plan: Plan
    usage: Usage
    flags: int = 0  # claims flagged for the author to check
    seconds: float = 0.0  # the draft's wall time (calls overlap, so not the sum of their times)


@dataclass(frozen=True)
class DryRun:
    inputs: Inputs
    batches: int
    calls: int
    prompt_tokens: int
    output_tokens: int
    may_send: int | None = None  # a large vault's sort sends only its shortlist: at most this many fragments
    sending: tuple[str, ...] | None = None  # the notes that may leave, when not every fragment's (a plan's own)


def read_inputs(run: Run, prompt_path: Path) -> Inputs:
    """The prompt and the notes it may use; bad notes, filtered notes and private notes kept home are reported."""
    ws, progress = run.workspace, run.progress
    check_drafts_folder(ws.drafts)
    prompt = parse_prompt(prompt_path)
    check_prompt_fits(prompt, run.provider.model, run.provider.context_window)
    notes = collect_notes(
        ws.notes,
        ignore=run.settings.ignore,
        exclude=(prompt_path, ws.drafts, ws.state_dir),
        private_globs=run.settings.private,
    )
    for warning in notes.warnings:
        progress.on_warning(warning)
    # Every private text is registered with the guard, whatever the stages do with it afterwards.
    run.guard.protect([(f.note_path, f.text) for f in notes.fragments if f.private])
    run.guard.protect([(v.note_path, v.text) for v in notes.voice_samples if v.private])
    fragments = tuple(f for f in notes.fragments if prompt_selects(prompt, f))
    left_out: list[tuple[str, int]] = []
    skipped: set[str] = set()
    if len(fragments) < len(notes.fragments):
        reason = _filter_reason(prompt)
        skipped = {f.note_path for f in notes.fragments} - {f.note_path for f in fragments}
        left_out.append(
            (f"{len(skipped)} notes outside the prompt's filter ({reason})", len(notes.fragments) - len(fragments))
        )
        progress.on_info(f"{len(skipped)} of {notes.note_count} notes left out by the prompt's filter ({reason})")
        if not fragments:
            progress.on_warning(
                f"the prompt's filter ({reason}) matches no note: check the globs and tags, "
                "or remove essay-notes/essay-tags from the prompt's frontmatter"
            )
    voice = notes.voice_samples
    withheld: tuple[str, ...] = ()
    if not run.trusted:
        withheld = tuple(
            dict.fromkeys([f.note_path for f in fragments if f.private] + [v.note_path for v in voice if v.private])
        )
        kept = tuple(f for f in fragments if not f.private)
        if len(kept) < len(fragments):
            left_out.append((f"private notes, kept off {run.provider.endpoint}", len(fragments) - len(kept)))
        fragments, voice = kept, tuple(v for v in voice if not v.private)
    if withheld:
        progress.on_warning(
            f"{len(withheld)} private note(s) stay on this machine, not sent to {run.provider.endpoint}; "
            "list the endpoint under [privacy] trusted in essay.toml to include them"
        )
    # What the author already wrote under the prompt is material too, the best they have.
    ref = prompt_ref(prompt.path, ws.root)
    own = fragments_of(ref, prompt.title, prompt.author_draft, by_author=True) if prompt.author_draft else []
    quotes = run.guard.private_source
    fragments, voice, quoting = without_quotes((*own, *fragments), voice, quotes, progress.on_warning)
    if quoting:
        left_out.append((f"quoting private notes, kept off {run.provider.endpoint}", quoting))
    # The author's draft quoting a private note was named above, with its fragments: it is no voice sample either.
    draft = (prompt.author_draft,) if prompt.author_draft and not run.guard.private_source(prompt.author_draft) else ()
    samples = draft + tuple(v.text for v in voice)
    kept = (withheld, tuple(left_out), tuple(sorted(skipped)), not run.trusted, run.settings.private)
    return Inputs(prompt, notes, fragments, samples, *kept, run.guard.private_source)


def check_prompt_fits(prompt: Prompt, model: str, window: int) -> None:
    """Every call carries the prompt's instruction and sections: past half the model's window there is no room for
    notes and an answer, and a sort would send call after oversized call. Refused before any is sent."""
    carried = estimate_tokens(
        "\n".join([prompt.title, prompt.instruction, *(s.title + s.questions for s in prompt.sections)])
    )
    if carried > window // 2:
        raise UsageError(
            f"prompt {prompt.path}: its instruction and sections are about {carried:,} tokens, and every call carries "
            f"them, but {model} reads {window:,} at most: shorten them to under {window // 2:,} tokens "
            "(long material belongs in a note, or below the sections as your own draft)"
        )


def prompt_selects(prompt: Prompt, fragment: Fragment) -> bool:
    """Whether a prompt's `essay-notes:` globs and `essay-tags:` (if it has any) let this fragment in."""
    if prompt.note_globs and not any(path_matches(fragment.note_path, g) for g in prompt.note_globs):
        return False
    return not prompt.tags or any(tag in fragment.tags for tag in prompt.tags)


def _filter_reason(prompt: Prompt) -> str:
    parts = []
    if prompt.note_globs:
        parts.append("essay-notes: " + ", ".join(prompt.note_globs))
    if prompt.tags:
        parts.append("essay-tags: " + ", ".join(prompt.tags))
    return "; ".join(parts)


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
    finishing = Finishing(run.workspace.notes, run.settings.footnotes, extra, voice)
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


def draft_essay(run: Run, inputs: Inputs) -> DraftResult:
    """Draft one essay. Answered calls are reused from the workspace's store, so a run that was
    interrupted before it wrote its version resumes where it stopped."""
    with essay_lock(run, essay_dir(run.workspace.drafts, inputs.prompt.path, run.workspace.root)):
        return _draft_essay(run, inputs)


def _draft_essay(run: Run, inputs: Inputs) -> DraftResult:
    started = time.perf_counter()
    prompt, fragments = inputs.prompt, inputs.fragments
    folder = essay_folder(run, prompt)  # checked before any call is spent
    version = next_version(folder)
    llm = run.essay_model(folder.name)
    plan = read_plan(folder, prompt, run.workspace.root)
    sorting = plan is None
    # The sort's call opens with the same notes as the writing calls: all the draft may use, as its plan holds them.
    # Past SHORTLIST_FROM the sort leaves unrelated fragments out, which must not ride along in a shared message;
    # a draft that follows its plan there shares none either, so a resumed run sends the calls it sent before.
    whole = len(fragments) <= SHORTLIST_FROM
    shared = shared_layout(run, inputs, [as_planned(f) for f in fragments]) if sorting and whole else None
    if plan is None:
        request = PlanRequest(prompt, fragments, inputs.left_out, shared=shared)
        made = make_plan(folder, request, llm.stage("sort"), run.workspace.root, run.progress.on_sort, run.store)
        run.progress.on_info(f"sorted the notes into {made.path}: edit it and draft again to change what goes where")
        plan = made.plan
    else:
        run.progress.on_info(f"following {folder / PLAN_NAME}: no sorting")
    material = follow_plan(plan, prompt, list(fragments), inputs.keeps_home)
    material = keep_private_quotes_home(
        material, {f.id for f in fragments}, inputs.private_source, folder / PLAN_NAME, run.progress.on_warning
    )
    if not sorting and whole:
        edited = plan_edited((folder / PLAN_NAME).read_text(encoding="utf-8", errors="replace"))
        shared = shared_layout(run, inputs, _as_the_plan_holds(fragments, plan, material, edited=edited))
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
    keep_generated(run.workspace.state_dir, [s.text for s in draft.sections if s.generated])  # for `essay voice`
    fragments = (*fragments, *(f for s in material.sections.values() for f in s))
    by_id = {f.id: f for f in fragments}
    body = render_body([(s.slug, s.title, s.text) for s in draft.sections])
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
    return DraftResult(written, plan, llm.usage, flags, round(time.perf_counter() - started, 1))


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


def shared_layout(
    run: Run, inputs: Inputs, fragments: Sequence[Fragment], *, ask_server: bool = True
) -> SharedNotes | None:
    """Where calls share their prefix (`shares_prefix`), the message every call of the draft opens with, over
    `fragments`; None elsewhere, or when they do not fit the model's window (then each call carries its own)."""
    if not fragments:
        return None
    if not shares_prefix(run.settings, ask_server=ask_server):
        if run.settings.slots is None and run.provider.sends_over_http and on_this_machine(run.provider.endpoint):
            run.progress.on_info(
                "the server reports more than one slot: each call sends its own notes "
                "(set [llm] slots = 1 in essay.toml if its slots share one cache)"
            )
        return None
    prompt, window = inputs.prompt, run.provider.context_window
    samples = pick_voice_samples(inputs.voice_samples, voice_budget(window))
    answer = max(answer_tokens(len(fragments), len(prompt.sections)), answer_budget(MOST_WORDS))
    shared = shared_notes(prompt, fragments, samples, window, answer)
    if shared is None:
        run.progress.on_info(f"{len(fragments)} fragments do not fit one shared prompt: each call sends its own")
    elif run.settings.slots is None:
        run.progress.on_info(
            "a server on this machine: every call opens with the same notes, so it reads them once "
            "(if it answers calls side by side, set [llm] slots in essay.toml to how many)"
        )
    return shared


def dry_run(run: Run, inputs: Inputs) -> DryRun:
    """What a draft would send, estimated without any call, as if the notes split evenly across sections."""
    prompt, fragments = inputs.prompt, inputs.fragments
    window = run.provider.context_window
    folder = essay_dir(run.workspace.drafts, prompt.path, run.workspace.root)
    following = (folder / PLAN_NAME).is_file()  # a draft that follows a plan sorts nothing
    whole = len(fragments) <= SHORTLIST_FROM
    shared = shared_layout(run, inputs, [as_planned(f) for f in fragments], ask_server=False) if whole else None
    if shared is not None:
        sorting = not following and run.provider.can_sort
        return _shared_dry_run(inputs, shared, to_be_asked(prompt, fragments, window) if sorting else [])
    return replace(_own_notes_dry_run(run, inputs, following), **_what_leaves(run, inputs, folder, following))


def _what_leaves(run: Run, inputs: Inputs, folder: Path, following: bool) -> dict[str, object]:
    """A draft that follows its plan sends what the plan places; a large vault's sort sends only its shortlist,
    which ranking picks when it runs: a dry run says how many at most, rather than every note."""
    fragments = inputs.fragments
    if following and (plan := read_plan(folder, inputs.prompt, run.workspace.root)) is not None:
        material = follow_plan(plan, inputs.prompt, list(fragments), inputs.keeps_home)
        placed = [f.note_path for section in material.sections.values() for f in section if f.note_path]
        return {"sending": tuple(dict.fromkeys(placed))}
    if not following and run.provider.can_sort and len(fragments) > SHORTLIST_FROM:
        return {"may_send": len(to_be_asked(inputs.prompt, fragments, run.provider.context_window))}
    return {}


def _own_notes_dry_run(run: Run, inputs: Inputs, following: bool) -> DryRun:
    prompt, fragments, window = inputs.prompt, inputs.fragments, run.provider.context_window
    batches, sort_in, sort_out = (0, 0, 0) if following else sorting_estimate(prompt, fragments, run.provider)
    sections = len(prompt.sections)
    write_in = write_out = 0
    for number, section in enumerate(prompt.sections):
        share = list(fragments[number::sections])
        if share:
            tokens_in, tokens_out = section_budget(prompt, section, share, inputs.voice_samples, window)
            write_in += tokens_in
            write_out += tokens_out
    return DryRun(
        inputs=inputs,
        batches=batches,
        calls=batches + sum(1 for n in range(sections) if fragments[n::sections]),
        prompt_tokens=sort_in + write_in,
        output_tokens=sort_out + write_out,
    )


def _shared_dry_run(inputs: Inputs, shared: SharedNotes, asked: list[Fragment]) -> DryRun:
    """What a draft in the shared layout would send: every call opens with all the notes, so it sends several
    times the prompt tokens of the default layout (a one-slot server prefills them once)."""
    prompt, fragments = inputs.prompt, inputs.fragments
    opening = estimate_tokens(shared.first["content"])
    calls, sent, out = 0, 0, 0
    if asked:
        calls, out = 1, answer_tokens(len(asked), len(prompt.sections))
        sent = opening + estimate_tokens(sort_messages(shared, asked)[1]["content"])
    for number, section in enumerate(prompt.sections, start=1):
        share = list(fragments[number - 1 :: len(prompt.sections)])
        if share:
            words = target_words(share)
            request = write_messages(shared, number, section, share, words, "")[0][1]
            calls, sent = calls + 1, sent + opening + estimate_tokens(request["content"])
            out += answer_budget(words)
    return DryRun(inputs=inputs, batches=int(bool(asked)), calls=calls, prompt_tokens=sent, output_tokens=out)


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
    shared = shares_prefix(run.settings, ask_server=False)
    digest.update(f"{llm.provider}\n{llm.model}\n{templates_hash(shared=shared)}".encode())
    digest.update((voice_hash(load_voice(run.workspace.root)) or "").encode())  # voice.md's rules change the text
    return digest.hexdigest()[:16]
