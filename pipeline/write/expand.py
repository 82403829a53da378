"""Expand: one LLM call per section turns its fragments into prose in the author's voice.

Sections are written concurrently (bounded). A section with no fragments gets a note asking the
author to write it: the model is never asked to invent material.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt, Section
from pipeline.core.errors import ContextTooLong, LLMError
from pipeline.core.text import estimate_tokens, strip_think
from pipeline.messages.instructions import render
from pipeline.messages.shared import SharedNotes, group_by_note, write_messages
from pipeline.models.llm import ChatModel
from pipeline.voice.rules import voice_instructions
from pipeline.write.finish import Finishing, citation_keys, finish_section
from pipeline.write.lengths import most_words, section_words, target_words
from pipeline.write.retell import other_sections

EMPTY_SECTION_NOTE = (
    "> [!todo] no notes matched this section yet.\n> write it yourself, or add notes about it and draft again."
)
# Samples of the author's own writing: a share of the context window, and never more than this.
VOICE_SAMPLE_SHARE = 0.1
VOICE_SAMPLE_MAX_CHARS = 2000
_OPENING_HEADING = re.compile(r"\A\s*(#{1,6}[^\n]*|\*\*[^\n]*\*\*:?)\s*\n")


@dataclass(frozen=True)
class SectionDraft:
    slug: str
    title: str
    text: str
    fragment_ids: tuple[str, ...]
    generated: bool  # False when no fragment matched and the text asks the author to write it
    flags: int = 0  # claims flagged as in none of the section's sources


@dataclass(frozen=True)
class Draft:
    prompt: Prompt
    sections: tuple[SectionDraft, ...]


@dataclass(frozen=True)
class Writing:
    """How sections are written, the same for every section of a run."""

    voice: tuple[str, ...] = ()  # the author's own writing; samples are picked to fit the model's window
    finishing: Finishing = field(default_factory=Finishing)
    concurrency: int = 4
    on_section: Callable[[SectionDraft], None] | None = None
    on_warning: Callable[[str], None] | None = None
    shared: SharedNotes | None = None  # `slots.shares_prefix`: every call opens with the draft's notes


Direction = tuple[str, int | None]  # the author's direction for a section, and its length in words


def expand_sections(
    prompt: Prompt,
    material: Mapping[str, Sequence[Fragment]],
    llm: ChatModel,
    writing: Writing | None = None,
    directions: Mapping[str, Direction] | None = None,
) -> Draft:
    """Each section from its material (section slug -> fragments, in the order the plan gives them)."""
    writing = writing or Writing()
    directions = directions or {}
    words = section_words(prompt, material, {slug: d[1] for slug, d in directions.items()})

    def write(section: Section) -> SectionDraft:
        chosen = list(material.get(section.slug, ()))
        direction = (directions.get(section.slug, ("", None))[0], words.get(section.slug))
        others = other_sections(prompt, section, material)
        result = expand_section(prompt, section, chosen, llm, writing, direction, others)
        if writing.on_section:
            writing.on_section(result)
        return result

    def opens_shared(section: Section) -> bool:
        chosen = material.get(section.slug, ())
        _guidance, words = directions.get(section.slug, ("", None))
        return _opens_shared(writing.shared, chosen, answer_budget(words or target_words(chosen)))

    # A section that sends its own notes goes after those that open with the shared notes: on a server that
    # reuses only the previous call's prefix, one in between would make the next read the opening again.
    first = [s for s in prompt.sections if writing.shared is None or opens_shared(s)]
    later = [s for s in prompt.sections if s not in first]
    with ThreadPoolExecutor(max_workers=max(1, writing.concurrency)) as pool:
        futures = {section.slug: pool.submit(write, section) for section in first}
        if later:
            wait(futures.values())
            futures |= {section.slug: pool.submit(write, section) for section in later}
        wait(futures.values())  # every section asks before one's error stops the draft: deferred calls go together
        sections = tuple(futures[section.slug].result() for section in prompt.sections)
    return Draft(prompt, sections)


def _opens_shared(shared: SharedNotes | None, fragments: Sequence[Fragment], max_tokens: int) -> bool:
    """Whether a section's call opens with the shared notes: they show every fragment as the plan gives it
    (the author may have edited one), and the call has room for those the opening lacks."""
    return shared is not None and all(shared.shows(f) for f in fragments) and shared.fits(fragments, max_tokens)


def expand_section(
    prompt: Prompt,
    section: Section,
    fragments: Sequence[Fragment],
    llm: ChatModel,
    writing: Writing | None = None,
    direction: Direction = ("", None),
    others: Sequence[dict[str, object]] = (),
) -> SectionDraft:
    """One section from its fragments; `others` says what the other sections cover (see `other_sections`)."""
    writing = writing or Writing()
    if not fragments:
        return SectionDraft(section.slug, section.title, EMPTY_SECTION_NOTE, (), generated=False)
    guidance, words = direction
    words = min(words or target_words(fragments), most_words(llm.context_window))
    max_tokens = answer_budget(words)
    # A text the shared notes lack (not one the plan gives back as the sort saw it), or more of the notes the
    # opening lacks than one call holds beside it: the section sends its own.
    shared = writing.shared
    if shared is not None and _opens_shared(shared, fragments, max_tokens):
        try:
            number = prompt.sections.index(section) + 1
            asked = (guidance, words, others)
            return _from_shared(writing.shared, (number, section), fragments, llm, writing.finishing, asked)
        except ContextTooLong:  # the notes fit by our estimate, not by this model's count: send its own
            writing = replace(writing, shared=None)
    samples = pick_voice_samples(writing.voice, voice_budget(llm.context_window))
    fitted = _fit_fragments(prompt, section, fragments, samples, llm.context_window - max_tokens)
    while True:
        try:
            rules = voice_instructions(writing.finishing.voice)
            messages = section_messages(prompt, section, fitted, samples, words, guidance, rules, others)
            text = _ask_for_prose(llm, messages, max_tokens)
            break
        except ContextTooLong:
            if len(fitted) == 1:
                raise
            fitted = fitted[: len(fitted) // 2]  # our estimate was off for this model: send half, then less
    if len(fitted) < len(fragments) and writing.on_warning:
        writing.on_warning(
            f"section '{section.title}': {len(fragments)} fragments do not fit {llm.model}'s context, "
            f"used the first {len(fitted)}"
        )
    if not text:
        raise LLMError(
            f"{llm.model} gave an empty answer for section '{section.title}' twice: try again, or another model"
        )
    done = finish_section(section.slug, text, fitted, writing.finishing)
    ids = tuple(f.id for f in fitted)
    return SectionDraft(section.slug, section.title, done.text, ids, generated=True, flags=done.flags)


def _from_shared(
    shared: SharedNotes,
    numbered: tuple[int, Section],
    fragments: Sequence[Fragment],
    llm: ChatModel,
    finishing: Finishing,
    asked: tuple[str, int, Sequence[dict[str, object]]],
) -> SectionDraft:
    """The section written after the shared message; it may cite only its own notes' ids, so a citation of
    another section's note is dropped as invented."""
    guidance, words, others = asked
    number, section = numbered
    rules = voice_instructions(finishing.voice)
    messages, keys = write_messages(shared, number, section, fragments, words, guidance, rules, others)
    text = _ask_for_prose(llm, messages, answer_budget(words))
    if not text:
        raise LLMError(
            f"{llm.model} gave an empty answer for section '{section.title}' twice: try again, or another model"
        )
    done = finish_section(section.slug, text, fragments, finishing, keys)
    ids = tuple(f.id for f in fragments)
    return SectionDraft(section.slug, section.title, done.text, ids, generated=True, flags=done.flags)


def _ask_for_prose(llm: ChatModel, messages: list[dict[str, str]], max_tokens: int) -> str:
    """The section's prose; an empty answer is asked once more, one cut off at max_tokens ends at its
    last whole sentence."""
    for _attempt in range(2):
        reply = llm.complete(messages, max_tokens=max_tokens, temperature=0.7)
        text = clean_section_text(reply.text)
        if text and reply.finish_reason == "length":
            text = _without_unfinished_sentence(text)
        if text:
            return text
    return ""


_SENTENCE_END = re.compile(r"[.!?…][)\]\"'”’*_]*(?=\s|$)")
_CITED = re.compile(r"(?:[ \t]*\[f?\d+(?:[,;][ \t]*f?\d+)*\])+")  # the paragraph's `[f1]` after its last stop
# A stop that ends no sentence: "e.g.", "Dr." before a name, a numbered list's "2.".
_NOT_AN_END = re.compile(
    r"(?:(?:^|[\s(“\"'])(?:e\.g|i\.e|cf|vs|dr|mr|mrs|ms|prof|st|jr|sr|approx)\."
    r"|^[ \t]*(?:[-*+][ \t]+)?\d+[.)])$",
    re.I,
)


def _without_unfinished_sentence(text: str) -> str:
    """The text without what the cut left unfinished: the last line only (every line before it ended), up to its
    last whole sentence and the citation after it; a last line with no whole sentence goes entirely. A single line
    with no sentence end at all is kept as it is, the author's to finish."""
    head, newline, last = text.rpartition("\n")
    ends = [m.end() for m in _SENTENCE_END.finditer(last) if not _NOT_AN_END.search(last[: m.end()])]
    if ends:
        cited = _CITED.match(last, ends[-1])
        return (head + newline + last[: cited.end() if cited else ends[-1]]).rstrip()
    return head.rstrip() if head.strip() else text


def clean_section_text(text: str) -> str:
    """The model's prose, made ready to finish: no thinking, no echoed heading (still in its own case)."""
    body = strip_think(text)
    return _OPENING_HEADING.sub("", body, count=1).strip()


def voice_budget(context_window: int) -> int:
    """Characters of the author's own writing to show the model."""
    return min(VOICE_SAMPLE_MAX_CHARS, int(context_window * VOICE_SAMPLE_SHARE * 4))


def pick_voice_samples(texts: Sequence[str], budget_chars: int) -> list[str]:
    """Whole paragraphs of the author's writing, up to the budget, a few from each source."""
    picked: list[str] = []
    used = 0
    paragraphs = [[p.strip() for p in t.split("\n\n") if len(p.strip()) > 80] for t in texts]
    for round_index in range(max((len(p) for p in paragraphs), default=0)):
        for source in paragraphs:
            if round_index < len(source) and used + len(source[round_index]) <= budget_chars:
                picked.append(source[round_index])
                used += len(source[round_index])
    return picked


def answer_budget(words: int) -> int:
    """Output tokens a section of this many words may take: lowercase prose runs ~1.3 tokens a word."""
    return words * 2 + 64


def section_budget(
    prompt: Prompt,
    section: Section,
    fragments: Sequence[Fragment],
    voice_samples: Sequence[str],
    window: int,
    words: int | None = None,
) -> tuple[int, int]:
    """Prompt and output tokens writing this section takes: what a dry run reports and a real run spends."""
    samples = pick_voice_samples(voice_samples, voice_budget(window))
    words = min(words or target_words(fragments), most_words(window))
    out = answer_budget(words)
    fitted = _fit_fragments(prompt, section, fragments, samples, window - out)
    messages = section_messages(prompt, section, fitted, samples, words, "")
    return estimate_tokens("".join(m["content"] for m in messages)), out


def _fit_fragments(
    prompt: Prompt, section: Section, fragments: Sequence[Fragment], samples: Sequence[str], budget: int
) -> list[Fragment]:
    base = estimate_tokens("".join(m["content"] for m in section_messages(prompt, section, [], samples, 0, "")))
    fitted: list[Fragment] = []
    used = base
    for fragment in fragments:
        cost = estimate_tokens(fragment.text) + 16
        if fitted and used + cost > budget:
            break
        fitted.append(fragment)
        used += cost
    return fitted


def section_messages(
    prompt: Prompt,
    section: Section,
    fragments: Sequence[Fragment],
    samples: Sequence[str],
    words: int,
    guidance: str,
    rules: Sequence[str] = (),
    others: Sequence[dict[str, object]] = (),
) -> list[dict[str, str]]:
    """The writing call. What every section shares comes first (instructions, the writer's samples, the
    essay and all its sections), so a server's prompt cache serves it again for each section."""
    return render(
        "expand",
        title=prompt.title,
        instruction=prompt.instruction,
        all_sections="; ".join(s.title for s in prompt.sections),
        section_title=section.title,
        questions=re.sub(r"\s+", " ", section.questions),
        has_others=len(prompt.sections) > 1,
        others=list(others),
        has_covers=bool(others),
        notes=group_by_note(citation_keys(fragments)),
        has_samples=bool(samples),
        samples=list(samples),
        guidance=guidance,
        words=words,
        has_rules=bool(rules),
        rules=list(rules),
    )
