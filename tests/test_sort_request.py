"""The sort request a capable model gets over HTTP: every fragment whole, free to go to every section or none."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipeline.collect.notes import collect_notes
from pipeline.collect.prompt import parse_prompt
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer

VAULT = Path(__file__).resolve().parents[1] / "benchmarks" / "sortset3"  # a blind labeled vault: 31 notes
LONG = (
    "the first lesson was not what i expected.\n"
    "she made me hold the bow for twenty minutes before i played a note, and i was annoyed,\n"
    "but by the end i understood that the bow arm is where the sound comes from, not the left hand,\n"
    "and that is the thing i would tell anyone starting: the hand you think matters is the other one."
)


def _one_line(text: str) -> str:
    return " ".join(re.sub(r"\A[-*+]\s+(?!\[[ xX]\])", "", text.strip()).split())


@pytest.mark.parametrize("slots", [4, 1])  # its own request per call, or the opening every call shares
def test_every_fragment_reaches_the_sort_request_whole_and_may_go_to_every_section(tmp_path: Path, slots: int) -> None:
    shutil.copytree(VAULT / "notes", tmp_path / "notes")
    (tmp_path / "prompts").mkdir()
    shutil.copy(VAULT / "prompts" / "cello.md", tmp_path / "prompts" / "cello.md")
    write(tmp_path / "notes" / "cello" / "first-lesson.md", f"# lessons\n\n{LONG}\n")
    write(tmp_path / "essay.toml", f"[llm]\nslots = {slots}\n")
    fragments = collect_notes(tmp_path / "notes").fragments
    sections = len(parse_prompt(tmp_path / "prompts" / "cello.md").sections)

    with FakeOpenAIServer("json_schema") as server:
        done = essay("plan", "prompts/cello.md", "--base-url", server.base_url, "--model", "m", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    sorts = [r for r in server.requests if "exactly one list" in r["messages"][-1]["content"]]
    assert len(sorts) == 1 and len(fragments) > 150
    sent = _one_line("\n".join(m["content"] for m in sorts[0]["messages"]))
    missing = [f.text[:60] for f in fragments if _one_line(f.text) not in sent]
    assert not missing  # each whole, past its first line and its first 80 characters
    assert "the hand you think matters is the other one." in sent
    schema = sorts[0]["response_format"]["json_schema"]["schema"]
    lists = {key: spec["items"]["enum"] for key, spec in schema["properties"].items()}
    assert sorted(lists) == sorted(str(n) for n in range(sections + 1))  # every section and "fits no section"
    assert all(sorted(ids) == sorted(lists["0"]) for ids in lists.values()) and len(lists["0"]) == len(fragments)
    assert schema["additionalProperties"] is False
