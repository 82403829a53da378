"""Mine the author's edits for habits: what they do to generated text again and again.

Each pair (generated, edited) is aligned word by word (difflib). A short span the author deleted or replaced
is one edit of that phrase; a habit is a phrase edited the same way at least MIN_SEEN times that the author
edited in at least MIN_SHARE of the places it appeared in what they edited, so a word they cut once in a
rewrite and kept everywhere else is no rule. The same holds for punctuation (an em dash made a comma), for the
first and last sentence of a section cut (in at least EDGE_SHARE of the sections long enough to have them),
sentences and paragraphs split shorter, and lists made prose.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.voice.pairs import EditPair

MIN_SEEN = 3  # edits before a habit is a rule
MIN_SHARE = 0.6  # of the phrase's appearances in edited sections that the author changed
MOST_WORDS = 4  # a longer deleted span is a sentence cut, not a phrase
EDGE_SHARE = 0.2  # of the sections long enough, those whose opening or closing line the author cut
_TOKEN = re.compile(r"[\w'’]+(?:-[\w'’]+)*|[^\w\s]")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_LIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S", re.M)
_CONTEXT = 4  # words either side of an edit in its example, times two where its sentence goes on
_STOPS = {".", "!", "?"}


@dataclass(frozen=True)
class MinedRule:
    key: str
    text: str  # the rule, as voice.md and the model read it
    seen: int
    example: str

    @property
    def line(self) -> str:
        times = "time" if self.seen == 1 else "times"
        return f"- {self.text} (seen {self.seen} {times}; e.g. {self.example})"


@dataclass
class _Edits:
    """What happened to one phrase across the pairs."""

    to: Counter[str] = field(default_factory=Counter)  # "" for a deletion
    examples: list[str] = field(default_factory=list)


def mine_rules(pairs: Sequence[EditPair]) -> list[MinedRule]:
    """The habits the edits show, most often seen first."""
    tokenized = [(_tokens(p.generated), _tokens(p.edited)) for p in pairs]
    edits: dict[str, _Edits] = defaultdict(_Edits)
    for generated, edited in tokenized:
        for old, new, example in _span_edits(generated, edited):
            edits[old].to[new] += 1
            edits[old].examples.append(example)
    appearances = Counter[str]()
    for generated, _ in tokenized:
        words = [t.lower() for t in generated]
        for old in edits:
            appearances[old] += _count(words, old.split())
    rules = [r for old, e in edits.items() if (r := _phrase_rule(old, e, appearances[old]))]
    rules += _shape_rules(pairs)
    return sorted(rules, key=lambda r: (-r.seen, r.key))


def _phrase_rule(old: str, edits: _Edits, appeared: int) -> MinedRule | None:
    changed = sum(edits.to.values())
    if changed < MIN_SEEN or changed < MIN_SHARE * appeared:
        return None
    target, count = edits.to.most_common(1)[0]
    example = edits.examples[0]
    if count < MIN_SEEN or count * 3 < changed * 2:  # no one way of changing it: the model is told, nothing replaced
        what = "no" if _punctuation(old) else "find another word for"
        return MinedRule(f"reword:{old}", f'{what} "{old}"', changed, example)
    if target == "":
        return MinedRule(f"avoid:{old}", f'avoid "{old}"', count, example)
    return MinedRule(f"replace:{old}", f'write "{target}", not "{old}"', count, example)


def _span_edits(generated: list[str], edited: list[str]) -> list[tuple[str, str, str]]:
    """(old phrase, what it became, an example) for each short span the author deleted or replaced."""
    found: list[tuple[str, str, str]] = []
    matcher = difflib.SequenceMatcher(None, [t.lower() for t in generated], [t.lower() for t in edited], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("delete", "replace"):
            continue
        old, new = generated[i1:i2], edited[j1:j2]
        if all(_punctuation(t) for t in old) and len(old) == 1 and all(_punctuation(t) for t in new):
            pair = (old[0], "".join(new))  # an em dash made a comma, a semicolon a full stop
        else:
            old_words, new_words = _trimmed(old), _trimmed(new)
            if not old_words or len(old_words) > MOST_WORDS or len(new_words) > MOST_WORDS:
                continue
            if any(_punctuation(t) for t in old_words + new_words):
                continue  # the span crosses a clause: a rewrite, not one phrase
            pair = (" ".join(old_words).lower(), " ".join(new_words).lower())
        before, after = _in_sentence(generated, i1, i2), _in_sentence(edited, j1, j2)
        found.append((*pair, f'"{before}" → "{after}"'))
    return found


def _shape_rules(pairs: Sequence[EditPair]) -> list[MinedRule]:
    """Habits of shape: the first or last sentence cut, sentences or paragraphs split, lists made prose."""
    counts: dict[str, list[str]] = defaultdict(list)  # key -> an example per time it was seen
    against: Counter[str] = Counter()  # times the author did the opposite, or kept what the habit would cut
    lengths: dict[str, list[float]] = defaultdict(list)
    eligible = 0  # sections long enough to tell an opening or closing line from the rest
    for pair in pairs:
        gen_sentences, edit_sentences = _sentences(pair.generated), _sentences(pair.edited)
        if len(gen_sentences) >= 3 and _kept_any(gen_sentences[1:-1], edit_sentences):
            eligible += 1
            for key, sentence in (("opening", gen_sentences[0]), ("closing", gen_sentences[-1])):
                if not _kept(sentence, edit_sentences):
                    counts[key].append(f'"{_shorten(sentence)}" cut')
        words_before, words_after = _word_count(pair.generated), _word_count(pair.edited)
        similar = words_before and 0.75 <= words_after / words_before <= 1.25
        gen_mean, edit_mean = _mean_words(gen_sentences), _mean_words(edit_sentences)
        if similar and len(edit_sentences) > len(gen_sentences) and edit_mean <= 0.8 * gen_mean:
            counts["sentences"].append(f"sentences of {gen_mean:.0f} words on average made {edit_mean:.0f}")
            lengths["sentences"] += [len(s.split()) for s in edit_sentences]
        elif similar and edit_mean >= 1.25 * gen_mean:
            against["sentences"] += 1
        gen_paragraphs, edit_paragraphs = _paragraphs(pair.generated), _paragraphs(pair.edited)
        gen_per, edit_per = len(gen_sentences) / len(gen_paragraphs), len(edit_sentences) / len(edit_paragraphs)
        if similar and len(edit_paragraphs) > len(gen_paragraphs) and edit_per <= 0.75 * gen_per:
            counts["paragraphs"].append(f"paragraphs of {gen_per:.0f} sentences on average made {edit_per:.0f}")
            lengths["paragraphs"] += [len(_sentences(p)) for p in edit_paragraphs]
        elif similar and len(edit_paragraphs) < len(gen_paragraphs):
            against["paragraphs"] += 1
        gen_list, edit_list = len(_LIST_LINE.findall(pair.generated)), len(_LIST_LINE.findall(pair.edited))
        if gen_list >= 2 and edit_list == 0 and words_after >= 0.5 * words_before:
            counts["lists-to-prose"].append(f"a list of {gen_list} items made prose")
        elif gen_list == 0 and edit_list >= 2:
            counts["prose-to-lists"].append(f"prose made a list of {edit_list} items")
    against["lists-to-prose"] += len(counts["prose-to-lists"])
    against["prose-to-lists"] += len(counts["lists-to-prose"])
    rules = []
    for key, examples in counts.items():
        seen = len(examples)
        if key in ("opening", "closing"):
            # A kept first or last line is no evidence against: the model does not always announce or sum up.
            if seen < MIN_SEEN or seen < EDGE_SHARE * eligible:
                continue
        elif seen < MIN_SEEN or seen < MIN_SHARE * (seen + against[key]):
            continue
        rules.append(MinedRule(key, _shape_text(key, lengths[key]), seen, examples[0]))
    return rules


def _shape_text(key: str, lengths: list[float]) -> str:
    most = sorted(lengths)[int(0.75 * (len(lengths) - 1))] if lengths else 0
    return {
        "opening": "start with the point: no opening line that announces it",
        "closing": "end on the last point: no closing line that sums up",
        "sentences": f"keep sentences short: about {max(3, round(most))} words or fewer",
        "paragraphs": f"keep paragraphs short: about {max(1, round(most))} sentences or fewer",
        "lists-to-prose": "write lists as prose",
        "prose-to-lists": "use a list for a run of items",
    }[key]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _punctuation(token: str) -> bool:
    return not re.search(r"\w", token)


def _trimmed(tokens: list[str]) -> list[str]:
    """The span without the commas and stops at its edges, which go with the words they stood next to."""
    start, end = 0, len(tokens)
    while start < end and _punctuation(tokens[start]):
        start += 1
    while end > start and _punctuation(tokens[end - 1]):
        end -= 1
    return tokens[start:end]


def _count(words: list[str], phrase: list[str]) -> int:
    n = len(phrase)
    return sum(1 for i in range(len(words) - n + 1) if words[i : i + n] == phrase)


def _in_sentence(tokens: list[str], start: int, end: int) -> str:
    """The sentence around tokens[start:end], at most _CONTEXT words either side of them."""
    first = start
    while first > 0 and tokens[first - 1] not in _STOPS and start - first < _CONTEXT * 2:
        first -= 1
    last = end
    while last < len(tokens) and tokens[last] not in _STOPS and last - end < _CONTEXT * 2:
        last += 1
    last += last < len(tokens) and tokens[last] in _STOPS
    head = "… " if first > 0 and tokens[first - 1] not in _STOPS else ""
    tail = " …" if last < len(tokens) and tokens[last - 1] not in _STOPS else ""
    return head + _detokenize(tokens[first:last]) + tail


def _detokenize(tokens: list[str]) -> str:
    while tokens and _punctuation(tokens[0]):  # an example starts at a word
        tokens = tokens[1:]
    text = " ".join(tokens)
    text = re.sub(r" ([,.;:!?)\]])", r"\1", text)
    return text.replace('"', "'")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if re.search(r"\w", s)]


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()] or [text]


def _kept(sentence: str, others: Sequence[str]) -> bool:
    """Whether the author kept this sentence, perhaps reworded, perhaps split in two."""
    words = sentence.lower().split()
    candidates = [*others, *(f"{a} {b}" for a, b in itertools.pairwise(others))]
    return any(difflib.SequenceMatcher(None, words, c.lower().split()).ratio() >= 0.5 for c in candidates)


def _kept_any(sentences: Sequence[str], others: Sequence[str]) -> bool:
    return not sentences or any(_kept(s, others) for s in sentences)


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _mean_words(sentences: Sequence[str]) -> float:
    return sum(len(s.split()) for s in sentences) / max(1, len(sentences))


def _shorten(sentence: str, words: int = 8) -> str:
    parts = sentence.replace('"', "'").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")
