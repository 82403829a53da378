"""What one essay's run reads: the prompt, and the notes it may use, filtered for this run's endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.collect.notes import Fragment, Notes, collect_notes, fragments_of, path_matches, private_match
from pipeline.collect.prompt import Prompt, parse_prompt
from pipeline.core.errors import UsageError
from pipeline.core.text import estimate_tokens
from pipeline.drafting.quoting import without_quotes
from pipeline.files.drafts import check_drafts_folder, prompt_ref
from pipeline.models.session import Run
from pipeline.plan.planfile import PlanItem


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
