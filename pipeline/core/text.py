"""Small text helpers shared by the stages: slugs, token estimates, and the author's lowercase voice."""

from __future__ import annotations

import re
import unicodedata

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


def lowercase_prose(text: str) -> str:
    """Lowercase the prose, leaving code, links, wikilinks, embeds, URLs and markers exactly as they are."""
    spans = sorted([m.span() for m in _PROTECTED.finditer(text)] + _link_spans(text))
    out: list[str] = []
    position = 0
    for start, end in spans:
        if end <= position:
            continue
        start = max(start, position)
        out.append(text[position:start].lower())
        out.append(text[start:end])
        position = end
    out.append(text[position:].lower())
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
