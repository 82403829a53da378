"""How long each section is: the prompt's asked length shared among the sections by their material.

A plan direction's "N words" wins for its section; what is left is shared among the other sections that have
material, by how much of it each has, so that a section with three notes is not as long as one with thirty,
nor a tenth of it (each share stays between half and twice the even share). A section with no material
gets no call, and no share. Without an asked length each section is as long as its material asks
(`target_words`), as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt

MOST_WORDS = 350  # a section's length when neither the prompt nor the author gives one, at most
FEWEST_WORDS = 80  # what a section with material gets, whatever is left of the asked length
_SPREAD = (0.5, 2.0)  # a share is kept within these multiples of the even share
_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]\s]+\]:.*$", re.M)
_NOT_WORDS = re.compile(
    r"<!--.*?-->|\[\^[^\]\s]+\]|\^\[check:[^\]\n]*\]|^>[ \t]*\[![^\]]*\][^\n]*(?:\n>[^\n]*)*", re.S | re.M
)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def target_words(fragments: Sequence[Fragment]) -> int:
    """More notes, a longer section; within what one section of a short essay should be."""
    return min(MOST_WORDS, 90 + 40 * len(fragments))


def section_words(
    prompt: Prompt, material: Mapping[str, Sequence[Fragment]], stated: Mapping[str, int | None]
) -> dict[str, int]:
    """Words to ask of each section with material (slug -> words); `stated` holds the plan's "N words"."""
    with_material = [s.slug for s in prompt.sections if material.get(s.slug)]
    fixed = {slug: words for slug in with_material if (words := stated.get(slug))}
    shared = [slug for slug in with_material if slug not in fixed]
    if prompt.length is None:
        return fixed | {slug: target_words(material[slug]) for slug in shared}
    left = prompt.length.words - sum(fixed.values())
    sizes = {slug: sum(len(f.text) for f in material[slug]) or 1 for slug in shared}
    return fixed | {slug: max(FEWEST_WORDS, words) for slug, words in _share(left, sizes).items()}


def _share(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """`total` split by `sizes`, each share clamped around the even share, rounded to tens, summing to about it."""
    if not sizes or total <= 0:
        return dict.fromkeys(sizes, 0)
    even = total / len(sizes)
    weight = sum(sizes.values())
    raw = {slug: total * size / weight for slug, size in sizes.items()}
    for _ in range(3):  # clamp, then spread what the clamp took or gave over the others
        clamped = {slug: min(max(words, even * _SPREAD[0]), even * _SPREAD[1]) for slug, words in raw.items()}
        free = [slug for slug in clamped if even * _SPREAD[0] < clamped[slug] < even * _SPREAD[1]]
        rest = total - sum(clamped.values())
        free_sum = sum(clamped[slug] for slug in free)
        if not free or abs(rest) < 1 or not free_sum:
            raw = clamped
            break
        raw = {slug: words + (rest * words / free_sum if slug in free else 0) for slug, words in clamped.items()}
    return {slug: int(round(words / 10) * 10) for slug, words in raw.items()}


def most_words(context_window: int) -> int:
    """The longest section a model of this window is asked for: its answer may take a third of the window."""
    return max(60, (context_window // 3 - 64) // 2)


def most_section_words(prompt: Prompt) -> int:
    """The most words one section of this prompt may be asked for (to budget the shared prompt's answer)."""
    if prompt.length is None:
        return MOST_WORDS
    return max(MOST_WORDS, int(prompt.length.words * _SPREAD[1] / max(1, len(prompt.sections))))


def count_words(markdown: str) -> int:
    """Words of prose in a section as the draft holds it: not its markers, footnotes, flags' notes or to-do notes."""
    text = _NOT_WORDS.sub(" ", _FOOTNOTE_DEF.sub(" ", markdown))
    return len(_WORD.findall(text))
