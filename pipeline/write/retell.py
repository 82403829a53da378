"""Retellings: paragraphs in two sections of one draft that tell the same story.

Before writing, `other_sections` gives each writing call a line on what every other section's notes tell, so it
leaves those stories to them. After writing, `find_retellings` finds what was told twice all the same.

Sections are written one call each, so a story whose notes went to one section and whose telling in the author's
own draft went to another comes out twice. A pair of prose paragraphs in different sections is scored by what
they share that the rest of the draft does not: the content words and figures of both, each weighed by how rare
it is among the draft's paragraphs (a name, a codename, "14 pages", "$190k" weigh much; "team" little), with the
bundled static embeddings' cosine beside it. A callback ("sandra's question is the one i now ask") shares a word
or two; a retelling shares the story's run of names and figures. Thresholds are set on the labeled set in
benchmarks/retell_set (benchmarks/retell_eval.py reports recall and false flags per 2,000 words).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt, Section
from pipeline.embeddings.embed import EmbedderMissing, bundled_embedder
from pipeline.write.sources import paragraph_kind, paragraph_spans

MIN_WORDS = 12  # a shorter paragraph is a line, not a story
SHARED_WEIGHT = 0.6  # the rare-word overlap's share of the score, the embeddings' cosine the rest
THRESHOLD = 0.38  # a pair scoring at least this tells one story twice (the middle of the 0.36-0.42 band)
_NOT_TEXT = re.compile(r"\[\^[^\]\s]+\]|\^\[check:[^\]\n]*\]|==|<!--.*?-->|\[\[([^\]|]*\|)?|\]\]", re.S)
_TOKEN = re.compile(r"[$€£]?\d[\d,.]*[km%]?|[a-z][a-z'’]+")
_STOPWORD_TEXT = (
    "the and for that this with was were are but not you your have has had from they them their there "
    "what when which who would could should about into out just like more most some than then too very "
    "also its it's i'm my me our we us all any one can did does don't i've been being will how why where "
    "here so because after before over only even still really much many every other each own same again "
    "once off she he her his him got get went said says say told make made time way thing things lot"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Paragraph:
    slug: str  # the section it stands in
    number: int  # its place among the section's prose paragraphs, from 0
    start: int  # where it stands in the section's text
    end: int
    text: str  # its words, without footnote marks or flags


@dataclass(frozen=True)
class Retelling:
    first: Paragraph  # the earlier telling, which stays
    second: Paragraph  # the later one, to be written again without the story, or flagged
    score: float


COVERS_NOTES = 3  # a line on another section quotes the start of this many of its notes
COVERS_WORDS = 12  # ... this many words of each


def other_sections(
    prompt: Prompt, section: Section, material: Mapping[str, Sequence[Fragment]]
) -> list[dict[str, object]]:
    """A line for each other section with material: its number, title and what its notes tell (the start of its
    longest notes, the author's own first), so the call leaves those stories to it; `ids` are its fragments', for
    the shared layout, whose calls all hold every note and so name them by id."""
    lines: list[dict[str, object]] = []
    for number, other in enumerate(prompt.sections, start=1):
        notes = list(material.get(other.slug, ()))
        if other.slug == section.slug or not notes:
            continue
        ranked = sorted(notes, key=lambda f: (not f.by_author, -len(f.text)))
        covers = "; ".join(list(dict.fromkeys(_opening_words(f.text) for f in ranked))[:COVERS_NOTES])
        lines.append({"number": number, "title": other.title, "covers": covers, "ids": [f.id for f in notes]})
    return lines


def _opening_words(text: str) -> str:
    words = re.sub(r"[#*_>`\[\]]+", " ", text).split()
    return " ".join(words[:COVERS_WORDS]) + ("…" if len(words) > COVERS_WORDS else "")


def prose_paragraphs(slug: str, text: str) -> list[Paragraph]:
    """A section's prose paragraphs long enough to tell a story, without their footnotes and flags."""
    found: list[Paragraph] = []
    for start, end in paragraph_spans(text):
        block = text[start:end]
        if paragraph_kind(block) != "prose" or block.lstrip().startswith(">"):
            continue
        clean = " ".join(_NOT_TEXT.sub(" ", block).split())
        if len(clean.split()) >= MIN_WORDS:
            found.append(Paragraph(slug, len(found), start, end, clean))
    return found


def find_retellings(
    sections: Sequence[tuple[str, str]], embed: Embed | None = None, threshold: float = THRESHOLD
) -> list[Retelling]:
    """Each later paragraph that retells an earlier section's paragraph, with the one it retells (the best
    scoring, if several). `sections` are (slug, text) in the draft's order."""
    paragraphs = [p for slug, text in sections for p in prose_paragraphs(slug, text)]
    scores = pair_scores(paragraphs, embed)
    order = {slug: n for n, (slug, _) in enumerate(sections)}
    found: list[Retelling] = []
    for j, later in enumerate(paragraphs):
        earlier = [i for i, p in enumerate(paragraphs) if order[p.slug] < order[later.slug]]
        best = max(earlier, key=lambda i: scores[i][j], default=None)
        if best is not None and scores[best][j] >= threshold:
            found.append(Retelling(paragraphs[best], later, round(float(scores[best][j]), 3)))
    return found


def pair_scores(paragraphs: Sequence[Paragraph], embed: Embed | None = None) -> np.ndarray:
    """A matrix of how much each pair of paragraphs tells the same story, 0 to 1."""
    if not paragraphs:
        return np.zeros((0, 0))
    shared = _shared_rare_words([p.text for p in paragraphs])
    vectors = (embed or _bundled)([p.text for p in paragraphs])
    if not vectors.size:  # no embeddings: the rare words alone (7 of 10 found on the set, no false flag)
        return shared
    cosine = np.clip(vectors @ vectors.T, 0.0, 1.0)
    return SHARED_WEIGHT * shared + (1 - SHARED_WEIGHT) * cosine


def _shared_rare_words(texts: Sequence[str]) -> np.ndarray:
    """For each pair, the weight of the rare words both hold over the weight of the shorter one's rare words."""
    bags = [_tokens(t) for t in texts]
    count = len(bags)
    df: dict[str, int] = {}
    for bag in bags:
        for token in bag:
            df[token] = df.get(token, 0) + 1
    idf = {t: math.log((1 + count) / n) for t, n in df.items()}
    weights = [sum(idf[t] for t in bag) or 1.0 for bag in bags]
    matrix = np.zeros((count, count))
    for i in range(count):
        for j in range(i + 1, count):
            both = sum(idf[t] for t in bags[i] & bags[j])
            matrix[i, j] = matrix[j, i] = both / math.sqrt(weights[i] * weights[j])
    return matrix


def _tokens(text: str) -> set[str]:
    words = _TOKEN.findall(text.lower().replace("’", "'"))
    return {_stem(w) for w in words if w not in _STOPWORDS and (len(w) > 2 or w[0].isdigit())}


def _stem(word: str) -> str:
    if word[0].isdigit() or word[0] in "$€£":
        return word.rstrip(".,")
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _bundled(texts: Sequence[str]) -> np.ndarray:
    try:
        return bundled_embedder().embed(texts)
    except EmbedderMissing:  # the rare words alone then
        return np.zeros((0, 0))
