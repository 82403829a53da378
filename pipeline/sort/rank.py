"""Rank: sort note fragments into a prompt's sections offline, with a small embedding model.

Pure functions over plain data, so the caller decides where fragments come from and what to do with the
result: place every fragment (`rank`), or hand a capable model a short list to decide (`shortlist`).

How a fragment is scored against a section (each step kept because it raised accuracy on the labeled set,
see benchmarks/sort_eval.py):
- the fragment is embedded with its context (heading, label) and note title: a bare "- a block plane" says
  little, "tools i bought for it: / side table build" says where it belongs;
- a section is its title and each of its questions (and each clause of a many-part question) separately; a
  fragment's score is the mean of its best question match and its whole-section match, so one sharp question
  is not drowned by the others;
- scores are standardised per section over the whole pool, so a section whose words happen to be generic
  does not attract everything;
- the author's own draft paragraphs under the prompt are material and anchors: their vectors join the
  section they land in, and a second pass re-scores everything against those section centroids built from
  confident first-pass placements (self-training);
- "fits no section" is relative: a fragment is kept when its relevance to the prompt stands out from the
  pool (a two-class split of the relevance distribution), not above a fixed cosine that differs per model;
- optionally (`neighbours`), a fragment's relevance is averaged with that of its nearest fragments in the
  pool: thoughts on one topic cluster, so a terse "skipped run club to ice it" borrows from the runs around it;
- optionally (`subject_share`), a name the whole essay is about, written in one section only ("Choosing Pip"),
  is left out when the sections are scored: every relevant line mentions it, so it would draw them all there;
- the lines under one heading of one note lean on each other's section scores (sort/headings.py);
- several embedding models may rank together, as equals (see `rank`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.embeddings.embed import Embedder
from pipeline.sort.background import background_vectors
from pipeline.sort.examples import example_votes, sibling_votes
from pipeline.sort.headings import heading_nudge

SMOOTH_MOST = 4096  # fragments: beyond this, only the likeliest are smoothed over their neighbours


@dataclass(frozen=True)
class SortFragment:
    id: str
    text: str
    context: str = ""
    note_title: str = ""
    by_author: bool = False  # the author's own draft paragraph written under the prompt
    label: int | None = None  # the section the author put it in (1..N, 0 = none): it stays there and teaches
    note: str = ""  # the note it comes from: lines under one heading of one note mostly serve one section


@dataclass(frozen=True)
class Essay:
    title: str
    instruction: str
    sections: tuple[tuple[str, str], ...]  # (title, questions)


@dataclass(frozen=True)
class Placement:
    id: str
    scores: tuple[float, ...]  # one per section, standardised (higher fits better)
    section: int  # 1..N, or 0 for "fits no section"
    relevance: float  # how much the fragment is about this essay at all, 0..1 within the pool
    above: float = 0.0  # how far its relevance stands above the "fits no section" cut (below it: negative)


@dataclass(frozen=True)
class RankOptions:
    context_weight: float = 0.5  # how much the heading/label and note title count next to the text
    per_question: bool = True
    standardise: bool = True
    self_train: float = 0.5  # weight of the centroid pass; 0 turns it off
    confident_share: float = 0.3  # the share of relevant fragments per section that builds its centroid
    keep_margin: float = 0.0  # shift of the relevance cut (negative keeps more)
    neighbours: int = 0  # smooth relevance over this many nearest fragments; 0 turns it off
    background: float = 0.0  # weight of everyday off-topic lines in the relevance cut, as a share of the pool
    subject_share: float = 0.0  # a name one section has and this share of relevant fragments too: masked; 0 = off
    heading_weight: float = 0.0  # how much a line leans on the others under its heading (sort/headings.py); 0 = off
    # The author's labeled fragments (SortFragment.label), three ways of learning from them; each lost accuracy on
    # the untouched labels of the five labeled sets against leaving them be (benchmarks/sort_learning.py), so off.
    label_weight: float = 0.0  # each labeled fragment's weight in its section's centroid, against one other's
    example_weight: float = 0.0  # weight of the vote of the nearest labeled example of each section
    sibling_weight: float = 0.0  # weight of a labeled line's vote to the lines under its heading in its note


def rank(
    essay: Essay,
    fragments: Sequence[SortFragment],
    embedder: Embedder | Sequence[Embedder],
    options: RankOptions | None = None,
) -> list[Placement]:
    """Place every fragment: its section scores, its section (0 = none) and its relevance.

    With several embedders each ranks on its own and they vote as equals: their standardised section scores,
    relevances and distances from their own "fits no section" cut are averaged. Two models of different
    make err on different fragments (measured in benchmarks/sort_eval.py)."""
    opts = options or RankOptions()
    if not fragments:
        return []
    models = [embedder] if isinstance(embedder, Embedder) else list(embedder)
    vectors = [_fragment_vectors(fragments, model, opts.context_weight) for model in models]
    ranked = [_rank_one(essay, v, fragments, model, opts) for v, model in zip(vectors, models, strict=True)]
    scores = np.mean([r[0] for r in ranked], axis=0)
    relevance = np.mean([r[1] for r in ranked], axis=0)
    above = np.mean([r[2] for r in ranked], axis=0)
    keep = above >= 0
    names = _subject_names(essay, [f.text for f, kept in zip(fragments, keep, strict=True) if kept], opts)
    if names:  # the sections again without the name, each model with its own first pass's kept fragments
        masked = _without(essay, names)
        scores = np.mean(
            [
                _section_scores(_raw_scores(masked, v, model, opts), v, r[2] >= 0, fragments, opts)
                for v, model, r in zip(vectors, models, ranked, strict=True)
            ],
            axis=0,
        )
    if opts.heading_weight > 0:
        scores = heading_nudge(fragments, scores, keep, opts.heading_weight)
    labels = np.array([-1 if f.label is None else f.label for f in fragments])
    if opts.example_weight > 0 and (labels > 0).any():
        votes = [example_votes(v, labels, scores.shape[1]) for v in vectors]
        scores = scores + opts.example_weight * np.mean(votes, axis=0)
    if opts.sibling_weight > 0 and (labels > 0).any():
        scores = scores + opts.sibling_weight * sibling_votes(fragments, labels, scores.shape[1])
    best = np.where(labels >= 0, labels, np.where(keep, scores.argmax(axis=1) + 1, 0))
    return [
        Placement(f.id, tuple(float(s) for s in scores[i]), int(best[i]), float(relevance[i]), float(above[i]))
        for i, f in enumerate(fragments)
    ]


def _rank_one(
    essay: Essay, vectors: np.ndarray, fragments: Sequence[SortFragment], embedder: Embedder, opts: RankOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One model's section scores, relevance, and each fragment's distance above the relevance cut."""
    raw = _raw_scores(essay, vectors, embedder, opts)
    relevance, cut = _relevance_and_cut(essay, vectors, raw, embedder, opts)
    above = relevance - (cut + opts.keep_margin)
    return _section_scores(raw, vectors, above >= 0, fragments, opts), relevance, above


def _section_scores(
    raw: np.ndarray, vectors: np.ndarray, keep: np.ndarray, fragments: Sequence[SortFragment], opts: RankOptions
) -> np.ndarray:
    scores = _standardise(raw, raw) if opts.standardise and len(vectors) > 1 else raw
    return _self_train(scores, vectors, keep, fragments, opts) if opts.self_train > 0 else scores


def _subject_names(essay: Essay, relevant: Sequence[str], opts: RankOptions) -> set[str]:
    """The name the whole essay is about, if one section's text alone writes it ("Choosing Pip", "How did Ciara
    and I end up living together?") and at least `subject_share` of the relevant fragments mention it: left in,
    that section drew every line naming the dog or the friend (on two blind labeled sets, 38 of 67 and 27 of 61
    labels). Where two sections each have such a name ("my years in London", "my years in Lisbon"), the names
    tell the sections apart and stay."""
    if opts.subject_share <= 0 or not relevant:
        return set()
    per_section = [{_bare(w) for w in _WORD.findall(f"{t} {q}")} for t, q in essay.sections]
    # "How The House Worked": where every title capitalises its words, a capital in a title says nothing.
    title_case = all(all(w[0].isupper() for w in _WORD.findall(t)[1:] if len(w) > 3) for t, _ in essay.sections)
    named = [_capitalised_inside(q if title_case else f"{t}. {q}") for t, q in essay.sections]
    candidates = {w for names in named for w in names if sum(w in words for words in per_section) == 1}
    frequent = {
        w
        for w in candidates
        if sum(1 for t in relevant if _mentions(w).search(t)) >= opts.subject_share * len(relevant)
    }
    return frequent if len(frequent) == 1 else set()


_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Capitalised in English, or a verb as often as a name: never taken for the essay's subject.
_CALENDAR = "january february march april may june july august september october november december christmas easter"
_WEEK = "monday tuesday wednesday thursday friday saturday sunday"
_NOT_NAMES = set(f"{_CALENDAR} {_WEEK} will can might must shall".split())


def _bare(word: str) -> str:
    """ "Ciara's" is Ciara."""
    return re.sub(r"['’]s?$", "", word.lower())


def _mentions(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?:['’]s?)?(?!\w)", re.I)


def _capitalised_inside(text: str) -> set[str]:
    """Words written with a capital where no sentence or line starts, "I", "I'd" and the calendar aside."""
    names = set()
    for sentence in re.split(r"(?<=[.?!:…])[\"”’)]*\s+|\n+", text):
        words = _WORD.findall(sentence)
        names |= {_bare(w) for w in words[1:] if w[0].isupper() and not re.fullmatch(r"I(?:['’]\w+)?", w)}
    return names - _NOT_NAMES


def _without(essay: Essay, names: set[str]) -> Essay:
    def strip(text: str) -> str:
        for name in names:
            text = _mentions(name).sub("", text)
        return re.sub(r"\s+([?,.!])|(?<=\s)\s+", r"\1", text).strip()

    sections = tuple((strip(t) or t, strip(q)) for t, q in essay.sections)
    return Essay(essay.title, essay.instruction, sections)


def shortlist(
    placements: Sequence[Placement], candidates: int = 3, keep_margin: float = -0.1
) -> list[tuple[str, tuple[int, ...]]]:
    """Fragments worth a capable model's time, each with its `candidates` best sections (best first).

    The cut is looser than `rank`'s (keep_margin below zero): a model can still say "none", but cannot
    see a fragment dropped here."""
    if not placements:
        return []
    relevance = np.array([p.relevance for p in placements])
    cut = _two_class_cut(relevance) + keep_margin
    result = []
    for p in placements:
        if p.relevance >= cut or p.section:
            order = np.argsort(-np.array(p.scores))[:candidates] + 1
            result.append((p.id, tuple(int(s) for s in order)))
    return result


def _fragment_vectors(fragments: Sequence[SortFragment], embedder: Embedder, weight: float) -> np.ndarray:
    text = embedder.embed([f.text for f in fragments])
    if weight <= 0:
        return text
    around = embedder.embed([f"{f.context} {f.note_title}".strip() for f in fragments])
    return _normalise(text + weight * around)


def _raw_scores(essay: Essay, vectors: np.ndarray, embedder: Embedder, opts: RankOptions) -> np.ndarray:
    wholes = [f"{title} {questions}" for title, questions in essay.sections]
    parts = [[title, *_sentences(questions)] if opts.per_question else [] for title, questions in essay.sections]
    # One call for every section's texts: a contextual model pays a fixed cost per call.
    queries = embedder.embed_queries(wholes + [p for section in parts for p in section])
    columns, start = [], len(wholes)
    for n, section in enumerate(parts):
        score = vectors @ queries[n]
        if section:
            best_part = (vectors @ queries[start : start + len(section)].T).max(axis=1)
            score = (score + best_part) / 2
            start += len(section)
        columns.append(score)
    return np.stack(columns, axis=1)


def _standardise(scores: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Per-section z-scores against the pool's own spread."""
    return (scores - pool.mean(axis=0)) / (pool.std(axis=0) + 1e-6)


def _relevance_and_cut(
    essay: Essay, vectors: np.ndarray, raw: np.ndarray, embedder: Embedder, opts: RankOptions
) -> tuple[np.ndarray, float]:
    """How much each fragment is about the essay (0..1: its match to the whole prompt and to its best
    section, smoothed over its neighbours), and the two-class cut between on- and off-topic.

    Everyday off-topic lines (sort/background.py) join the pool for the cut, weighing `background` times the pool:
    a vault that is all on topic then splits from them instead of in half, while a vault with its own
    off-topic half still splits where it did."""
    n = len(vectors)
    if opts.background > 0:
        extra = background_vectors(embedder, vectors.shape[1])
        raw = np.vstack([raw, _raw_scores(essay, extra, embedder, opts)])
        vectors = np.vstack([vectors, extra])
    prompt_vec = embedder.embed_queries([_prompt_text(essay)])[0]
    best = (_standardise(raw, raw[:n]) if opts.standardise and n > 1 else raw).max(axis=1)
    relevance = _rescale(_rescale(vectors @ prompt_vec) + _rescale(best))
    if opts.neighbours > 0:
        relevance = _smooth(relevance, vectors, opts.neighbours)
    weights = np.ones(len(relevance))
    weights[n:] = opts.background * n / max(len(relevance) - n, 1)
    return relevance[:n], _two_class_cut(relevance, weights)


def _prompt_text(essay: Essay) -> str:
    return " ".join([essay.title, essay.instruction, *(f"{t} {q}" for t, q in essay.sections)])


def _smooth(relevance: np.ndarray, vectors: np.ndarray, neighbours: int) -> np.ndarray:
    """Half a fragment's own relevance, half the mean relevance of its nearest fragments (by cosine).

    On a large pool only the SMOOTH_MOST likeliest fragments look for neighbours, among themselves: the rest
    are far below any cut (they count as their own neighbours), and all pairs of 50,000 would take minutes."""
    k = min(neighbours, len(vectors) - 1)
    if k < 1:
        return relevance
    borrowed = relevance.copy()
    top = np.argsort(-relevance)[:SMOOTH_MOST] if len(vectors) > SMOOTH_MOST else np.arange(len(vectors))
    pool, scores = vectors[top], relevance[top]
    for start in range(0, len(top), 1024):  # row blocks: never a whole n x n matrix at once
        similarity = pool[start : start + 1024] @ pool.T
        rows = np.arange(similarity.shape[0])
        similarity[rows, rows + start] = -np.inf  # not its own neighbour
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        borrowed[top[start : start + 1024]] = scores[nearest].mean(axis=1)
    return _rescale(0.5 * relevance + 0.5 * borrowed)


def _self_train(
    scores: np.ndarray, vectors: np.ndarray, keep: np.ndarray, fragments: Sequence[SortFragment], opts: RankOptions
) -> np.ndarray:
    """Re-score against centroids of each section's confident first-pass fragments (and the author's draft)."""
    best = scores.argmax(axis=1)
    ordered = np.sort(scores, axis=1)
    margin = ordered[:, -1] - ordered[:, -2] if scores.shape[1] > 1 else ordered[:, -1]
    authored = np.array([f.by_author for f in fragments])
    # With `label_weight`, the author's labeled fragments join the section they put them in, weighing that each.
    labels = np.array([-2 if f.label is None or opts.label_weight <= 0 else f.label - 1 for f in fragments])
    free = labels == -2  # -1: "fits no section"
    centroids = []
    for s in range(scores.shape[1]):
        members = np.flatnonzero(keep & (best == s) & free)
        labeled = np.flatnonzero(labels == s)
        if members.size == 0 and labeled.size == 0:
            centroids.append(np.zeros(vectors.shape[1], dtype=np.float32))
            continue
        take = max(1, round(members.size * opts.confident_share))
        chosen = set(members[np.argsort(-margin[members])][:take]) | set(np.flatnonzero(authored & (best == s) & free))
        weights = np.array([1.0] * len(chosen) + [opts.label_weight] * labeled.size)
        rows = vectors[[*sorted(chosen), *labeled]]
        centroids.append(_normalise((weights[:, None] * rows).sum(axis=0, keepdims=True))[0])
    second = vectors @ np.stack(centroids).T
    second = (second - second.mean(axis=0)) / (second.std(axis=0) + 1e-6)
    return (1 - opts.self_train) * scores + opts.self_train * second


def _two_class_cut(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Otsu's threshold: the cut that best splits (weighted) values into a low (off-topic) and a high
    (on-topic) group."""
    order = np.argsort(values)
    ordered = values[order]
    if ordered.size < 3 or ordered[-1] - ordered[0] < 1e-9:
        return float(ordered[0]) if ordered.size else 0.0
    w = np.ones_like(ordered) if weights is None else weights[order]
    low_weight = np.cumsum(w)[:-1]
    high_weight = w.sum() - low_weight
    low_sum = np.cumsum(w * ordered)[:-1]
    low_mean = low_sum / low_weight
    high_mean = ((w * ordered).sum() - low_sum) / high_weight
    gain = low_weight * high_weight * (low_mean - high_mean) ** 2  # between-class variance, O(n)
    return float(ordered[int(gain.argmax()) + 1])


def _sentences(questions: str) -> list[str]:
    """Each question, and each clause of a question that asks several things at once ("what state was the
    plot in, what did you do first, and who helped you?"): a fragment that answers one clause matches it."""
    whole = [s.strip() for s in re.split(r"(?<=[?.!])\s+|\n+", questions) if len(s.strip()) > 3]
    clauses = [
        c.strip(" ,;—-")
        for sentence in whole
        for c in re.split(r",\s+(?:and\s+|or\s+)?|\s+[—–]\s+|;\s+", sentence)
        if len(c.split()) >= 2
    ]
    return list(dict.fromkeys(whole + clauses))


def _rescale(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
