"""`essay draft --dry-run`: what a draft would send, estimated without any call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.text import estimate_tokens
from pipeline.drafting.inputs import Inputs
from pipeline.drafting.layout import shared_layout
from pipeline.files.drafts import essay_dir
from pipeline.messages.shared import SharedNotes, sort_batches, sort_messages, write_messages
from pipeline.models.session import Run
from pipeline.plan.carry import as_planned
from pipeline.plan.reading import PLAN_NAME, follow_plan, read_plan
from pipeline.sort.assign import answer_tokens
from pipeline.sort.sort import SHORTLIST_FROM, sorting_estimate, to_be_asked
from pipeline.write.expand import answer_budget, section_budget
from pipeline.write.lengths import section_words


@dataclass(frozen=True)
class DryRun:
    inputs: Inputs
    batches: int
    calls: int
    prompt_tokens: int
    output_tokens: int
    may_send: int | None = None  # a large vault's sort sends only its shortlist: at most this many fragments
    sending: tuple[str, ...] | None = None  # the notes that may leave, when not every fragment's (a plan's own)


def dry_run(run: Run, inputs: Inputs) -> DryRun:
    """What a draft would send, estimated without any call, as if the notes split evenly across sections."""
    prompt, fragments = inputs.prompt, inputs.fragments
    window = run.provider.context_window
    folder = essay_dir(run.workspace.drafts, prompt.path, run.workspace.root)
    following = (folder / PLAN_NAME).is_file()  # a draft that follows a plan sorts nothing
    asked = to_be_asked(prompt, fragments, window)  # past SHORTLIST_FROM, as many as the sort's calls hold
    shared = shared_layout(run, inputs, [as_planned(f) for f in asked], ask_server=False)
    if shared is not None:
        sorting = not following and run.provider.can_sort
        return _shared_dry_run(inputs, shared, asked, sorting)
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
    words = section_words(prompt, _even_split(prompt, fragments), {})
    for number, section in enumerate(prompt.sections):
        share = list(fragments[number::sections])
        if share:
            tokens_in, tokens_out = section_budget(
                prompt, section, share, inputs.voice_samples, window, words[section.slug]
            )
            write_in += tokens_in
            write_out += tokens_out
    return DryRun(
        inputs=inputs,
        batches=batches,
        calls=batches + sum(1 for n in range(sections) if fragments[n::sections]),
        prompt_tokens=sort_in + write_in,
        output_tokens=sort_out + write_out,
    )


def _shared_dry_run(inputs: Inputs, shared: SharedNotes, asked: list[Fragment], sorting: bool) -> DryRun:
    """What a draft in the shared layout would send: every call opens with the same notes, so it sends several
    times the prompt tokens of the default layout (a one-slot server prefills them once, a caching API bills
    the later calls' openings at its cached rate)."""
    prompt = inputs.prompt
    opening = estimate_tokens(shared.first["content"])
    batches = sort_batches(shared, asked, lambda count: answer_tokens(count, len(prompt.sections))) if sorting else []
    calls, sent, out = len(batches), 0, 0
    for batch in batches:
        out += answer_tokens(len(batch), len(prompt.sections))
        sent += opening + estimate_tokens(sort_messages(shared, batch)[1]["content"])
    words = section_words(prompt, _even_split(prompt, asked), {})
    for number, section in enumerate(prompt.sections, start=1):
        share = list(asked[number - 1 :: len(prompt.sections)])
        if share:
            request = write_messages(shared, number, section, share, words[section.slug], "")[0][1]
            calls, sent = calls + 1, sent + opening + estimate_tokens(request["content"])
            out += answer_budget(words[section.slug])
    return DryRun(inputs=inputs, batches=len(batches), calls=calls, prompt_tokens=sent, output_tokens=out)


def _even_split(prompt: Prompt, fragments: Sequence[Fragment]) -> dict[str, list[Fragment]]:
    """The notes dealt out to the sections in turn: what a dry run assumes, having sorted nothing."""
    count = len(prompt.sections)
    return {s.slug: list(fragments[n::count]) for n, s in enumerate(prompt.sections)}
