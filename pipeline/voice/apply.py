"""The mechanical rules applied to a written section, as lowercasing is: a phrase the author always cuts is cut,
a word they always replace is replaced. Never inside code, links, wikilinks, URLs, markers, flags' notes, quoted
text or a blockquote, nor in a sentence the author wrote themselves (their own draft, carried into the section)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache

from pipeline.core.text import _PROTECTED, _link_spans
from pipeline.voice.rules import Rule, Voice

_QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”|^[ \t]*>[^\n]*$|\^\[[^\]\n]*\]|\[\^[^\]\n]+\]', re.M)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD_EDGE_BEFORE = r"(?<![\w'’-])"
_WORD_EDGE_AFTER = r"(?![\w'’-])"
_OWN_SENTENCE_MIN = 20  # a shorter sentence is no evidence that the author wrote it


def apply_voice(text: str, voice: Voice | None, own: Iterable[str] = ()) -> str:
    """The text with the voice's mechanical rules applied outside every protected span. `own` are texts the author
    wrote (their draft, their points): a sentence of the section found in them is left as it is."""
    if voice is None or not voice.mechanical:
        return text
    own_text = _squeezed(" ".join(own))
    out: list[str] = []
    position = 0
    for start, end in _protected(text, own_text):
        if end <= position:
            continue
        start = max(start, position)
        out += [_apply_rules(text[position:start], voice.mechanical), text[start:end]]
        position = end
    out.append(_apply_rules(text[position:], voice.mechanical))
    return "".join(out)


def _protected(text: str, own_text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _PROTECTED.finditer(text)] + _link_spans(text)
    spans += [m.span() for m in _QUOTED.finditer(text)]
    if own_text:
        for sentence in _SENTENCE.finditer(text):
            squeezed = _squeezed(sentence[0])
            if len(squeezed) >= _OWN_SENTENCE_MIN and squeezed in own_text:
                spans.append(sentence.span())
    return sorted(spans)


def _apply_rules(segment: str, rules: Sequence[Rule]) -> str:
    for rule in rules:
        segment = _replacer(rule.old, rule.new)(segment)
    return segment


@cache
def _replacer(old: str, new: str | None) -> Callable[[str], str]:
    """A function applying one rule; punctuation (an em dash, a semicolon) takes its spacing with it."""
    if not re.search(r"\w", old):
        return _punctuation_replacer(old, new or "")
    words = r"\s+".join(re.escape(w) for w in old.split())
    phrase = f"{_WORD_EDGE_BEFORE}{words}{_WORD_EDGE_AFTER}"
    if new is not None:
        pattern = re.compile(phrase, re.I)
        return lambda segment: pattern.sub(lambda m: _same_case(m[0], new), segment)
    # Removing a phrase takes the comma or space that went with it: "honestly, i" -> "i"; "was, honestly, fine" ->
    # "was fine"; "fine, honestly." -> "fine."; "i honestly think" -> "i think".
    cut = re.compile(
        rf",[ \t]+{phrase}[ \t]*,"
        rf"|,[ \t]+{phrase}(?=[ \t]*(?:[.;:!?)\]]|$))"
        rf"|{phrase}[ \t]*,[ \t]*"
        rf"|{phrase}[ \t]+"
        rf"|[ \t]+{phrase}(?=[.;:!?)\]]|$)"
        rf"|{phrase}",
        re.I | re.M,
    )
    return lambda segment: _capitalized_after_cut(cut, segment)


def _capitalized_after_cut(cut: re.Pattern[str], segment: str) -> str:
    """Cut every match; a sentence that started with the cut phrase keeps its capital, if it had one."""

    def replace(match: re.Match[str]) -> str:
        rest = segment[match.end() : match.end() + 1]
        if match[0][:1].isupper() and rest.islower():
            return "\x00"  # capitalise the next letter below
        return ""

    done = cut.sub(replace, segment)
    return re.sub("\x00(.)", lambda m: m[1].upper(), done).replace("\x00", "")


def _punctuation_replacer(old: str, new: str) -> Callable[[str], str]:
    pattern = re.compile(rf"[ \t]*{re.escape(old)}[ \t]*")
    replacement = new.strip()
    if replacement in ("-", "–", "--"):
        joined = f" {replacement} "  # "a—b" -> "a - b", as the author writes a dash
    elif replacement and not re.search(r"\w", replacement):
        joined = replacement + " "  # "a — b" -> "a, b"
    else:
        joined = f" {replacement} " if replacement else " "

    def replace(match: re.Match[str]) -> str:
        at_end = match.end() == len(match.string) or match.string[match.end()] == "\n"
        return joined.rstrip() if at_end else joined

    return lambda segment: pattern.sub(replace, segment)


def _same_case(found: str, new: str) -> str:
    if found[:1].isupper() and new:
        return new[0].upper() + new[1:]
    return new


def _squeezed(text: str) -> str:
    return " ".join(text.lower().split())
