"""Small text helpers shared by the stages: slugs, token estimates, and the author's lowercase voice.

The voice is lowercase, but not every capital is the model's: the author writes "3M", "GPU" and "DSM09" in
their own notes, and those keep their casing (`learn_casing`). An all-capitals form (two capitals, or a capital
beside a digit) is never typed by accident: one use by the author is enough, and where the author also writes
it in lowercase ("gpu"), the draft keeps whichever form the model wrote. A word with only its first letter
capitalised may be a keyboard's doing, so it keeps its capital only where the author capitalises it in most of
their uses away from a line's or sentence's start ("The", "Then" at a sentence's start tell nothing), and then
always. Single letters ("I") never count.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# Spans that keep their case: fenced and inline code, HTML comments (our section markers),
# wikilinks and embeds, autolinks and bare URLs. Markdown links are found by _link_spans,
# since their labels may hold brackets (a regex cannot balance them).
_PROTECTED = re.compile(
    r"^(?P<fence>```|~~~).*?(?:^(?P=fence)[^\n]*$|\Z)"
    r"|(?P<ticks>`+)[^`].*?(?P=ticks)"
    r"|<!--.*?-->"
    r"|!?\[\[.*?\]\]"
    r"|<[a-z][a-z0-9+.-]*:[^\s>]*>"
    r"|\b(?:https?|ftp|file|mailto):[^\s<>\]\)]+"
    r"|\bwww\.[^\s<>\]\)]+",
    re.S | re.M | re.I,
)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
# A flag finishing puts on a claim none of the notes hold: ==the claim==^[check: why]. Several stages read them.
FLAG = re.compile(r"==(?P<inner>(?:(?!==)[^\n])+?)==\s?\^\[check:(?P<note>[^\]\n]*)\]", re.I)
FLAG_CHECK = re.compile(r"\s?\^\[check:[^\]\n]*\]", re.I)


def strip_flags(text: str) -> str:
    """The text without flags: the claim stays, the highlight and the note go; a lone note goes too."""
    return FLAG_CHECK.sub("", FLAG.sub(lambda m: m.group("inner"), text))


def slugify(text: str, *, max_length: int = 60) -> str:
    """A lowercase slug, safe as a file or folder name: letters and digits of any script, single hyphens.
    Names in CJK or Cyrillic keep their own letters, so two such prompts never share a slug by accident."""
    normal = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[\W_]+", "-", normal).strip("-")
    return slug[:max_length].rstrip("-")


def estimate_tokens(text: str) -> int:
    """About four characters a token for English prose; good enough to plan batches and budgets."""
    return len(text) // 4 + 1


def strip_think(text: str) -> str:
    """Drop a reasoning model's <think> blocks from its answer."""
    return _THINK.sub("", text).strip()


@dataclass(frozen=True)
class Casing:
    """The capitals the author writes: `always` by lowercase form ("dsm09" -> "DSM09"), and the capitalised
    forms they write both ways, kept only as the model writes them ("GPU", while "gpu" stays lowercase)."""

    always: dict[str, str] = field(default_factory=dict)
    as_written: frozenset[str] = frozenset()

    def lower(self, prose: str) -> str:
        if not self.always and not self.as_written:
            return prose.lower()
        return _WORD_RUN.sub(lambda m: self._word(m.group()), prose)

    def _word(self, word: str) -> str:
        if word in self.as_written:
            return word
        return self.always.get(word.lower(), word.lower())


_WORD_RUN = re.compile(r"[^\W_]+")
_SENTENCE_START = re.compile(r"(?:[.!?:]|\n)[\s\"'“‘(\[\]*_>#|+-]*\Z")


def learn_casing(texts: Iterable[str]) -> Casing:
    """The author's own capitals, from their notes and draft (links, URLs and code left out: their capitals
    are someone else's)."""
    caps: Counter[str] = Counter()  # a capitalised form, used where a capital tells something
    lower: Counter[str] = Counter()  # a lowercase form, anywhere
    for text in texts:
        for line in _masked(text).splitlines():
            titled = _is_title_line(line)
            for match in _WORD_RUN.finditer(line):
                word = match.group()
                if word.islower() or word.isdigit() or len(word) < 2:
                    if word.islower():
                        lower[word] += 1
                    continue
                before = "\n" + line[max(0, match.start() - 12) : match.start()]
                if _is_acronym(word) or not (titled or _SENTENCE_START.search(before)):
                    caps[word] += 1
    always: dict[str, str] = {}
    as_written: set[str] = set()
    for word, count in caps.items():
        key = word.lower()
        rivals = sum(n for w, n in caps.items() if w.lower() == key and w != word)
        if count <= rivals:  # two capitalised spellings: the commoner one
            continue
        if not lower[key]:
            always[key] = word
        elif _is_acronym(word):
            as_written.add(word)
        elif count > lower[key]:
            always[key] = word
    return Casing(always, frozenset(as_written))


def _is_title_line(line: str) -> bool:
    """A heading, or a line in Title Case ("Things I'm Satisfied With"): its capitals are the title's, not
    the words'."""
    if line.lstrip().startswith("#"):
        return True
    words = [w for w in _WORD_RUN.findall(line) if len(w) > 3 and not w.isdigit()]
    return len(words) >= 2 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _is_acronym(word: str) -> bool:
    capitals = sum(c.isupper() for c in word)
    return capitals >= 2 or (capitals == 1 and any(c.isdigit() for c in word))


def _masked(text: str) -> str:
    """The text with code, links, URLs and markers blanked out, positions kept."""
    spans = sorted([m.span() for m in _PROTECTED.finditer(text)] + _link_spans(text))
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def lowercase_prose(text: str, casing: Casing | None = None) -> str:
    """Lowercase the prose, leaving code, links, wikilinks, embeds, URLs and markers exactly as they are, and
    the author's own capitals (`casing`) as they write them."""
    lower = casing.lower if casing is not None else str.lower
    spans = sorted([m.span() for m in _PROTECTED.finditer(text)] + _link_spans(text))
    out: list[str] = []
    position = 0
    for start, end in spans:
        if end <= position:
            continue
        start = max(start, position)
        out.append(lower(text[position:start]))
        out.append(text[start:end])
        position = end
    out.append(lower(text[position:]))
    return "".join(out)


def _link_spans(text: str) -> list[tuple[int, int]]:
    """Spans of markdown links and images, `[label](target)`, with brackets balanced in both parts."""
    spans: list[tuple[int, int]] = []
    index = text.find("[")
    while index != -1:
        if text.startswith("[[", index):
            close = text.find("]]", index)
            index = text.find("[", close + 2 if close != -1 else index + 2)
            continue
        label_end = _balanced(text, index, "[", "]")
        if label_end is not None and text.startswith("(", label_end + 1):
            target_end = _balanced(text, label_end + 1, "(", ")")
            if target_end is not None:
                start = index - 1 if index > 0 and text[index - 1] == "!" else index
                spans.append((start, target_end + 1))
                index = text.find("[", target_end + 1)
                continue
        index = text.find("[", index + 1)
    return spans


def _balanced(text: str, start: int, opening: str, closing: str) -> int | None:
    """Index of the bracket closing the one at `start`, or None if it is not closed in the paragraph."""
    depth = 0
    for i in range(start, len(text)):
        char = text[i]
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return i
        elif char == "\n" and text.startswith("\n\n", i):
            return None
    return None
