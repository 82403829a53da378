"""A prompt's asked length is shared among its sections, and the draft reports its total against it."""

from __future__ import annotations

import re
from pathlib import Path

import frontmatter
import pytest

from pipeline.collect.length import asked_length
from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import parse_prompt
from pipeline.write.lengths import count_words, section_words
from tests.conftest import BULLET_PROMPT, essay, write
from tests.fake_server import FakeOpenAIServer

ASKING = BULLET_PROMPT.replace(
    "Write about three seasons of running the garden on elm street.",
    "Write a 2000-word personal essay about three seasons of running the garden on elm street.",
)


@pytest.mark.parametrize(
    ("text", "words", "asked"),
    [
        ("Write a 2000-word personal essay.", 2000, "2,000 words"),
        ("in about 1,500 words", 1500, "about 1,500 words"),
        ("keep it under 800 words.", 720, "under 800 words"),
        ("at least 1000 words", 1100, "at least 1,000 words"),
        ("1,200-1,500 words", 1350, "1,200–1,500 words"),
        ("roughly 1.5k words", 1500, "roughly 1,500 words"),
    ],
)
def test_the_length_a_prompt_asks_for(text: str, words: int, asked: str) -> None:
    length = asked_length(text)
    assert length is not None and (length.words, length.asked) == (words, asked)


def test_no_length_where_none_is_asked() -> None:
    assert asked_length("write about the garden, 3 words a line if you like") is None
    assert asked_length("Write about what you learned.") is None


def test_a_words_property_wins_over_the_instruction(tmp_path: Path) -> None:
    prompt = write(tmp_path / "p.md", ASKING.replace("---\n\nWrite", "words: 900\n---\n\nWrite", 1))
    length = parse_prompt(prompt).length
    assert length is not None and length.words == 900


def _fragment(n: int, text: str) -> Fragment:
    return Fragment(f"id{n}", "notes/a.md", "a", None, (), text)


def test_sections_share_the_length_by_their_material_and_a_direction_wins(tmp_path: Path) -> None:
    prompt = parse_prompt(write(tmp_path / "p.md", ASKING))
    ground, people, forward = (s.slug for s in prompt.sections)
    material = {
        ground: [_fragment(n, "the clay was worse than we thought " * 4) for n in range(6)],
        people: [_fragment(10, "marguerite watered every tuesday")],
        forward: [_fragment(20, "next spring: raised beds " * 3), _fragment(21, "ask the school to help " * 3)],
    }
    words = section_words(prompt, material, {})
    assert 1900 <= sum(words.values()) <= 2100
    assert words[ground] > words[forward] >= words[people] >= 2000 / 3 / 2 - 10  # more material, longer; never tiny
    directed = section_words(prompt, material, {people: 200})
    assert directed[people] == 200 and 1900 <= sum(directed.values()) <= 2100
    assert section_words(prompt, {ground: material[ground]}, {}) == {ground: 2000}  # no material: no call


def test_the_word_count_leaves_out_markers_footnotes_and_flags() -> None:
    text = "i dug ==three beds==^[check: not in your notes] in march.[^g-1]\n\n[^g-1]: [[daily/2025-03-02]]\n"
    assert count_words(text) == 6


def _asked_words(server: FakeOpenAIServer) -> list[int]:
    writes = [r for r in server.requests if "goes in exactly one list" not in r["messages"][-1]["content"]]
    return [int(re.search(r"write about (\d+) words", r["messages"][-1]["content"])[1]) for r in writes]  # type: ignore[index]


def test_a_2000_word_prompt_asks_its_sections_for_2000_words_over_http(workspace: Path) -> None:
    write(workspace / "prompts" / "garden.md", ASKING)
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        asked = _asked_words(server)
    assert done.returncode == 0, done.stderr
    assert len(asked) == 3 and 1700 <= sum(asked) <= 2300, asked
    assert all(r["max_tokens"] >= 2 * n for r, n in zip(_writes(server), asked, strict=True))  # room to write them
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    prose = re.sub(r"^## .*$", "", post.content, flags=re.M)  # the headings are not the essay's words
    assert post["words_asked"] == "2,000 words" and post["words"] == count_words(prose) > 0
    assert f"{post['words']:,} words; the prompt asks for 2,000 words" in done.stderr.splitlines()


def _writes(server: FakeOpenAIServer) -> list[dict]:
    return [r for r in server.requests if "goes in exactly one list" not in r["messages"][-1]["content"]]


def test_a_plan_direction_keeps_its_words_and_the_rest_share_what_is_left(workspace: Path) -> None:
    write(workspace / "prompts" / "garden.md", ASKING)
    assert essay("plan", "prompts/garden.md", "--provider", "fake", cwd=workspace).returncode == 0
    plan = workspace / "drafts" / "garden" / "plan.md"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("## then the people\n", "## then the people\nabout 300 words.\n", 1), "utf-8")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
        requests = _writes(server)
    assert done.returncode == 0, done.stderr
    by_section = {
        re.search(r'write (?:the )?section (?:\d+, )?"(.+?)"', r["messages"][-1]["content"])[1]: n  # type: ignore[index]
        for r, n in zip(requests, _asked_words(server), strict=True)
    }
    assert by_section["Then the people"] == 300
    assert 1700 <= sum(by_section.values()) <= 2300


def test_without_an_asked_length_the_draft_still_reports_its_words(workspace: Path) -> None:
    done = essay("draft", "prompts/garden.md", "--provider", "fake", cwd=workspace)
    assert done.returncode == 0, done.stderr
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    assert "words_asked" not in post.metadata
    assert f"{post['words']:,} words" in done.stderr.splitlines()


def test_a_section_left_to_the_author_is_no_words_of_the_draft() -> None:
    todo = "> [!todo] no notes matched this section yet.\n> write it yourself, or add notes about it and draft again."
    assert count_words(todo) == 0
    assert count_words(f"i dug three beds.\n\n{todo}\n\nthen it rained.") == 7
