"""Whether a draft's calls open with one shared message of the notes (a one-slot server, a caching API), and
that message."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.config import on_this_machine
from pipeline.drafting.inputs import Inputs
from pipeline.messages.shared import SharedNotes, shared_notes
from pipeline.models.prices import sharing_pays
from pipeline.models.providers.slots import shares_prefix
from pipeline.models.session import Run
from pipeline.sort.assign import answer_tokens
from pipeline.write.expand import answer_budget, pick_voice_samples, voice_budget
from pipeline.write.lengths import most_section_words, most_words


def shared_layout(
    run: Run, inputs: Inputs, fragments: Sequence[Fragment], *, ask_server: bool = True, quiet: bool = False
) -> SharedNotes | None:
    """Where calls share their prefix (`shares_prefix`), the message every call of the draft opens with, over
    `fragments` (as many as fit the model's window: the rest travel with the calls that use them); None
    elsewhere, or when not even the instructions fit (then each call carries its own notes). `quiet` for the
    second time a draft makes it: the writer has been told."""
    if not fragments:
        return None
    caches = caching_pays(run, inputs.prompt, quiet=quiet)
    if not shares_prefix(run.settings, ask_server=ask_server, caches=caches):
        if quiet:
            return None
        if run.settings.slots is None and run.provider.sends_over_http and on_this_machine(run.provider.endpoint):
            run.progress.on_info(
                "the server reports more than one slot: each call sends its own notes "
                "(set [llm] slots = 1 in essay.toml if its slots share one cache)"
            )
        return None
    prompt, window = inputs.prompt, run.provider.context_window
    samples = pick_voice_samples(inputs.voice_samples, voice_budget(window))
    sections = len(prompt.sections)
    longest = answer_budget(min(most_section_words(prompt), most_words(window)))
    shared = shared_notes(
        prompt, fragments, samples, window, lambda count: max(answer_tokens(count, sections), longest)
    )
    if quiet:
        return shared
    if shared is None:
        run.progress.on_info(f"{len(fragments)} fragments do not fit one shared prompt: each call sends its own")
        return None
    if shared.held < len(shared.keys):
        run.progress.on_info(
            f"the shared opening holds {shared.held} of {len(shared.keys)} fragments: "
            "the calls that use the others carry them"
        )
    if caches:
        run.progress.on_info(
            f"{run.provider.endpoint} caches prompts: every call opens with the same notes, "
            "so later calls read them from its cache"
        )
    elif run.settings.slots is None:
        run.progress.on_info(
            "a server on this machine: every call opens with the same notes, so it reads them once "
            "(if it answers calls side by side, set [llm] slots in essay.toml to how many)"
        )
    return shared


def caching_pays(run: Run, prompt: Prompt, *, quiet: bool) -> bool:
    """Whether this run's endpoint caches prompt prefixes (`caches_prefixes`), and the shared opening it would
    read from its cache costs no more than each call's own notes: where the model has no price (a server of
    one's own), and where its cached rate is low enough for this many sections (`prices.sharing_pays`)."""
    provider = run.provider
    if not getattr(provider, "caches_prefixes", False):
        return False
    if sharing_pays(provider.model, len(prompt.sections), run.settings.prices):
        return True
    if not quiet:
        run.progress.on_info(
            f"{provider.endpoint} caches prompts, but at {provider.model}'s cached rate each call's own notes "
            "cost less than every call opening with all of them: each call sends its own"
        )
    return False
