"""The shared-prefix layout (`slots.shares_prefix`): every call of a draft opens with the same message.

A server that reuses the prompt prefix a call shares with one before (llama.cpp's server with one slot) or
caches answered prefixes (OpenAI, billed at a discount) reads a prompt's shared start for free or cheaply. So
every call of a draft, the sort and each section's writing call, opens with one byte-identical system message:
the instructions, the writer's voice samples, the essay and the notes the draft may use, each with one id
(`[f12]`) that means the same in every call. Only the last message differs: which ids to sort, or which ids a
section is written from. Where the notes do not all fit one opening, it holds the first that fit and the rest
travel, in full, with the calls that use them: the sort's, then a section's. The server reads most notes once
and the rest twice, never all of them twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt, Section
from pipeline.core.text import estimate_tokens
from pipeline.messages.instructions import render_message

REQUEST_TOKENS = 400  # the most a call's own request takes beside its notes: its wording, the author's direction
_WINDOW_SHARE = 0.85  # our token estimate is rough: leave the model's window this margin, as the sort's batches do
_NOTE_TOKENS = 12  # what a note carried in a request adds beside its text: its id, its title line, its answer


@dataclass(frozen=True)
class SharedNotes:
    keys: Mapping[str, Fragment]  # "f1" -> fragment: every note of the draft, in the order the calls show them
    ids: Mapping[str, str]  # fragment id -> its key
    first: dict[str, str]  # the message every call of the draft opens with
    sections: int  # how many sections the essay has
    held: int = 0  # the opening holds keys f1 to f{held}; the rest travel with the calls that use them
    spare: int = 0  # tokens a call may spend beside the opening and its request: on the notes it carries, its answer

    def number(self, fragment_id: str) -> int | None:
        """The number of a fragment's key (12 for `f12`), or None when the draft's notes do not hold it."""
        key = self.ids.get(fragment_id)
        return int(key[1:]) if key else None

    def shows(self, fragment: Fragment) -> bool:
        """Whether the draft's notes hold this fragment as it is (the author may have edited it in the plan)."""
        key = self.ids.get(fragment.id)
        return key is not None and _words(self.keys[key].text) == _words(fragment.text)

    def carried(self, fragments: Sequence[Fragment]) -> list[Fragment]:
        """Those of `fragments` the opening does not hold: a call that uses them carries them itself."""
        return [f for f in fragments if (self.number(f.id) or 0) > self.held]

    def fits(self, fragments: Sequence[Fragment], answer: int) -> bool:
        """Whether a call over `fragments` and its `answer` fit the window beside the opening, carrying the
        notes the opening lacks."""
        return sum(note_tokens(f) for f in self.carried(fragments)) + answer <= self.spare


def note_tokens(fragment: Fragment) -> int:
    """What a note costs a call that carries it in its request."""
    return estimate_tokens(fragment.text) + _NOTE_TOKENS


def shared_notes(
    prompt: Prompt,
    fragments: Sequence[Fragment],
    samples: Sequence[str],
    window: int,
    answer: Callable[[int], int],
) -> SharedNotes | None:
    """The shared opening over `fragments` (the draft's notes, as its plan shows them): as many of them, in order,
    as fit `window` with room for a request and the `answer` a call over that many notes takes (the sort's
    answer grows with them, a section's does not). The rest travel with the calls that use them, so no vault
    size makes the draft read every note twice. None when not even the instructions fit."""
    unique = list({f.id: f for f in fragments}.values())
    keys = {f"f{n}": f for n, f in enumerate(unique, start=1)}
    budget = int(window * _WINDOW_SHARE) - REQUEST_TOKENS
    # The writer's own draft is among the notes, marked as theirs: its paragraphs are not shown twice.
    own = " ".join(f"{f.context} {f.text}" for f in unique if f.by_author)
    samples = [s for s in samples if not _holds(own, s)]

    def opening(count: int) -> tuple[int, dict[str, str]]:
        """The opening over the first `count` notes, and the tokens a call has beside it and its request."""
        first = _opening(prompt, dict(list(keys.items())[:count]), samples)
        return budget - estimate_tokens(first["content"]), first

    costs = [note_tokens(f) for f in unique]
    sections = max(1, len(prompt.sections))

    def fits(count: int) -> bool:
        # Room is kept for the notes a section carries: twice its even share of the rest, at most half the window.
        # One note more than fits so takes the room of about one note from the opening, not half of it.
        carrying = min(2 * sum(costs[count:]) // sections, budget // 2)
        return opening(count)[0] >= answer(count) + carrying

    if not fits(0):
        return None
    low, high = 0, len(keys)  # the most notes whose opening fits: the room beside it shrinks as it grows
    if fits(high):  # most drafts: every note fits, and one rendering says so
        low = high
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    spare, first = opening(low)
    return SharedNotes(keys, {f.id: k for k, f in keys.items()}, first, len(prompt.sections), low, spare)


def _opening(prompt: Prompt, keys: Mapping[str, Fragment], samples: Sequence[str]) -> dict[str, str]:
    return render_message(
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


def sort_batches(
    shared: SharedNotes, fragments: Sequence[Fragment], answer: Callable[[int], int]
) -> list[list[Fragment]]:
    """The sort's calls over `fragments` (each in the draft's notes): the opening's notes by id, then as many of
    the rest, in full, as each call has room for beside the opening and the `answer` over its notes."""
    batches: list[list[Fragment]] = []
    current: list[Fragment] = []
    used = 0
    for fragment in sorted(fragments, key=lambda f: shared.number(f.id) or 0):
        cost = note_tokens(fragment) if (shared.number(fragment.id) or 0) > shared.held else 0
        if current and used + cost + answer(len(current) + 1) > shared.spare:
            batches.append(current)
            current, used = [], 0
        current.append(fragment)
        used += cost
    return [*batches, current] if current else batches


def sort_messages(shared: SharedNotes, fragments: Sequence[Fragment]) -> list[dict[str, str]]:
    """The sorting call: the shared message, the notes it lacks, then which notes to sort."""
    numbers = [int(shared.ids[f.id][1:]) for f in fragments]
    carried = _keyed(shared, shared.carried(fragments))
    user = render_message(
        "user", "shared.sort", ids=id_ranges(numbers), has_notes=bool(carried), notes=group_by_note(carried)
    )
    return [shared.first, user]


def _keyed(shared: SharedNotes, fragments: Sequence[Fragment]) -> dict[str, Fragment]:
    """Fragments under their keys, in key order."""
    return {shared.ids[f.id]: f for f in sorted(fragments, key=lambda f: shared.number(f.id) or 0)}


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
    others: Sequence[Mapping[str, object]] = (),
) -> tuple[list[dict[str, str]], dict[str, Fragment]]:
    """A section's writing call, and the keys it may cite: the shared notes it is written from, named by id
    (every one must be in the draft's notes: see `SharedNotes.shows`), carrying in full those the opening lacks;
    `others` says what the other sections' notes tell (`retell.other_sections`)."""
    keys = {shared.ids[f.id]: f for f in fragments}
    carried = _keyed(shared, shared.carried(fragments))
    user = render_message(
        "user",
        "shared.write",
        has_notes=bool(carried),
        notes=group_by_note(carried),
        number=number,  # its questions are in the shared message, under this number
        section_title=section.title,
        ids=", ".join(keys),
        has_others=shared.sections > 1,
        others=[_by_ids(shared, other) for other in others],
        has_covers=bool(others),
        guidance=guidance,
        words=words,
        has_rules=bool(rules),
        rules=list(rules),  # voice.md's: the writer's rules for every section
    )
    return [shared.first, user], keys


def _by_ids(shared: SharedNotes, other: Mapping[str, object]) -> dict[str, object]:
    """Another section's line, naming its notes by their ids where the opening holds them all (every call reads
    them there); else in words, as the other layout does."""
    numbers = sorted(shared.number(i) or 0 for i in other.get("ids", ()))  # type: ignore[union-attr]
    held = bool(numbers) and all(0 < n <= shared.held for n in numbers)
    covers = f"notes {id_ranges(numbers)}" if held else other["covers"]
    return {"number": other["number"], "title": other["title"], "covers": covers}


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


def _holds(text: str, sample: str) -> bool:
    """Whether every line of `sample` is in `text`, spacing apart."""
    lines = [_words(line) for line in sample.splitlines() if line.strip()]
    return bool(lines) and all(line in _words(text) for line in lines)


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
