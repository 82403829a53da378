"""Sort: which section of the prompt each fragment serves, or none.

An embedding model ranks every fragment against every section (its title, its questions and the essay's
instruction): the best installed where its time allows, the static one beside a capable model reading a small
vault whole. With the bundled 135M chat model, which cannot sort, the embeddings decide.
With a capable model, the model decides, each fragment read whole and free to go to any section or none:
every fragment of a small vault; on a large vault only a shortlist, so fragments clearly unrelated to the
prompt never reach it and the prompt and the answer grow with the material relevant to the prompt, not with
the vault. Where the ranking's best two sections are close, or the model says it is unsure, the item is
marked doubtful (pipeline/sort/doubt.py). The author's own placements (`labels`) stay and teach the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.errors import UsageError
from pipeline.embeddings.embed import Embedder, EmbedderMissing, VectorMemory, bundled_embedder, remembering, reporting
from pipeline.embeddings.gemma import gemma_embedder
from pipeline.embeddings.minilm import minilm_embedder
from pipeline.embeddings.mpnet import mpnet_embedder
from pipeline.messages.shared import SharedNotes
from pipeline.models.llm import ChatModel
from pipeline.sort.assign import Plan, assign_fragments, plan_batches, sorting_cost
from pipeline.sort.doubt import doubtful, model_doubts
from pipeline.sort.lexical import fused, lexical_scores
from pipeline.sort.rank import Essay, Placement, RankOptions, SortFragment, rank, shortlist
from pipeline.sort.request import Example

GEMMA_UP_TO = 1500  # fragments: ~17 texts/s on 2 cores, as MPNet and MiniLM together: about 2.5 min cold
MPNET_UP_TO = 1500  # fragments: about a minute of embedding on 2 cores
MINILM_UP_TO = 3000  # fragments
# see sort_fragments
OPTIONS = RankOptions(neighbours=5, keep_margin=-0.1, background=0.25, subject_share=0.1, heading_weight=1.0)
SHORTLIST_FROM = 400  # fragments: above this, only the embeddings' shortlist reaches the model
MOST_SORT_CALLS = 10  # a shortlist never takes more calls than this (the bound): the likeliest fill them first
SORT_CONCURRENCY = MOST_SORT_CALLS  # sorting calls at once over HTTP: a large vault's calls in one wave


@dataclass(frozen=True)
class Sorted:
    plan: Plan  # section slug -> fragment ids, and the ids that fit no section
    unrelated: tuple[str, ...] = ()  # left out by the shortlist: never sent to the model
    doubts: Mapping[str, int] = field(default_factory=dict)  # id -> the close runner-up section (0 = none)


def sort_fragments(
    prompt: Prompt,
    fragments: Sequence[Fragment],
    llm: ChatModel | None,
    *,
    send_all: bool = False,
    on_progress: Callable[[str], None] | None = None,
    memory: VectorMemory | None = None,
    shared: Callable[[Sequence[Fragment]], SharedNotes | None] | None = None,
    labels: Mapping[str, int] | None = None,
) -> Sorted:
    """Sort with the embeddings alone (no `llm`, or one too small to sort), or let `llm` decide: every fragment
    of a small vault, what 10 calls hold of a large one's shortlist. `shared` makes the opening every call of
    the draft shares (`slots.shares_prefix`) over the fragments the model is asked about. `labels` are fragments
    the author placed themselves (id -> section number, 0 = none): they keep their place and teach the sort of
    the others, as labeled neighbours in the ranking and as examples in the model's request."""
    if not fragments:
        return Sorted(Plan({s.slug: () for s in prompt.sections}, ()))
    labels = {i: n for i, n in (labels or {}).items() if 0 <= n <= len(prompt.sections)}
    say = on_progress or (lambda message: None)
    llm = llm if llm is not None and llm.can_sort else None
    # The best embedding model installed ranks wherever its time allows (`_embedders`): its ranking is the
    # offline plan and a large vault's shortlist for a model. Where a capable model reads a small vault whole,
    # the static model ranks in a second (for the doubt marks and a garbled answer) instead of a minute.
    small = len(fragments) <= SHORTLIST_FROM
    contextual = llm is None or not (small or send_all)
    embedders = _embedders(len(fragments), contextual=contextual, memory=memory, on_progress=say)
    models = " and ".join(e.name.removesuffix(" (numpy)") for e in embedders)
    say(f"ranking {len(fragments)} fragments against the sections with {models}…")
    essay = Essay(prompt.title, prompt.instruction, tuple((s.title, s.questions) for s in prompt.sections))
    # OPTIONS: thoughts on one subject sit near each other: a fragment's relevance is smoothed over its 5 nearest.
    # The cut for "fits no section" leans lenient: a stray item in the plan costs the author one deletion,
    # a good note left out costs them the note. Everyday off-topic lines weigh in on the cut (a quarter of
    # the pool), so a vault that is all on topic is not split in half: 6 of 63 fragments left out on the
    # example workspace instead of 32 (EmbeddingGemma), the labeled sets unchanged within a fragment or two.
    placements = rank(essay, [_for_ranking(f, labels.get(f.id)) for f in fragments], embedders, OPTIONS)
    if llm is None:
        chosen = {p.id: p.section for p in placements}
        return Sorted(_plan(prompt, fragments, chosen), (), doubtful(placements, labels.keys()))
    examples = [(f, labels[f.id]) for f in fragments if f.id in labels]
    unlabeled = [f for f in fragments if f.id not in labels]
    if send_all or small:
        pool = list(placements)  # the model decides every fragment of a small vault: none is ruled out unread
    else:
        # On a large vault only the shortlist is weighed, and all of it by the model: there the embeddings'
        # cut is a guess at relevance among thousands, so nothing reaches a section unchecked. The shortlist
        # decides which fragments are asked about, never which sections they may go to.
        say("shortlisting by the essay's own words as well…")
        pool = _in_shortlist(prompt, unlabeled, placements, llm.context_window, examples)
    asked = {p.id for p in pool} - labels.keys()
    sent = [f for f in fragments if f.id in asked]
    concurrency = SORT_CONCURRENCY if llm.sends_over_http else 1  # one local model answers one call at a time

    which = "shortlisted " if not (send_all or small) else ""

    def asking(number: int, total: int) -> None:
        say(f"asking {llm.model} about {len(sent)} {which}fragments{f' ({number} of {total})' if total > 1 else ''}…")

    # The shared opening holds no examples: with the author's corrections, the call carries its own.
    opening = shared(sent) if shared is not None and not examples else None
    decided = assign_fragments(
        prompt,
        sent,
        llm,
        on_batch=asking,
        concurrency=concurrency,
        shared=opening,
        examples=examples,
    )
    considered = {p.id for p in placements} if small or send_all else asked | labels.keys()
    chosen = {p.id: p.section for p in placements if p.id in considered}  # the model's answer overrides below
    for number, section in enumerate(prompt.sections, start=1):
        chosen.update({i: number for i in decided.sections[section.slug]})
    # On a small vault, what the model never placed, even asked again (a garbled answer), keeps the embeddings'
    # place, and the author is told; on a large one nothing reaches a section the model did not put there.
    fallback = set(decided.unanswered) if small and not send_all else set()
    chosen.update({i: 0 for i in decided.unused if i in asked and i not in fallback})
    if fallback:
        say(f"{llm.model} did not place {len(fallback)} fragments, even asked again: they keep the embeddings' place")
    unrelated = tuple(f.id for f in fragments if f.id not in considered)
    return Sorted(_plan(prompt, fragments, chosen), unrelated, model_doubts(placements, chosen, asked - fallback))


def sorting_estimate(prompt: Prompt, fragments: Sequence[Fragment], llm: ChatModel) -> tuple[int, int, int]:
    """Calls, prompt tokens and answer tokens `sort_fragments` would spend, without ranking: every fragment of
    a small vault, what the capped calls hold of a large one; none for a model that cannot sort. A dry run
    reports this, so it and the real run agree."""
    if not llm.can_sort or not fragments:
        return 0, 0, 0
    return sorting_cost(prompt, to_be_asked(prompt, fragments, llm.context_window), llm.context_window)


def to_be_asked(prompt: Prompt, fragments: Sequence[Fragment], context_window: int) -> list[Fragment]:
    """As many fragments as a capable model will be asked about, without ranking: every fragment of a small
    vault; of a large one, as many as MOST_SORT_CALLS calls hold."""
    if len(fragments) <= SHORTLIST_FROM:
        return list(fragments)
    batches = plan_batches(prompt, list(fragments), context_window)[:MOST_SORT_CALLS]
    return [f for batch in batches for f in batch]


def _in_shortlist(
    prompt: Prompt,
    fragments: Sequence[Fragment],
    placements: Sequence[Placement],
    context_window: int,
    examples: Sequence[Example] = (),
) -> list[Placement]:
    """The placements worth weighing on a large vault, cut to what MOST_SORT_CALLS calls hold.

    Two rankers nominate: the embeddings' shortlist, and as many fragments again that share the essay's
    rarest words (pipeline/sort/lexical.py). Their two rankings, fused, decide which fill the calls first. On a
    vault of 10,000 notes with 1% relevant, the embeddings' relative cut still keeps thousands: a whole other
    subject stands out from the errands as much as the essay's own. The model's calls, not that cut, bound
    what is worth sending. The author's examples (`examples`, not in `fragments`) go in every call."""
    ids = {f.id for f in fragments}
    placements = [p for p in placements if p.id in ids]  # in the fragments' order, as `rank` gave them
    words = lexical_scores(_essay_words(prompt), [f"{f.text} {f.context} {f.title}" for f in fragments])
    listed = {i for i, _ in shortlist(placements)}
    by_words = np.argsort(-words, kind="stable")[: len(listed)]
    listed |= {fragments[i].id for i in by_words if words[i] > 0}
    both = fused(np.array([p.relevance for p in placements]), words)
    likelihood = {f.id: float(both[i]) for i, f in enumerate(fragments)}
    ordered = sorted((f for f in fragments if f.id in listed), key=lambda f: -likelihood[f.id])
    count = sum(len(batch) for batch in plan_batches(prompt, ordered, context_window, examples)[:MOST_SORT_CALLS])
    while True:  # the calls go in note order, which packs a little differently: trim until they fit
        kept = {f.id for f in ordered[:count]}
        if (
            len(plan_batches(prompt, [f for f in fragments if f.id in kept], context_window, examples))
            <= MOST_SORT_CALLS
        ):
            return [p for p in placements if p.id in kept]
        count -= max(1, count // 100)


def _essay_words(prompt: Prompt) -> str:
    """What the author wrote of this essay: its title, instruction, sections and their own draft."""
    sections = (f"{s.title} {s.questions}" for s in prompt.sections)
    return " ".join([prompt.title, prompt.instruction, *sections, prompt.author_draft])


def _embedders(
    count: int,
    *,
    contextual: bool = True,
    memory: VectorMemory | None = None,
    on_progress: Callable[[str], None] = lambda message: None,
) -> list[Embedder]:
    """The models that rank `count` fragments, voting as equals. With `contextual`: EmbeddingGemma alone up to
    GEMMA_UP_TO fragments; if it is not fetched or will not load, the first two that load of MPNet (up to
    MPNET_UP_TO) and MiniLM (~100 texts/s, up to MINILM_UP_TO). Over the five labeled sets EmbeddingGemma alone
    places 68% (64% on the three labeled blind), EmbeddingGemma and MPNet voting 66% (61% blind) in twice the
    time, MPNet and MiniLM 59%. Beyond that, or without `contextual`, WordLlama ranks (static, ~10,000/s). A
    model that will not load is named to `on_progress` and left out: it costs accuracy, never the sort. The
    contextual models' vectors are kept in `memory`: they are slow enough to be worth it, the static model's
    are not."""
    chosen: list[Embedder] = []
    if contextual:
        if count <= MINILM_UP_TO:
            on_progress("loading the sorting model…")
        if count <= GEMMA_UP_TO:
            chosen = _loaded([gemma_embedder], on_progress)
        if not chosen:
            if count <= MPNET_UP_TO:
                on_progress("without EmbeddingGemma: loading MPNet and MiniLM (MPNet is unpacked once: 10 s)…")
            # MPNet and MiniLM vote as equals; a third voter of lesser make lowered accuracy (sort_eval).
            fallback = [(mpnet_embedder, MPNET_UP_TO), (minilm_embedder, MINILM_UP_TO)]
            chosen = _loaded([load for load, most in fallback if count <= most], on_progress)
        if chosen:
            shown = [reporting(e, on_progress, every=32) for e in chosen]  # ~17 texts/s: a line every 2 s
            return [remembering(e, memory) for e in shown] if memory is not None else shown
    try:
        return [bundled_embedder()]
    except EmbedderMissing as exc:
        raise UsageError(f"{exc}: reinstall essay (`pip install -e .`) to sort notes") from None


def _loaded(loaders: Sequence[Callable[[], Embedder]], on_progress: Callable[[str], None]) -> list[Embedder]:
    """Each model that loads; one that will not is named and left out."""
    result = []
    for load in loaders:
        try:
            result.append(load())
        except EmbedderMissing as exc:
            on_progress(f"sorting without it: {exc}")
    return result


def _for_ranking(fragment: Fragment, label: int | None = None) -> SortFragment:
    return SortFragment(
        fragment.id, fragment.text, fragment.context, fragment.title, fragment.by_author, label, fragment.note_path
    )


def _plan(prompt: Prompt, fragments: Sequence[Fragment], chosen: dict[str, int]) -> Plan:
    sections = {
        s.slug: tuple(f.id for f in fragments if chosen.get(f.id) == n) for n, s in enumerate(prompt.sections, start=1)
    }
    return Plan(sections, tuple(f.id for f in fragments if chosen.get(f.id, 0) == 0))
