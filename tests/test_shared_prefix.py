"""`[llm] slots = 1`: every call of a draft opens with the same message holding all its notes."""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import frontmatter
import pytest

from pipeline.core.config import Settings
from pipeline.core.text import estimate_tokens
from pipeline.messages.shared import id_ranges
from pipeline.models.llm import Completion, Messages
from pipeline.models.providers import register_provider
from pipeline.models.providers.slots import reported_slots, shares_prefix
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer
from tests.fakes import FakeLLM

_NOTE = re.compile(r"^--- (.+?)(?: \(.*\))?$")
_KEY = re.compile(r"^(f\d+): ")


class CitingLLM(FakeLLM):
    """Writes each section as two paragraphs: the first cites the section's first id, the second cites an id of
    a note the section was not given (a model straying into another section's material)."""

    def complete(self, messages: Messages, **options: Any) -> Completion:
        user = messages[-1]["content"]
        named = re.search(r"from notes (.+?)\. cite only", user)
        if options.get("schema") is not None or named is None:
            return super().complete(messages, **options)
        own = named[1].split(", ")
        notes = notes_of(messages[0]["content"])
        stray = next((k for k, n in notes.items() if n not in {notes[o] for o in own}), own[0])
        text = f"I learned about the ground. [{own[0]}]\n\nAnd the tomatoes that failed. [{stray}]"
        super().complete(messages, **options)  # kept in history
        return Completion(text, prompt_tokens=100, completion_tokens=20, finish_reason="stop")


made: list[CitingLLM] = []


def _citing(settings: Any, options: Any) -> CitingLLM:
    llm = CitingLLM(context_window=settings.context_window or 8192)
    made.append(llm)
    return llm


register_provider("citing", _citing)


def _expanded(ranges: str) -> set[str]:
    """`f1 to f3, f7` -> {f1, f2, f3, f7}."""
    ids: set[str] = set()
    for run in ranges.split(", "):
        first, _, last = run.partition(" to ")
        ids |= {f"f{n}" for n in range(int(first[1:]), int((last or first)[1:]) + 1)}
    return ids


def notes_of(shared: str) -> dict[str, str]:
    """Each id in the shared message -> the title of the note it sits under."""
    owner: dict[str, str] = {}
    title = ""
    for line in shared.splitlines():
        if found := _NOTE.match(line):
            title = found[1]
        elif found := _KEY.match(line):
            owner[found[1]] = title
    return owner


def _draft(workspace: Path, settings: str) -> CitingLLM:
    write(workspace / "essay.toml", f'[llm]\nprovider = "citing"\n{settings}')
    ran = essay("draft", "prompts/garden.md", cwd=workspace)
    assert ran.returncode == 0, ran.stderr
    return made[-1]


def test_every_call_opens_with_the_same_message_holding_every_note(workspace: Path) -> None:
    llm = _draft(workspace, "slots = 1\n")
    sorts = [c for c in llm.history if c.schema is not None]
    writes = [c for c in llm.history if c.schema is None]
    assert len(sorts) == 1 and len(writes) == 3
    assert len({c.messages[0]["content"] for c in llm.history}) == 1
    assert all(len(c.messages) == 2 and c.messages[1]["role"] == "user" for c in llm.history)
    shared = llm.history[0].messages[0]["content"]
    for text in ("the clay is worse than we thought", "marguerite has watered", "milk, eggs, a new trowel"):
        assert text in shared
    ids = set(notes_of(shared))
    assert len(ids) >= 5
    # The sort asks for ids of the shared message and answers with their numbers.
    asked = _expanded(re.search(r"sort notes (.+?) into", sorts[0].user)[1])  # type: ignore[index]
    assert asked and asked <= ids
    assert {n for s in sorts[0].schema["properties"].values() for n in s["items"]["enum"]} == {
        int(i[1:]) for i in asked
    }
    # Each writing call names only its own section's ids, and no note's text.
    named = [set(re.search(r"from notes (.+?)\. cite only", c.user)[1].split(", ")) for c in writes]  # type: ignore[index]
    assert all(named) and all(not a & b for a in named for b in named if a is not b)
    assert all("the clay is worse" not in c.user for c in writes)


def test_a_citation_of_another_sections_note_is_dropped_and_footnotes_point_to_the_right_notes(
    workspace: Path,
) -> None:
    llm = _draft(workspace, "slots = 1\n")
    owner = notes_of(llm.history[0].messages[0]["content"])
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    strays = 0
    # The writing calls run side by side: pair each with its section by title, not by the order they started.
    writes = {re.search(r'write section \d+, "(.+?)"', c.user)[1]: c for c in llm.history if c.schema is None}  # type: ignore[index]
    assert len(writes) >= 2
    for section in post["sections"]:
        write_call = writes[section["title"]]
        own = re.search(r"from notes (.+?)\. cite only", write_call.user)[1].split(", ")  # type: ignore[index]
        body = post.content.split(f"<!-- section: {section['slug']} -->", 1)[1].split("<!-- section:", 1)[0]
        links = dict(re.findall(r"^\[\^(\S+?)\]: (.+)$", body, re.M))
        first, second = links.get(f"{section['slug']}-1", ""), links.get(f"{section['slug']}-2", "")
        assert f"[[{owner[own[0]]}" in first  # the cited note, through its global id
        own_notes = {owner[i] for i in own}
        linked = set(re.findall(r"\[\[([^\]#|]+)", second))
        assert linked <= own_notes  # never the stray note: its id was dropped, the paragraph matched its own
        strays += any(n not in own_notes for n in owner.values())
    assert strays  # some section did stray outside its notes


def test_without_the_setting_each_call_carries_its_own_notes(workspace: Path) -> None:
    llm = _draft(workspace, "")
    assert len({c.messages[0]["content"] for c in llm.history}) > 1
    assert all("the clay is worse" not in c.messages[0]["content"] for c in llm.history)


def test_notes_that_do_not_fit_the_window_fall_back_to_each_call_its_own(workspace: Path) -> None:
    write(workspace / "essay.toml", '[llm]\nprovider = "citing"\nslots = 1\ncontext_window = 1024\n')
    ran = essay("draft", "prompts/garden.md", cwd=workspace)
    assert ran.returncode == 0, ran.stderr
    assert "do not fit one shared prompt" in ran.stderr + ran.stdout
    assert len({c.messages[0]["content"] for c in made[-1].history}) > 1


def test_a_misspelt_slots_names_the_setting(workspace: Path) -> None:
    write(workspace / "essay.toml", '[llm]\nprovider = "citing"\nslot = 1\n')
    ran = essay("draft", "prompts/garden.md", cwd=workspace)
    assert ran.returncode != 0
    assert "unknown setting 'llm.slot'; did you mean 'llm.slots'?" in ran.stderr


def test_a_draft_that_follows_an_edited_plan_shares_the_plan_as_the_author_left_it(workspace: Path) -> None:
    first = _draft(workspace, "slots = 1\n")
    texts = {m[1]: m[2] for m in re.finditer(r"^(f\d+): (.+)$", first.history[0].messages[0]["content"], re.M)}
    request = next(c.user for c in first.history if c.schema is None)
    key = re.search(r"from notes (f\d+)", request)[1]  # type: ignore[index]
    plan = workspace / "drafts" / "garden" / "plan.md"
    plan.write_text(plan.read_text(encoding="utf-8").replace(texts[key], texts[key] + " and it rained"), "utf-8")
    again = _draft(workspace, "slots = 1\n")
    assert all(c.schema is None for c in again.history)  # it follows the plan: no sort
    assert len({c.messages[0]["content"] for c in again.history}) == 1
    shared = again.history[0].messages[0]["content"]
    edited = next(m[1] for m in re.finditer(r"^(f\d+): (.+)$", shared, re.M) if m[2].endswith("and it rained"))
    asked = [re.search(r"from notes (.+?)\. cite only", c.user)[1].split(", ") for c in again.history]  # type: ignore[index]
    assert sum(edited in ids for ids in asked) == 1  # written in one section (the others' lines may name it)


def _dry_run_tokens(workspace: Path, settings: str) -> int:
    write(workspace / "essay.toml", f'[llm]\nprovider = "citing"\n{settings}')
    ran = essay("draft", "prompts/garden.md", "--dry-run", cwd=workspace)
    assert ran.returncode == 0, ran.stderr
    return int(re.search(r"~(\d+) in", ran.stdout)[1])  # type: ignore[index]


def test_a_dry_run_counts_the_notes_every_call_sends(workspace: Path) -> None:
    default, shared = _dry_run_tokens(workspace, ""), _dry_run_tokens(workspace, "slots = 1\n")
    assert shared > default
    llm = _draft(workspace, "slots = 1\n")
    sent = sum(estimate_tokens("".join(m["content"] for m in c.messages)) for c in llm.history)
    assert 0.8 < shared / sent < 1.25  # about what the draft sends


def test_the_sort_names_runs_of_ids_by_their_ends() -> None:
    assert id_ranges([1, 2, 3, 5, 7, 8]) == "f1 to f3, f5, f7 to f8"
    assert _expanded(id_ranges([4, 9, 10, 11, 2])) == {"f4", "f9", "f10", "f11", "f2"}


@pytest.mark.parametrize(
    ("settings", "props", "shared"),
    [
        ("", None, True),  # a server that does not say (llama-cpp-python's, Ollama, vLLM)
        ("", {"total_slots": 1}, True),
        ("", {"total_slots": 4}, False),  # llama.cpp's server with four slots, each its own cache
        ("[llm]\nslots = 4\n", None, False),
        ("[llm]\nslots = 1\n", {"total_slots": 4}, True),  # the author's word wins
    ],
)
def test_a_server_on_this_machine_gets_the_shared_layout_unless_it_has_more_slots(
    workspace: Path, settings: str, props: dict[str, int] | None, shared: bool
) -> None:
    write(workspace / "essay.toml", settings)
    reported_slots.cache_clear()
    with FakeOpenAIServer(props=props) as server:
        ran = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
    assert ran.returncode == 0, ran.stderr
    openings = {r["messages"][0]["content"] for r in server.requests}
    assert (len(openings) == 1) is shared and len(server.requests) > 2
    assert ("reports more than one slot" in ran.stderr + ran.stdout) is (props == {"total_slots": 4} and not settings)


def test_a_hosted_api_gets_each_call_its_own_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    hosted = Settings(provider="openai", base_url="https://api.example.com/v1")
    assert not shares_prefix(hosted) and not shares_prefix(Settings(provider="openai"))
    assert shares_prefix(replace(hosted, slots=1))
    for url in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:8000/v1"):
        assert shares_prefix(replace(hosted, base_url=url))
    assert not shares_prefix(Settings())  # the in-process model


def test_a_draft_that_follows_an_edited_plan_sends_nothing_the_author_took_out_of_it(workspace: Path) -> None:
    """On a server on this machine every call opens with the notes: only those the plan's sections place."""
    with FakeOpenAIServer() as server:
        planned = essay("plan", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        assert planned.returncode == 0, planned.stderr
        plan = workspace / "drafts" / "garden" / "plan.md"
        lines = plan.read_text(encoding="utf-8").splitlines()
        moved = next(line for line in lines if "milk, eggs" in line)
        kept = [line for line in lines if "tomatoes went in too early" not in line and line != moved]
        plan.write_text("\n".join([*kept, moved]) + "\n", encoding="utf-8")  # last heading: fits no section
        write(workspace / "notes" / "later.md", "the zucchini glut arrived all at once\n")
        before = len(server.requests)
        drafted = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
    assert drafted.returncode == 0, drafted.stderr
    sent = ["\n".join(m["content"] for m in r["messages"]) for r in server.requests[before:]]
    assert len({r["messages"][0]["content"] for r in server.requests[before:]}) == 1  # one shared opening
    assert all("the clay is worse" in text for text in sent)
    for gone in ("tomatoes went in too early", "milk, eggs", "zucchini"):
        assert not any(gone in text for text in sent), gone


@pytest.mark.parametrize("private_by", ["glob", "frontmatter, the note deleted since the plan"])
def test_a_plan_made_where_private_notes_may_go_keeps_them_from_an_untrusted_server(
    workspace: Path, private_by: str
) -> None:
    note = workspace / "notes" / "journal" / "launch.md"
    text = "- kestrel launch slips to march because the audit failed\n"
    write(note, text if private_by == "glob" else f"---\nprivate: true\n---\n\n{text}")
    with FakeOpenAIServer() as trusted, FakeOpenAIServer() as other:
        glob = '[notes]\nprivate = ["journal/*"]\n\n' if private_by == "glob" else ""
        write(workspace / "essay.toml", f'{glob}[privacy]\ntrusted = ["{trusted.base_url}"]\n')
        planned = essay("plan", "prompts/garden.md", "--base-url", trusted.base_url, cwd=workspace)
        assert planned.returncode == 0, planned.stderr
        assert "audit failed" in (workspace / "drafts" / "garden" / "plan.md").read_text(encoding="utf-8")
        if private_by != "glob":
            note.unlink()  # gone from the vault, still quoted by the plan
        drafted = essay("draft", "prompts/garden.md", "--base-url", other.base_url, cwd=workspace)
        sent = "".join(m["content"] for r in other.requests for m in r["messages"])
    assert drafted.returncode == 0, drafted.stderr
    assert other.requests and "audit failed" not in sent
    assert "plan items from private notes stay on this machine" in drafted.stderr


def test_a_server_that_answers_props_with_garbage_is_one_that_does_not_say() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def garbage() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")

        thread = threading.Thread(target=garbage, daemon=True)
        thread.start()
        assert reported_slots(f"http://127.0.0.1:{listener.getsockname()[1]}/v1") is None
        thread.join(timeout=5)
