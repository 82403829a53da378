"""Issue 27: the notes are read once, on every server that reuses prompt prefixes, and no vault size makes a
draft read them all twice."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import parse_prompt
from pipeline.core.config import Settings
from pipeline.core.text import estimate_tokens
from pipeline.messages.shared import shared_notes, sort_batches, sort_messages, write_messages
from pipeline.models import prices
from pipeline.models.cache import Store
from pipeline.models.providers.openai_chat import OpenAIChat
from pipeline.models.providers.slots import shares_prefix
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer

WINDOW = 4096
WORDS = [
    "the",
    "deploy",
    "queue",
    "was",
    "slow",
    "so",
    "i",
    "wrote",
    "a",
    "runbook",
    "and",
    "asked",
    "the",
    "team",
    "about",
    "it",
    "before",
    "lunch",
]


def _answer(count: int) -> int:
    return max(4 * count + 72, 764)  # as the runner budgets: the sort's answer grows with its notes, a section's not


def _fragments(count: int) -> list[Fragment]:
    """`count` notes of about 60 tokens each, every one with a text of its own."""
    made = []
    for n in range(count):
        text = f"note {n}: " + " ".join(WORDS[(n + i) % len(WORDS)] for i in range(45))
        made.append(Fragment(f"id{n}", f"daily/2025-01-{n % 28 + 1:02d}.md", f"day {n}", None, (), text))
    return made


@pytest.fixture
def prompt(workspace: Path):  # type: ignore[no-untyped-def]
    return parse_prompt(workspace / "prompts" / "garden.md")


def test_notes_that_do_not_all_fit_one_opening_fill_it_and_the_rest_travel_with_the_calls(prompt: Any) -> None:
    fragments = _fragments(120)  # about 7,000 tokens of notes: about half fit a 4k window's opening
    shared = shared_notes(prompt, fragments, [], WINDOW, _answer)
    assert shared is not None and 0 < shared.held < len(fragments)
    opening = shared.first["content"]
    held, rest = fragments[: shared.held], fragments[shared.held :]
    assert all(f.text in opening for f in held) and not any(f.text in opening for f in rest)
    # The sort asks about every note once: the opening's by id, the rest in full, each in one call that fits.
    batches = sort_batches(shared, fragments, _answer)
    assert sorted(f.id for b in batches for f in b) == sorted(f.id for f in fragments)
    calls = [sort_messages(shared, batch) for batch in batches]
    assert all(c[0] == shared.first for c in calls)
    for fragment in rest:
        assert sum(c[1]["content"].count(fragment.text) for c in calls) == 1
    for batch, call in zip(batches, calls, strict=True):
        size = estimate_tokens(call[0]["content"]) + estimate_tokens(call[1]["content"]) + _answer(len(batch))
        assert size <= WINDOW
    # A section opens alike and carries in full only those of its notes the opening lacks.
    mine = [held[3], rest[2], rest[7]]
    messages, keys = write_messages(shared, 2, prompt.sections[1], mine, 200, "")
    assert messages[0] == shared.first and len(keys) == 3
    assert rest[2].text in messages[1]["content"] and rest[7].text in messages[1]["content"]
    assert held[3].text not in messages[1]["content"]
    assert shared.fits(mine, 764) and not shared.fits(rest, 764)


def test_no_cliff_one_note_more_than_fits_takes_about_one_note_out_of_the_opening(prompt: Any) -> None:
    fragments = _fragments(200)
    window = 8192

    def held(count: int) -> int:
        shared = shared_notes(prompt, fragments[:count], [], window, _answer)
        assert shared is not None
        return shared.held

    low, high = 1, len(fragments)  # the most notes that all fit the opening
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if held(middle) == middle else (low, middle - 1)
    assert 0 < low < len(fragments)
    assert held(low + 1) >= low - 2  # the note more travels with its calls; the rest stay in the opening
    assert held(len(fragments)) >= low // 3  # far past the window, the opening keeps about half of it


def test_not_even_the_instructions_fit_means_each_call_its_own(prompt: Any) -> None:
    assert shared_notes(prompt, _fragments(5), [], 600, _answer) is None


class CachingServer(FakeOpenAIServer):
    """Reports as `cached_tokens`, as OpenAI does, the longest prefix of an answered call's prompt (here counted
    in characters over 4, from 64 tokens) that this prompt begins with."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.answered: set[str] = set()
        self.usages: list[dict[str, int]] = []

    def answer(self, body: dict[str, Any], fault: str | None = None, key: str = "") -> tuple[int, dict[str, Any]]:
        status, payload = super().answer(body, fault, key)
        prompt = "".join(f"{m['role']}\n{m['content']}\n" for m in body["messages"])
        steps = [prompt[: n * 4] for n in range(64, len(prompt) // 4 + 1, 16)]
        digests = [hashlib.sha256(step.encode()).hexdigest() for step in steps]
        with self._lock:
            cached = max((len(s) // 4 for s, d in zip(steps, digests, strict=True) if d in self.answered), default=0)
        time.sleep(0.1)  # the time it takes to answer: calls sent meanwhile do not find this one's prompt
        with self._lock:
            self.answered.update(digests)  # answered: later calls that begin alike find it
            payload["usage"]["prompt_tokens_details"] = {
                "cached_tokens": min(cached, payload["usage"]["prompt_tokens"])
            }
            self.usages.append(payload["usage"])
        return status, payload


def _draft(workspace: Path, server: FakeOpenAIServer, prompt: str) -> None:
    done = essay("draft", prompt, "--base-url", server.base_url, "--model", "house", cwd=workspace)
    assert done.returncode == 0, done.stderr


def test_an_endpoint_seen_to_cache_gets_the_shared_opening_and_cost_prices_its_cached_tokens(workspace: Path) -> None:
    # Not one slot (a hosted API's setting): each call carries its own notes, until the endpoint reports caching.
    write(workspace / "essay.toml", '[llm]\nslots = 4\n[prices."house"]\ninput = 1.0\noutput = 2.0\ncached = 0.1\n')
    with CachingServer() as server:
        _draft(workspace, server, "prompts/garden.md")
        # The sections went side by side, so none found another's prompt cached: nothing seen yet.
        assert not any(u["prompt_tokens_details"]["cached_tokens"] for u in server.usages)
        _draft(workspace, server, "prompts/garden.md")  # follows the plan: its sections open as the first draft's
        first = list(server.requests)
        assert len({r["messages"][0]["content"] for r in first}) > 1  # each call its own opening
        assert sum(u["prompt_tokens_details"]["cached_tokens"] for u in server.usages) > 0  # it reported caching
        with Store(workspace / ".essay" / "state.sqlite") as store:
            assert store.modes[f"{server.base_url} prompt cache"] == "yes"
        _draft(workspace, server, "prompts/compost.md")
        second = server.requests[len(first) :]
        later = server.usages[len(first) :]
    assert len(second) >= 3 and len({r["messages"][0]["content"] for r in second}) == 1
    assert "the clay is worse than we thought" in second[0]["messages"][0]["content"]
    assert "response_format" in second[0]  # the sort first, alone; then the sections read the opening cached
    assert all(u["prompt_tokens_details"]["cached_tokens"] > 0 for u in later[1:])
    assert all("prompt_cache_key" not in r for r in server.requests)  # only OpenAI's own API takes it
    sent = sum(u["prompt_tokens"] for u in server.usages)
    cached = sum(u["prompt_tokens_details"]["cached_tokens"] for u in server.usages)
    out = sum(u["completion_tokens"] for u in server.usages)
    cost = essay("cost", cwd=workspace)
    assert cost.returncode == 0, cost.stderr
    row = next(line.split() for line in cost.stdout.splitlines() if " house " in f" {line} ")
    assert row[4:7] == [str(sent), str(cached), str(out)]
    assert row[-1] == f"${((sent - cached) * 1.0 + cached * 0.1 + out * 2.0) / 1e6:.4f}"


def test_openai_gets_a_stable_prompt_cache_key_and_counts_as_caching() -> None:
    llm = OpenAIChat(model="gpt-4o-mini", base_url="https://api.openai.com/v1", api_key="sk-test")
    opening = {"role": "system", "content": "the writer's notes\n" + "a note of theirs. " * 400}
    one = llm._request([opening, {"role": "user", "content": "sort notes f1 to f9"}], 100, 0.0)
    two = llm._request([opening, {"role": "user", "content": "write section 2"}], 100, 0.7)
    other = llm._request([{"role": "system", "content": "x" * 5000}, {"role": "user", "content": "hi"}], 100, 0.7)
    short = llm._request([{"role": "system", "content": "short"}, {"role": "user", "content": "hi"}], 100, 0.7)
    assert one["prompt_cache_key"] == two["prompt_cache_key"] != other["prompt_cache_key"]
    assert re.fullmatch(r"essay-[0-9a-f]{24}", one["prompt_cache_key"])  # a digest: it names no note
    assert "prompt_cache_key" not in short
    assert llm.caches_prefixes
    assert not OpenAIChat(model="m", base_url="http://127.0.0.1:9/v1", api_key="x").caches_prefixes


def test_a_caching_endpoint_shares_the_opening_whatever_its_slots() -> None:
    hosted = Settings(provider="openai", base_url="https://api.example.com/v1", slots=4)
    assert shares_prefix(hosted, caches=True) and not shares_prefix(hosted)
    assert not shares_prefix(Settings(), caches=False)


def test_cached_tokens_cost_the_cached_rate() -> None:
    full = prices.cost("openai", "gpt-4o-mini", 1_000_000, 0, {})
    half_cached = prices.cost("openai", "gpt-4o-mini", 1_000_000, 0, {}, cached=500_000)
    assert full == pytest.approx(0.15) and half_cached == pytest.approx(0.075 + 0.0375)
    assert prices.cost("openai", "mine", 1_000_000, 0, {"mine": (1.0, 2.0, 1.0)}, cached=1_000_000) == pytest.approx(
        1.0
    )


def test_where_the_cached_rate_is_too_high_for_the_sections_each_call_sends_its_own(workspace: Path) -> None:
    # Three sections each reading the opening at half price cost more than their own notes at the full one.
    write(workspace / "essay.toml", '[llm]\nslots = 4\n[prices."house"]\ninput = 1.0\noutput = 2.0\ncached = 0.5\n')
    with CachingServer() as server:
        with Store(workspace / ".essay" / "state.sqlite") as store:  # a workspace that drafted against it before
            store.modes[f"{server.base_url} prompt cache"] = "yes"
        seen = len(server.requests)
        done = essay("draft", "prompts/compost.md", "--base-url", server.base_url, "--model", "house", cwd=workspace)
        assert done.returncode == 0, done.stderr
        second = server.requests[seen:]
    assert len({r["messages"][0]["content"] for r in second}) > 1
    assert (
        f"{server.base_url} caches prompts, but at house's cached rate each call's own notes cost less than every "
        "call opening with all of them: each call sends its own"
    ) in done.stderr


def test_sharing_pays_where_the_sections_cached_openings_cost_less_than_the_input_rate() -> None:
    assert not prices.sharing_pays("gpt-4o-mini", 4, {})  # 4 x 0.075 > 0.15
    assert prices.sharing_pays("gpt-5-mini", 4, {})  # 4 x 0.025 < 0.25
    assert prices.sharing_pays("unpriced-model", 4, {})


def test_past_the_window_the_sorts_first_call_goes_alone_and_the_rest_read_the_opening_cached(
    workspace: Path,
) -> None:
    words = (" ".join(WORDS[(n + i) % len(WORDS)] for i in range(40)) for n in range(40))
    lines = [f"the garden, day {n}: {text}" for n, text in enumerate(words)]
    write(workspace / "notes" / "garden-log.md", "".join(f"- {line}\n" for line in lines))
    write(workspace / "essay.toml", "[llm]\nslots = 4\ncontext_window = 4096\n")
    with CachingServer() as server:
        with Store(workspace / ".essay" / "state.sqlite") as store:  # a workspace that drafted against it before
            store.modes[f"{server.base_url} prompt cache"] = "yes"
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, "--model", "house", cwd=workspace)
        assert done.returncode == 0, done.stderr
        requests, usages = list(server.requests), list(server.usages)
    assert "the shared opening holds" in done.stderr
    openings = {r["messages"][0]["content"] for r in requests}
    assert len(openings) == 1
    sorts = [u for r, u in zip(requests, usages, strict=True) if "response_format" in r]
    assert len(sorts) >= 2  # the notes the opening lacks are sorted in calls of their own
    assert all(u["prompt_tokens_details"]["cached_tokens"] > 0 for u in usages[1:])
    carried = [line for line in lines if line not in next(iter(openings))]
    assert carried and len(carried) < len(lines)  # the opening holds what fits; the rest reached the sort in full
    asked = "".join(r["messages"][1]["content"] for r in requests if "response_format" in r)
    assert all(line in asked for line in carried)


def test_the_writers_own_draft_among_the_notes_is_not_shown_twice_in_the_opening(tmp_path: Path) -> None:
    from pipeline.collect.notes import fragments_of

    draft = "**the email**\nI booked the course on a Thursday, before I could talk myself out of it, and never sailed."
    prompt_file = write(tmp_path / "p.md", f"---\ntitle: sailing\n---\n\nan essay.\n\n- **why.** why?\n\n{draft}\n")
    prompt = parse_prompt(prompt_file)
    own = fragments_of("p.md", prompt.title, prompt.author_draft, by_author=True)
    other = (
        "**elsewhere**\nA paragraph of theirs from a voice note, which no fragment holds, long enough to be a sample."
    )
    shared = shared_notes(prompt, [*own, *_fragments(3)], [prompt.author_draft, other], WINDOW, _answer)
    assert shared is not None
    opening = shared.first["content"]
    assert opening.count("I booked the course on a Thursday") == 1  # as the writer's own note, not again as a sample
    assert "A paragraph of theirs from a voice note" in opening


def test_a_section_too_big_to_open_with_the_shared_notes_is_written_after_those_that_do(prompt: Any) -> None:
    from pipeline.write.expand import Writing, expand_sections
    from tests.fakes import FakeLLM

    fragments = _fragments(120)
    shared = shared_notes(prompt, fragments, [], WINDOW, _answer)
    assert shared is not None and shared.held < 60
    slugs = [s.slug for s in prompt.sections]
    big = fragments[shared.held :]  # more of the notes the opening lacks than one call holds beside it
    material = {slugs[0]: big, slugs[1]: fragments[:3], slugs[2]: fragments[3:6]}
    llm = FakeLLM(context_window=WINDOW)
    draft = expand_sections(prompt, material, llm, Writing(shared=shared, concurrency=4))
    assert [s.slug for s in draft.sections] == slugs  # in the prompt's order, whatever order they were written in
    openings = [c.messages[0]["content"] for c in llm.history]
    assert openings[:2] == [shared.first["content"]] * 2 and openings[2] != shared.first["content"]
