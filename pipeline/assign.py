"""Assign: the LLM puts every note fragment in exactly one section of the prompt, or in none.

The answer's shape makes a wrong answer hard to express: one required key per fragment (short
keys f1..fN, mapped back to stable ids), each an integer enum of section numbers, 0 = unused.
We validate anyway: unknown keys are dropped, missing ones re-asked once, then marked unused.
Fragments that do not fit the model's context in one call are assigned in batches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ContextTooLong, Deferred
from pipeline.instructions import render
from pipeline.llm import ChatModel
from pipeline.notes import Fragment
from pipeline.prompt import Prompt
from pipeline.text import estimate_tokens, strip_think

_TOKENS_PER_ANSWER_KEY = 10  # `"f12": 3, ` is 7 to 8 tokens, and some slack
_PAIR = re.compile(r'"?\[?(f\d+)\]?"?\s*:\s*"?(\d+)"?')


@dataclass(frozen=True)
class Plan:
    """Which fragments each section draws on (by slug, in note order), and those no section uses."""

    sections: dict[str, tuple[str, ...]]
    unused: tuple[str, ...]


def assign_fragments(
    prompt: Prompt,
    fragments: Sequence[Fragment],
    llm: ChatModel,
    *,
    on_batch: Callable[[int, int], None] | None = None,
    choices: Mapping[str, Sequence[int]] | None = None,
    concurrency: int = 1,
) -> Plan:
    """`choices` narrows each fragment's answer to its shortlisted sections (and 0): the answer stays
    small and a section the embeddings ruled out cannot be chosen by mistake. Up to `concurrency`
    batches are asked at once: they are independent, and a hosted endpoint serves them side by side."""
    chosen: dict[str, int] = {}
    batches = plan_batches(prompt, fragments, llm.context_window)

    def ask(numbered: tuple[int, list[Fragment]]) -> dict[str, int]:
        if on_batch:
            on_batch(numbered[0], len(batches))
        try:
            return _assign_batch(prompt, numbered[1], llm, choices or {})
        except Deferred as exc:  # for the Batch API: every batch's call goes in the same round
            deferred.append(exc)
            return {}

    deferred: list[Deferred] = []
    numbered = list(enumerate(batches, start=1))
    if concurrency <= 1 or len(batches) <= 1:  # in the caller's thread: an interrupt stops it at once
        for item in numbered:
            chosen.update(ask(item))
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(batches))) as pool:
            for answer in pool.map(ask, numbered):
                chosen.update(answer)
    if deferred:
        raise deferred[0]
    sections = {
        section.slug: tuple(f.id for f in fragments if chosen.get(f.id) == number)
        for number, section in enumerate(prompt.sections, start=1)
    }
    unused = tuple(f.id for f in fragments if chosen.get(f.id, 0) == 0)
    return Plan(sections, unused)


def plan_batches(prompt: Prompt, fragments: Sequence[Fragment], context_window: int) -> list[list[Fragment]]:
    """Greedy batches whose instructions, fragments and answer all fit in the context window."""
    budget = int(context_window * 0.85) - _fixed_tokens(prompt)
    limit = preview_chars(context_window)
    batches: list[list[Fragment]] = []
    current: list[Fragment] = []
    used = 0
    for fragment in fragments:
        cost = _fragment_tokens(fragment, limit) + _TOKENS_PER_ANSWER_KEY
        if current and used + cost > budget:
            batches.append(current)
            current, used = [], 0
        current.append(fragment)
        used += cost
    if current:
        batches.append(current)
    return batches


def _fixed_tokens(prompt: Prompt) -> int:
    return estimate_tokens("".join(m["content"] for m in _messages(prompt, [], 0)))


def _fragment_tokens(fragment: Fragment, limit: int) -> int:
    """What one fragment's line costs in the sorting prompt (its text and its key)."""
    return estimate_tokens(_line_text(fragment, limit)) + 4


def answer_tokens(fragment_count: int) -> int:
    """The most tokens an answer for this many fragments takes."""
    return fragment_count * _TOKENS_PER_ANSWER_KEY + 32


def sorting_cost(prompt: Prompt, fragments: Sequence[Fragment], context_window: int) -> tuple[int, int, int]:
    """Calls, prompt tokens and answer tokens that sorting these fragments takes: the same batches a run makes."""
    batches = plan_batches(prompt, fragments, context_window) if fragments else []
    limit = preview_chars(context_window)
    lines = sum(_fragment_tokens(f, limit) for f in fragments)
    return len(batches), _fixed_tokens(prompt) * len(batches) + lines, sum(answer_tokens(len(b)) for b in batches)


def answer_schema(
    keys: Sequence[str], section_count: int, allowed: Sequence[Sequence[int]] | None = None
) -> dict[str, Any]:
    every = list(range(section_count + 1))
    options = allowed or [every] * len(keys)
    return {
        "type": "object",
        "properties": {
            key: {"type": "integer", "enum": sorted({0, *choice})} for key, choice in zip(keys, options, strict=True)
        },
        "required": list(keys),
        "additionalProperties": False,
    }


def _assign_batch(
    prompt: Prompt, batch: list[Fragment], llm: ChatModel, choices: Mapping[str, Sequence[int]]
) -> dict[str, int]:
    try:
        return _ask_for_sections(prompt, batch, llm, choices)
    except ContextTooLong:
        if len(batch) == 1:
            raise
        half = len(batch) // 2  # our estimate was off for this model: split the batch and try again
        return _assign_batch(prompt, batch[:half], llm, choices) | _assign_batch(prompt, batch[half:], llm, choices)


def _ask_for_sections(
    prompt: Prompt, batch: list[Fragment], llm: ChatModel, choices: Mapping[str, Sequence[int]]
) -> dict[str, int]:
    chosen: dict[str, int] = {}
    pending = list(batch)
    for _attempt in range(2):  # the first ask, then one re-ask of whatever is missing
        keys = [f"f{i}" for i in range(1, len(pending) + 1)]
        every = range(1, len(prompt.sections) + 1)
        allowed = [choices.get(f.id) or every for f in pending]
        reply = llm.complete(
            _messages(prompt, list(zip(keys, pending, strict=True)), preview_chars(llm.context_window)),
            schema=answer_schema(keys, len(prompt.sections), allowed),
            max_tokens=answer_tokens(len(keys)),
            temperature=0.0,
        )
        answer = parse_answer(reply.text, keys, len(prompt.sections))
        for key, fragment, options in zip(keys, pending, allowed, strict=True):
            if key in answer and (answer[key] == 0 or answer[key] in options):
                chosen[fragment.id] = answer[key]
        pending = [f for f in pending if f.id not in chosen]
        if not pending:
            break
    return chosen  # what is still missing counts as unused


def parse_answer(text: str, keys: Sequence[str], section_count: int) -> dict[str, int]:
    """The valid part of a model's answer: known keys with a section number in range."""
    body = strip_think(text)
    start, end = body.find("{"), body.rfind("}")
    try:
        data = json.loads(body[start : end + 1]) if -1 < start < end else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        # Truncated or malformed JSON: keep every complete "fN": number pair that is there.
        data = {key: int(value) for key, value in _PAIR.findall(body)}
    valid: dict[str, int] = {}
    known = set(keys)
    for key, value in data.items():
        key = str(key).strip("[] ")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if key in known and isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= section_count:
            valid[key] = value
    return valid


def preview_chars(context_window: int) -> int:
    """To sort a fragment the model needs its gist, not all of it; a smaller window gets a terser gist."""
    return max(60, min(80, context_window // 100))


def _by_note(keyed: list[tuple[str, Fragment]], limit: int) -> list[dict[str, object]]:
    """Fragments grouped under their note's title (in order), so each title is sent once."""
    groups: list[dict[str, object]] = []
    for key, fragment in keyed:
        if not groups or groups[-1]["path"] != fragment.note_path:
            groups.append({"path": fragment.note_path, "source": fragment.title, "fragments": []})
        groups[-1]["fragments"].append({"key": key, "text": _line_text(fragment, limit)})  # type: ignore[union-attr]
    return groups


def _line_text(fragment: Fragment, limit: int) -> str:
    text = re.sub(r"\s+", " ", fragment.text).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _messages(prompt: Prompt, keyed: list[tuple[str, Fragment]], limit: int) -> list[dict[str, str]]:
    return render(
        "assign",
        title=prompt.title,
        instruction=prompt.instruction,
        sections=[
            {"number": n, "title": s.title, "questions": re.sub(r"\s+", " ", s.questions)}
            for n, s in enumerate(prompt.sections, start=1)
        ],
        notes=_by_note(keyed, limit),
        count=len(keyed),
    )
