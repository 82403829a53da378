"""The length a prompt asks for: "a 2000-word essay", "about 1,500 words", "under 800 words", "1.5k words",
"1,200-1,500 words", or a `words:` property in its frontmatter (a number, or the same kind of phrase).

`asked_length` gives the words to aim at and the phrase as the prompt says it, so a draft can report its
total against it. A ceiling is aimed under ("under 800 words": 720), a floor over; a range at its middle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?\s?k\b|\d+"
_QUALIFIER = (
    r"about|around|roughly|approximately|approx\.?|some|~|under|below|at most|no more than|not more than|"
    r"fewer than|less than|up to|max(?:imum)?|at least|over|more than|no less than|min(?:imum)?"
)
_PHRASE = re.compile(
    rf"(?:(?P<qualifier>{_QUALIFIER})\s*)?(?P<number>{_NUMBER})"
    rf"(?:\s*(?:-|–|—|to)\s*(?P<upper>{_NUMBER}))?[\s-]*words?\b",
    re.I,
)
_CEILING = ("under", "below", "at most", "no more than", "not more than", "fewer than", "less than", "up to", "max")
_FLOOR = ("at least", "over", "more than", "no less than", "min")
SMALLEST = 100  # "write 3 words per line" is not an essay's length
CEILING_SHARE = 0.9  # "under 800 words" aims at 720: a draft comes out a little over or under what it asks


@dataclass(frozen=True)
class Length:
    words: int  # what the draft aims at
    asked: str  # as the prompt says it: "under 800 words"


def asked_length(instruction: str, words_property: object = None) -> Length | None:
    """The length the prompt asks for: its `words:` property first, else the first length its instruction names."""
    if isinstance(words_property, int | float) and not isinstance(words_property, bool):
        return Length(int(words_property), f"{int(words_property)} words") if words_property >= SMALLEST else None
    if isinstance(words_property, str):
        text = words_property if re.search(r"words?\b", words_property, re.I) else f"{words_property} words"
        found = _first(text)
        if found:
            return found
    return _first(instruction)


def _first(text: str) -> Length | None:
    for match in _PHRASE.finditer(text):
        low = _number(match["number"])
        high = _number(match["upper"]) if match["upper"] else None
        qualifier = (match["qualifier"] or "").lower().rstrip(".")
        if high is not None and high > low:
            words = (low + high) // 2
        elif qualifier.startswith(_CEILING):
            words = round(low * CEILING_SHARE)
        elif qualifier.startswith(_FLOOR):
            words = round(low * (2 - CEILING_SHARE))
        else:
            words = low
        if words >= SMALLEST:
            number = f"{low:,}" + (f"–{high:,}" if high is not None and high > low else "")
            return Length(words, f"{qualifier} {number} words".strip())
    return None


def _number(text: str) -> int:
    text = text.replace(",", "").replace(" ", "").lower()
    return round(float(text[:-1]) * 1000) if text.endswith("k") else int(float(text))
