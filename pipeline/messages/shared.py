"""The shared-prefix layout (`slots.shares_prefix`): every call of a draft opens with the same message.

A server that answers one call at a time and reuses the prompt prefix it shares with the previous call
(llama.cpp's server) reads a prompt's shared start for free. So every call of a draft, the sort and each
section's writing call, opens with one byte-identical system message: the instructions, the writer's voice
samples, the essay and every note the draft may use, each with one id (`[f12]`) that means the same in every
call. Only the last message differs: which ids to sort, or which ids a section is written from. The server
reads the notes once; each later call costs it only its short request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt, Section
from pipeline.core.text import estimate_tokens
from pipeline.messages.instructions import render_message

REQUEST_TOKENS = 400  # the most a call's own request takes beside its notes' ids: its wording, the author's direction
_WINDOW_SHARE = 0.85  # our token estimate is rough: leave the model's window this margin, as the sort's batches do


@dataclass(frozen=True)
class SharedNotes:
    keys: Mapping[str, Fragment]  # "f1" -> fragment, in the order the shared message shows them
    ids: Mapping[str, str]  # fragment id -> its key
    first: dict[str, str]  # the message every call of the draft opens with
    sections: int  # how many sections the essay has

    def number(self, fragment_id: str) -> int | None:
        """The number of a fragment's key (12 for `f12`), or None when the shared message does not hold it."""
        key = self.ids.get(fragment_id)
        return int(key[1:]) if key else None

    def shows(self, fragment: Fragment) -> bool:
        """Whether the shared message holds this fragment as it is (the author may have edited it in the plan)."""
        key = self.ids.get(fragment.id)
        return key is not None and _words(self.keys[key].text) == _words(fragment.text)


def shared_notes(
    prompt: Prompt, fragments: Sequence[Fragment], samples: Sequence[str], window: int, answer: int
) -> SharedNotes | None:
    """The shared message over `fragments` (the draft's notes, as its plan shows them), or None when it does not
    fit `window` with room for a request and an `answer` of that many tokens: then each call carries its own."""
    unique = list({f.id: f for f in fragments}.values())
    if sum(len(f.text) for f in unique) // 4 > window:  # a large vault: no need to render it to know
        return None
    keys = {f"f{n}": f for n, f in enumerate(unique, start=1)}
    first = render_message(
        "system",
        "shared.system",
        has_samples=bool(samples),
        samples=list(samples),
        title=prompt.title,
        instruction=prompt.instruction,
        sections=[
            {"number": n, "title": s.title, "questions": re.sub(r"\s+", " ", s.questions)}
            for n, s in enumerate(prompt.sections, start=1)
        ],
        notes=group_by_note(keys),
    )
    request = REQUEST_TOKENS + 3 * len(keys)  # at most every id once, in the sort's request
    if estimate_tokens(first["content"]) + request + answer > window * _WINDOW_SHARE:
        return None
    return SharedNotes(keys, {f.id: k for k, f in keys.items()}, first, len(prompt.sections))


def sort_messages(shared: SharedNotes, fragments: Sequence[Fragment]) -> list[dict[str, str]]:
    """The sorting call: the shared message, then which of its notes to sort (each must be in it)."""
    numbers = [int(shared.ids[f.id][1:]) for f in fragments]
    return [shared.first, render_message("user", "shared.sort", ids=id_ranges(numbers))]


def id_ranges(numbers: Sequence[int]) -> str:
    """Ids as runs: `f1 to f40, f42 to f251`. A small vault's sort asks for every note of the shared message,
    and naming each id once more cost a one-slot server as many tokens again to read."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"f{r[0]}" if len(r) == 1 else f"f{r[0]} to f{r[-1]}" for r in runs)


def write_messages(
    shared: SharedNotes,
    number: int,
    section: Section,
    fragments: Sequence[Fragment],
    words: int,
    guidance: str,
    rules: Sequence[str] = (),
) -> tuple[list[dict[str, str]], dict[str, Fragment]]:
    """A section's writing call, and the keys it may cite: the shared notes it is written from, named by id
    (every one must be in the shared message: see `SharedNotes.shows`)."""
    keys = {shared.ids[f.id]: f for f in fragments}
    user = render_message(
        "user",
        "shared.write",
        number=number,  # its questions are in the shared message, under this number
        section_title=section.title,
        ids=", ".join(keys),
        has_others=shared.sections > 1,
        guidance=guidance,
        words=words,
        has_rules=bool(rules),
        rules=list(rules),  # voice.md's: the writer's rules for every section
    )
    return [shared.first, user], keys


def group_by_note(keys: Mapping[str, Fragment]) -> list[dict[str, object]]:
    """Fragments under their keys, grouped under their note's title, sent once; the date only where the title
    lacks it, and a fragment's heading or label only where it changes from the fragment before."""
    groups: list[dict[str, object]] = []
    context = ""
    for key, fragment in keys.items():
        if not groups or groups[-1]["path"] != fragment.note_path:
            date = fragment.date if fragment.date and fragment.date not in fragment.title else ""
            groups.append({"path": fragment.note_path, "source": _source(fragment), "date": date, "fragments": []})
            context = ""
        label = fragment.context.strip("#*: ")
        entry = {"key": key, "text": fragment.text, "context": label if label != context else ""}
        context = label
        groups[-1]["fragments"].append(entry)  # type: ignore[union-attr]
    return groups


def _words(text: str) -> str:
    """Text as plan.md gives it back: the same words, its spacing perhaps not."""
    return " ".join(text.split())


def _source(fragment: Fragment) -> str:
    """How a call names where material comes from; the author's own words are marked."""
    if fragment.by_author and not fragment.note_path:
        return "the writer's own point: the section must make it"
    if fragment.by_author:
        return "the writer's own draft: keep these sentences close to how they are written"
    return fragment.title
