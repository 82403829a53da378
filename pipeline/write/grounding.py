"""Grounding check: find names, numbers, dates, money and quotes in a draft that none of the notes contain.

It runs on the model's raw text, before `lowercase_prose`, because capital letters are what tell a name from a
word. Unsupported claims are marked in the text as `==claim==^[check: not in your notes]`: an Obsidian highlight
(visible in reading view and live preview) followed by an inline footnote that says why. Both are lowercase-proof
and sit in one contiguous run, so the author deletes them by hand in one go, and `strip_flags` / `count_flags`
tell them from prose when an edited draft is read again.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pipeline.core.text import FLAG, FLAG_CHECK, _link_spans
from pipeline.write._proper_nouns import PROPER_NOUNS
from pipeline.write.quantities import SourceQuantities, find_quantities

Kind = Literal["name", "number", "date", "money", "quote"]

FLAG_NOTE = "^[check: not in your notes]"

# Spans that hold no claims: code, comments, wikilinks and embeds, URLs, footnotes, tags, existing flags.
_NOT_PROSE = re.compile(
    r"\A---\n.*?\n---[ \t]*$"
    r"|^(?P<fence>```|~~~).*?(?:^(?P=fence)[^\n]*$|\Z)"
    r"|(?P<ticks>`+)[^`].*?(?P=ticks)"
    r"|<!--.*?-->|</?[a-z][^>\n]*>"
    r"|!?\[\[.*?\]\]"
    r"|\b(?:https?|ftp|file|mailto):[^\s<>\])]+|\bwww\.[^\s<>\])]+|\b[\w.-]+@[\w-]+\.[\w.]+"
    r"|^\[\^?[^\]\n]+\]:[^\n]*$|\[\^[^\]\n]+\]|\^\[[^\]\n]*\]"
    r"|(?<![\w&])#[\w/-]+"
    r"|==(?:(?!==)[^\n])+?==\s?\^\[check:[^\]\n]*\]",
    re.S | re.M | re.I,
)
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
_QUOTE = re.compile(r"\"([^\"\n]+)\"|“([^”\n]+)”")
_LINE_START = re.compile(r"[ \t]*(?:[-*+][ \t]+|\d+[.)][ \t]+|>[ \t]*|#{1,6}[ \t]+)*[\W_]*\Z")
_SUFFIX = re.compile(r"(?:ing|ed|ly|ness|ment|tion|ful|less|able)$")
_OPENERS = " \t*_\"'“‘([{>|"
_NOT_NAME_WORDS = (
    "i i'm i've i'd i'll ok okay mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday january "
    "february march april may june july august september october november december"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
INITIAL_COMMON = 3.0  # zipf: a capitalised word starting a sentence is a name only when rarer than this
MID_COMMON = 4.5  # mid-sentence a capital is a stronger sign of a name, so only very common words are let off
QUOTE_MIN_WORDS = 5


@dataclass(frozen=True)
class Claim:
    kind: Kind
    text: str
    start: int
    end: int


def find_unsupported(text: str, sources: Sequence[str]) -> list[Claim]:
    """Claims in `text` that appear in none of `sources`, in order, none overlapping.

    Pass each source with its note's path or title too: a daily note's date often lives only in its name.
    """
    masked = _mask(text)
    joined = "\n".join(sources)
    vocabulary = _vocabulary(joined)
    quantities = SourceQuantities.read(list(sources))
    claims: list[Claim] = []
    claims += _unsupported_quotes(text, masked, joined)
    for quantity in find_quantities(masked):
        if not quantities.supports(quantity):
            claims.append(Claim(quantity.kind, text[quantity.start : quantity.end], quantity.start, quantity.end))
        masked = masked[: quantity.start] + " " * (quantity.end - quantity.start) + masked[quantity.end :]
    claims += _unsupported_names(text, masked, vocabulary)
    return _outermost(claims)


def flag(text: str, claims: Sequence[Claim]) -> str:
    """The text with each claim marked `==claim==^[check: not in your notes]`; links are marked whole."""
    links = _link_spans(text)
    spans: list[tuple[int, int]] = []
    for claim in claims:
        start, end = claim.start, claim.end
        for link_start, link_end in links:  # never split a link: a mark inside `[label](url)` would break it
            if link_start < end and start < link_end:
                start, end = min(start, link_start), max(end, link_end)
        spans.append((start, end))
    out, position = [], 0
    for start, end in sorted(set(spans)):
        if start < position:
            continue
        out += [text[position:start], "==", text[start:end], "==", FLAG_NOTE]
        position = end
    out.append(text[position:])
    return "".join(out)


def count_flags(text: str) -> int:
    """How many flags are left in a draft, counted by their notes (the author may have edited the highlight)."""
    return len(FLAG_CHECK.findall(text))


def find_flags(text: str) -> list[tuple[int, str]]:
    """(offset, claim) of each flag left in a draft, in order, one per note as `count_flags` counts them: the
    highlighted claim, or where the author edited the highlight away, the words just before the lone note."""
    found: list[tuple[int, str]] = []
    for note in FLAG_CHECK.finditer(text):
        flagged = next((m for m in FLAG.finditer(text, max(0, note.start() - 400)) if m.end() == note.end()), None)
        if flagged:
            found.append((flagged.start(), flagged["inner"]))
        else:
            words = text[: note.start()].split()[-4:]
            found.append((note.start(), " ".join(words) or note.group().strip()))
    return found


def _mask(text: str) -> str:
    """The text with every non-prose span blanked out, so offsets still match the original."""
    spans = [m.span() for m in _NOT_PROSE.finditer(text)]
    for start, end in _link_spans(text):  # keep a link's label (it is prose), blank its target
        label_end = text.index("](", start)
        spans.append((label_end + 1, end))
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _unsupported_quotes(text: str, masked: str, sources: str) -> list[Claim]:
    source_bigrams = _bigrams(_tokens(sources))
    claims = []
    for match in _QUOTE.finditer(masked):
        words = _tokens(match.group(1) or match.group(2))
        if len(words) < QUOTE_MIN_WORDS:
            continue
        bigrams = _bigrams(words)
        # Word pairs rather than exact text: the notes are lowercase and loosely punctuated.
        if len(bigrams & source_bigrams) < 0.8 * len(bigrams):
            claims.append(Claim("quote", text[match.start() : match.end()], match.start(), match.end()))
    return claims


def _unsupported_names(text: str, masked: str, vocabulary: frozenset[str]) -> list[Claim]:
    claims: list[Claim] = []
    run: list[tuple[int, int, bool]] = []  # (start, end, is an unsupported name) for capitalised words in a row
    for match in _WORD.finditer(masked):
        word = match.group().rstrip("'’-")
        start, end = match.start(), match.start() + len(word)
        if not word[0].isupper():
            claims += _close_run(text, run)
            continue
        if run and masked[run[-1][1] : start] not in (" ", "-"):
            claims += _close_run(text, run)
        initial = not run and _starts_sentence(masked, start)
        name_like = _is_name_like(word, initial or _in_heading(masked, start))
        run.append((start, end, name_like and not _known(word, vocabulary)))
    claims += _close_run(text, run)
    return claims


def _close_run(text: str, run: list[tuple[int, int, bool]]) -> list[Claim]:
    """One claim for a run of capitalised words holding an unknown name: "Priya Raman", not just "Raman"."""
    flagged = [i for i, (_, _, unsupported) in enumerate(run) if unsupported]
    claims = []
    if flagged:
        lo, hi = flagged[0], flagged[-1]
        # Stretch over name-like neighbours ("Dana Whitfield"), not over "Then" or "The" before them.
        while lo > 0 and _is_name_like(text[run[lo - 1][0] : run[lo - 1][1]], lo - 1 == 0):
            lo -= 1
        while hi + 1 < len(run) and _is_name_like(text[run[hi + 1][0] : run[hi + 1][1]], False):
            hi += 1
        claims.append(Claim("name", text[run[lo][0] : run[hi][1]], run[lo][0], run[hi][1]))
    run.clear()
    return claims


def _starts_sentence(masked: str, start: int) -> bool:
    line_start = masked.rfind("\n", 0, start) + 1
    if _LINE_START.match(masked, line_start, start) or not masked[line_start:start].strip(_OPENERS):
        return True
    before = masked[line_start:start].rstrip(_OPENERS)
    return before.endswith((".", "!", "?", ":", ";", "…"))


def _in_heading(masked: str, start: int) -> bool:
    """Headings and bold leads are written in title case: judge their words as if they began a sentence."""
    line = masked[masked.rfind("\n", 0, start) + 1 :].split("\n", 1)[0].strip()
    return line.startswith("#") or (line.startswith("**") and line.rstrip(":").endswith("**"))


def _is_name_like(word: str, initial: bool) -> bool:
    base = _base(word)
    if base in _NOT_NAMES or len(base) < 2:
        return False
    if base in PROPER_NOUNS:
        return True
    if _SUFFIX.search(base) and _zipf(base) >= 1.5:  # "Rereading", "Weirdly": words, however rare
        return False
    return _zipf(base) < (INITIAL_COMMON if initial else MID_COMMON)


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    base = _base(word)
    parts = [p for p in re.split(r"[-'’]", base) if p]
    if base in vocabulary or base.replace("-", "") in vocabulary or all(p in vocabulary for p in parts):
        return True
    stem = _SUFFIX.sub("", base)  # "rereading" is in notes that say "reread"
    return len(stem) > 3 and (stem in vocabulary or stem + "e" in vocabulary)


def _vocabulary(sources: str) -> frozenset[str]:
    words = set(re.findall(r"[^\W_]+(?:['’][^\W_]+)?", sources.lower()))
    return frozenset(words | {_base(w) for w in words})


@lru_cache(maxsize=8192)
def _base(word: str) -> str:
    """Lowercase, without a possessive or a plural "s": "Dana's", "Danas" and "dana" meet at "dana"."""
    base = re.sub(r"['’]s?$", "", word.lower())
    return base[:-1] if len(base) > 3 and base.endswith("s") and not base.endswith("ss") else base


@lru_cache(maxsize=8192)
def _zipf(base: str) -> float:
    # Imported at first use, not at start-up: wordfreq takes a third of a second, which a draft spends while the
    # model writes the next section instead of before the first call.
    from wordfreq import zipf_frequency

    return max(zipf_frequency(base, "en"), zipf_frequency(base + "s", "en"))


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("’", ""))


def _bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(words)) if len(words) > 1 else {(w, "") for w in words}


def _outermost(claims: list[Claim]) -> list[Claim]:
    kept: list[Claim] = []
    for claim in sorted(claims, key=lambda c: (c.start, -c.end)):
        if kept and claim.start < kept[-1].end:
            continue
        kept.append(claim)
    return kept
