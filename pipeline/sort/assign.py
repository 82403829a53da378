"""Assign: the LLM puts every note fragment in exactly one section of the prompt, or in none.

The fragments are numbered 1..N in the call (mapped back to stable ids), each with its whole text (up to a
generous cap; the author's own paragraphs in full), its heading or label and its note's title: cut to a
preview, a thought lost its second half and a model sorted on its first line. The answer lists them by
section: {"1": [3, 7], "2": [1], ..., "0": [2]}, 0 = fits no section. It costs about two tokens a fragment
(a number and a comma), where one key a fragment cost five. Every fragment may go to every section: the
schema lists each id under every section and "0", and nothing else. We validate anyway: unknown numbers are
dropped, a fragment listed twice goes to the first section it is listed under (a place in the essay over none),
missing ones are re-asked once, then marked unused and `unanswered` (the caller may fall back on the
embeddings). Fragments that do not fit the model's context in one call are assigned in batches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt
from pipeline.core.errors import ContextTooLong, Deferred
from pipeline.core.text import estimate_tokens, strip_think
from pipeline.messages.shared import SharedNotes, sort_batches, sort_messages
from pipeline.models.llm import ChatModel
from pipeline.sort.request import Example, fragment_tokens, sort_request

_TOKENS_PER_ANSWER_ID = 4  # ` 12,` is two tokens; one a line, indented, up to four
_TOKENS_PER_ANSWER_LIST = 8  # `"3": [` ... `],`
_LIST = re.compile(r'"?([^"{},:\[\]]+)"?\s*:\s*\[([^\]]*)(\]?)')  # a section's list, closed or cut off
_ID = re.compile(r"\A\[?f?(\d+)\]?\Z")  # 12, "12", "f12" or "[12]"
_SECTION = re.compile(r"\A\D*?(\d+)\Z")  # "2", "section 2"
_NONE = ("none", "unused")  # what a model may call "0"


@dataclass(frozen=True)
class Plan:
    """Which fragments each section draws on (by slug, in note order), and those no section uses."""

    sections: dict[str, tuple[str, ...]]
    unused: tuple[str, ...]
    unanswered: tuple[str, ...] = ()  # in `unused` because the model never placed them, even asked again


def assign_fragments(
    prompt: Prompt,
    fragments: Sequence[Fragment],
    llm: ChatModel,
    *,
    on_batch: Callable[[int, int], None] | None = None,
    concurrency: int = 1,
    shared: SharedNotes | None = None,
    examples: Sequence[Example] = (),
) -> Plan:
    """Up to `concurrency` batches are asked at once: they are independent, and a hosted endpoint serves them
    side by side. `examples` (the author's own placements) go in every call, as what the author decided.
    With `shared` (see `slots.shares_prefix`), the fragments are asked by their ids in its opening, and those it
    lacks in full, in as few calls as the window holds."""
    chosen: dict[str, int] = {}
    if shared is not None and all(shared.number(f.id) for f in fragments):
        batches = sort_batches(shared, fragments, lambda count: answer_tokens(count, len(prompt.sections)))
    else:
        shared = None
        batches = plan_batches(prompt, fragments, llm.context_window, examples)

    def ask(numbered: tuple[int, list[Fragment]]) -> dict[str, int]:
        if on_batch:
            on_batch(numbered[0], len(batches))
        try:
            return _assign_batch(prompt, numbered[1], llm, examples, shared)
        except Deferred as exc:  # for the Batch API: every batch's call goes in the same round
            deferred.append(exc)
            return {}

    deferred: list[Deferred] = []
    numbered = list(enumerate(batches, start=1))
    # The shared opening's first call goes alone: a server that caches answered prefixes serves it to the rest.
    first = len(numbered) if concurrency <= 1 or len(batches) <= 1 else int(shared is not None)
    for item in numbered[:first]:  # in the caller's thread: an interrupt stops it at once
        chosen.update(ask(item))
    if numbered[first:]:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(batches) - first)) as pool:
            for answer in pool.map(ask, numbered[first:]):
                chosen.update(answer)
    if deferred:
        raise deferred[0]
    sections = {
        section.slug: tuple(f.id for f in fragments if chosen.get(f.id) == number)
        for number, section in enumerate(prompt.sections, start=1)
    }
    unused = tuple(f.id for f in fragments if chosen.get(f.id, 0) == 0)
    return Plan(sections, unused, tuple(f.id for f in fragments if f.id not in chosen))


def plan_batches(
    prompt: Prompt, fragments: Sequence[Fragment], context_window: int, examples: Sequence[Example] = ()
) -> list[list[Fragment]]:
    """Greedy batches whose instructions, examples, fragments and answer all fit in the context window."""
    budget = int(context_window * 0.85) - _fixed_tokens(prompt, context_window, examples)
    batches: list[list[Fragment]] = []
    current: list[Fragment] = []
    used = 0
    for fragment in fragments:
        cost = fragment_tokens(fragment, context_window) + _TOKENS_PER_ANSWER_ID
        if current and used + cost > budget:
            batches.append(current)
            current, used = [], 0
        current.append(fragment)
        used += cost
    if current:
        batches.append(current)
    return batches


def _fixed_tokens(prompt: Prompt, context_window: int, examples: Sequence[Example] = ()) -> int:
    return estimate_tokens("".join(m["content"] for m in sort_request(prompt, [], context_window, examples)))


def answer_tokens(fragment_count: int, section_count: int) -> int:
    """The most tokens an answer for this many fragments takes."""
    return fragment_count * _TOKENS_PER_ANSWER_ID + (section_count + 1) * _TOKENS_PER_ANSWER_LIST + 32


def sorting_cost(prompt: Prompt, fragments: Sequence[Fragment], context_window: int) -> tuple[int, int, int]:
    """Calls, prompt tokens and answer tokens that sorting these fragments takes: the same batches a run makes."""
    batches = plan_batches(prompt, fragments, context_window) if fragments else []
    lines = sum(fragment_tokens(f, context_window) for f in fragments)
    sections = len(prompt.sections)
    answers = sum(answer_tokens(len(b), sections) for b in batches)
    return len(batches), _fixed_tokens(prompt, context_window) * len(batches) + lines, answers


def answer_schema(count: int, section_count: int, numbers: Sequence[int] | None = None) -> dict[str, Any]:
    """Every section's list, and "0", may hold any of the fragments (numbered 1..count, or by `numbers`), and
    nothing else: an unknown id or section cannot be written."""
    ids = list(numbers or range(1, count + 1))
    keys = [*(str(n) for n in range(1, section_count + 1)), "0"]
    properties = {key: {"type": "array", "items": {"type": "integer", "enum": ids}} for key in keys}
    return {"type": "object", "properties": properties, "required": keys, "additionalProperties": False}


def _assign_batch(
    prompt: Prompt,
    batch: list[Fragment],
    llm: ChatModel,
    examples: Sequence[Example],
    shared: SharedNotes | None = None,
) -> dict[str, int]:
    try:
        return _ask_for_sections(prompt, batch, llm, examples, shared)
    except ContextTooLong:
        if shared is not None:  # the shared message fit by our estimate, not by this model's count
            return _assign_batch(prompt, batch, llm, examples)
        if len(batch) == 1:
            raise
        half = len(batch) // 2  # our estimate was off for this model: split the batch and try again
        return _assign_batch(prompt, batch[:half], llm, examples) | _assign_batch(prompt, batch[half:], llm, examples)


def _ask_for_sections(
    prompt: Prompt,
    batch: list[Fragment],
    llm: ChatModel,
    examples: Sequence[Example],
    shared: SharedNotes | None,
) -> dict[str, int]:
    chosen: dict[str, int] = {}
    pending = list(batch)
    sections = len(prompt.sections)
    for _attempt in range(2):  # the first ask, then one re-ask of whatever is missing
        # Numbered 1..N in this call's own list, or by their ids in the shared message.
        numbers = [shared.number(f.id) or 0 for f in pending] if shared else list(range(1, len(pending) + 1))
        messages = (
            sort_messages(shared, pending) if shared else sort_request(prompt, pending, llm.context_window, examples)
        )
        reply = llm.complete(
            messages,
            schema=answer_schema(len(pending), sections, numbers),
            max_tokens=answer_tokens(len(pending), sections),
            temperature=0.0,
        )
        listed = parse_answer(reply.text, max(numbers), sections)
        for number, fragment in zip(numbers, pending, strict=True):
            section = _first_placed(listed.get(number, ()))
            if section is not None:
                chosen[fragment.id] = section
        pending = [f for f in pending if f.id not in chosen]
        if not pending:
            break
    return chosen  # what is still missing counts as unused


def parse_answer(text: str, count: int, section_count: int) -> dict[int, tuple[int, ...]]:
    """The valid part of a model's answer: for each fragment number (1..count) it lists, the sections
    (0..section_count) whose lists hold it, in the answer's order."""
    body = strip_think(text)
    start, end = body.find("{"), body.rfind("}")
    try:
        data = json.loads(body[start : end + 1]) if -1 < start < end else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        data = _complete_lists(body)
    listed: dict[int, list[int]] = {}
    for key, items in data.items():
        section = _section_number(key, section_count)
        for item in items if isinstance(items, list) else [items]:
            number = _fragment_number(item, count)
            if section is not None and number is not None and section not in listed.setdefault(number, []):
                listed[number].append(section)
    return {number: tuple(sections) for number, sections in listed.items() if sections}


def _complete_lists(body: str) -> dict[str, list[str]]:
    """Truncated or malformed JSON: every list that is there, a cut-off one without its last, maybe partial, id."""
    lists: dict[str, list[str]] = {}
    for key, inner, closed in _LIST.findall(body):
        items = [i.strip() for i in inner.split(",")]
        lists[key] = [i for i in (items if closed else items[:-1]) if i]
    return lists


def _section_number(key: object, section_count: int) -> int | None:
    name = str(key).strip().lower()
    if name in _NONE:
        return 0
    found = _SECTION.match(name)
    return int(found[1]) if found and int(found[1]) <= section_count else None


def _fragment_number(item: object, count: int) -> int | None:
    if isinstance(item, bool):
        return None
    found = _ID.match(str(item).strip().strip('"'))
    return int(found[1]) if found and 1 <= int(found[1]) <= count else None


def _first_placed(listed: Sequence[int]) -> int | None:
    """A fragment listed twice goes to the first section it is listed under (a place in the essay over none);
    listed only under 0, to none."""
    for section in listed:
        if section:
            return section
    return 0 if 0 in listed else None
