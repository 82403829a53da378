"""Sort: which section of the prompt each fragment serves, or none.

The bundled embedding model ranks every fragment against every section (its title, its questions and
the essay's instruction). With the bundled 135M chat model, which cannot sort, the embeddings decide.
With a capable model, the model decides, but only over the embeddings' shortlist: fragments clearly
unrelated to the prompt never reach it, and each fragment may go only to its few likeliest sections,
so the prompt and the answer grow with the material relevant to the prompt, not with the vault.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.assign import Plan, assign_fragments
from pipeline.embed import Embedder, EmbedderMissing, bundled_embedder
from pipeline.errors import UsageError
from pipeline.llm import ChatModel
from pipeline.minilm import minilm_embedder
from pipeline.notes import Fragment
from pipeline.prompt import Prompt
from pipeline.rank import Essay, RankOptions, SortFragment, rank, shortlist

MINILM_UP_TO = 3000  # fragments
SHORTLIST_FROM = 400  # fragments: above this, only the embeddings' shortlist reaches the model


@dataclass(frozen=True)
class Sorted:
    plan: Plan  # section slug -> fragment ids, and the ids that fit no section
    unrelated: tuple[str, ...] = ()  # left out by the shortlist: never sent to the model
    by_model: bool = False


def sort_fragments(
    prompt: Prompt,
    fragments: Sequence[Fragment],
    llm: ChatModel | None,
    *,
    send_all: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> Sorted:
    """Sort with the embeddings alone (`llm` None), or let `llm` decide among the shortlist."""
    if not fragments:
        return Sorted(Plan({s.slug: () for s in prompt.sections}, ()))
    embedder = _embedder(len(fragments))
    essay = Essay(prompt.title, prompt.instruction, tuple((s.title, s.questions) for s in prompt.sections))
    # Thoughts on one subject sit near each other: a fragment's relevance is smoothed over its 5 nearest.
    # The cut for "fits no section" leans lenient: a stray item in the plan costs the author one deletion,
    # a good note left out costs them the note. Everyday off-topic lines weigh in on the cut (a quarter of
    # the pool), so a vault that is all on topic is not split in half: 3 of 63 fragments left out on the
    # example workspace instead of 36, the labeled sets unchanged within a fragment or two.
    options = RankOptions(neighbours=5, keep_margin=-0.1, background=0.25)
    placements = rank(essay, [_for_ranking(f) for f in fragments], embedder, options)
    if llm is None:
        chosen = {p.id: p.section for p in placements}
        return Sorted(_plan(prompt, fragments, chosen))
    every = tuple(range(1, len(prompt.sections) + 1))
    # A vault this small costs little to send whole, and the embeddings are not sure enough to cut it.
    whole = send_all or len(fragments) <= SHORTLIST_FROM
    listed = [(p.id, every) for p in placements] if whole else shortlist(placements)
    choices = dict(listed)
    sent = [f for f in fragments if f.id in choices]
    decided = assign_fragments(prompt, sent, llm, on_batch=on_batch, choices=choices)
    chosen = {i: n for n, s in enumerate(prompt.sections, start=1) for i in decided.sections[s.slug]}
    unrelated = tuple(f.id for f in fragments if f.id not in choices)
    return Sorted(_plan(prompt, fragments, chosen), unrelated, by_model=True)


def _embedder(count: int) -> Embedder:
    """MiniLM (contextual, ~100 fragments/s here) where it is installed and the vault is not huge; else
    WordLlama (static, ~10,000/s). Measured on the labeled set: 67% against 54%."""
    if count <= MINILM_UP_TO:
        try:
            return minilm_embedder()
        except EmbedderMissing:
            pass
    try:
        return bundled_embedder()
    except EmbedderMissing as exc:
        raise UsageError(f"{exc}: reinstall essay (`pip install -e .`) to sort notes") from None


def _for_ranking(fragment: Fragment) -> SortFragment:
    return SortFragment(fragment.id, fragment.text, fragment.context, fragment.title, fragment.by_author)


def _plan(prompt: Prompt, fragments: Sequence[Fragment], chosen: dict[str, int]) -> Plan:
    sections = {
        s.slug: tuple(f.id for f in fragments if chosen.get(f.id) == n) for n, s in enumerate(prompt.sections, start=1)
    }
    return Plan(sections, tuple(f.id for f in fragments if chosen.get(f.id, 0) == 0))
