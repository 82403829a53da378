"""Each story once: a note and the author's own paragraph telling one story, placed in two sections by the plan.

The model here writes back every note it is given (as a model that follows its notes closely would), so the
story comes out in both sections; the draft then tells it once (a capable model writes the later paragraph
again without it) or flags the second telling.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.errors import LLMError
from pipeline.drafting.inputs import read_inputs
from pipeline.drafting.runner import draft_essay, plan_essay
from pipeline.models.llm import Completion
from pipeline.models.providers import register_provider
from pipeline.write.retell import find_retellings
from tests.conftest import essay, make_run, write
from tests.fakes import Call, FakeLLM, made

PROMPT = """---
title: "a year on the fleet team"
---

Write about a year of capacity work.

- **Start with what you observed.**
    What did the place teach you?

- **Then your growth.**
    What did you get better at?

- **Examine the system itself.**
    Where did it work, and where did it stall?

"""
PROMPT += (
    "the most frustrating was trying to hand one cluster back early. i literally had six calls where i "
    "started with priya, who redirected me to fleet, to deploybot, to the capacity board, to deploybot "
    "again, all the way back to priya. nobody is incentivised to shorten that loop."
    "\n\n"
    "the strength is depth: for any of the hundred domains in a supercomputer there is someone who knows "
    "it cold and will spend an hour with you."
    "\n"
)
STORY = (
    "- spent tuesday on calls to hand back one cluster early: priya sent me to fleet, fleet to deploybot, "
    "deploybot to the capacity board, the board back to deploybot, and the sixth call was priya again\n"
)
OTHER_NOTES = {
    "daily/2026-03-02.md": "- started writing down who decides before every call ends, and asking for it by name\n",
    "daily/2026-04-11.md": "- the forecast took a day instead of a week once i trusted the fleet dashboard numbers\n",
    "daily/2026-05-14.md": "- liked the status notes on fridays more than i expected, small promises kept each week\n",
}
REWRITE = "nobody is paid to shorten a loop like the one i wrote about earlier, so nobody does."
_NOTE_LINE = re.compile(r'^\[(f\d+)\] (?:\(under "[^"]*"\) )?(.+)$', re.M)


class EchoLLM(FakeLLM):
    """Writes each note it is given back as a paragraph citing it; asked to write a paragraph again without
    a story, answers `rewrite` (or raises, or echoes the paragraph, as a model might)."""

    def __init__(self, *, can_sort: bool, rewrite: str | Exception | None = REWRITE) -> None:
        super().__init__()
        self.can_sort = can_sort
        self.rewrite = rewrite
        self.rewrites: list[str] = []

    def complete(self, messages: Any, **kwargs: Any) -> Completion:
        if kwargs.get("schema") is not None:
            return super().complete(messages, **kwargs)
        user = next(m["content"] for m in messages if m["role"] == "user")
        self.history.append(Call([dict(m) for m in messages], None, kwargs.get("max_tokens", 0)))
        if "tells the same story again" in user:
            self.rewrites.append(user)
            if isinstance(self.rewrite, Exception):
                raise self.rewrite
            again = user.split("tells the same story again:\n---\n", 1)[1].split("\n---", 1)[0]
            text = again if self.rewrite is None else self.rewrite
        else:
            text = "\n\n".join(f"{t[:1].upper()}{t[1:]} [{k}]" for k, t in _NOTE_LINE.findall(user))
        return Completion(text, prompt_tokens=10, completion_tokens=10, finish_reason="stop")


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    """The story's note planned into the first section, the author's paragraph about it into the third (with
    their other paragraph), the other notes into the first and second."""
    write(tmp_path / "prompts" / "fleet.md", PROMPT)
    write(tmp_path / "notes" / "daily" / "2026-02-10.md", STORY)
    for path, text in OTHER_NOTES.items():
        write(tmp_path / "notes" / path, text)
    run = make_run(tmp_path, FakeLLM(), cache=False)
    plan = plan_essay(run, read_inputs(run, tmp_path / "prompts" / "fleet.md")).path
    items = [line for line in plan.read_text().splitlines() if line.startswith("- ") and "<!-- f:" in line]
    story = next(i for i in items if "sixth call" in i)
    own = next(i for i in items if "six calls" in i)
    depth = next(i for i in items if "strength is depth" in i)
    rest = [i for i in items if i not in (story, own, depth)]
    head, _, _ = plan.read_text().partition("\n## start with what you observed")
    plan.write_text(
        f"{head}\n## start with what you observed\n\n{story}\n{rest[0]}\n\n## then your growth\n\n"
        + "\n".join(rest[1:])
        + f"\n\n## examine the system itself\n\n{own}\n{depth}\n\n## fits no section\n\n",
        encoding="utf-8",
    )
    return tmp_path


def _draft(root: Path, llm: EchoLLM) -> str:
    run = make_run(root, llm, cache=False)
    return draft_essay(run, read_inputs(run, root / "prompts" / "fleet.md")).file.path.read_text(encoding="utf-8")


def _section(draft: str, title: str) -> str:
    return draft.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_with_a_model_that_cannot_rewrite_the_second_telling_is_flagged(planned: Path) -> None:
    draft = _draft(planned, EchoLLM(can_sort=False))
    first, system = _section(draft, "start with what you observed"), _section(draft, "examine the system itself")
    assert "sixth call was priya again" in first and "check:" not in first
    assert (
        '==the most frustrating was trying to hand one cluster back early.==^[check: told already in "start ' in system
    )
    assert "the strength is depth" in system and draft.count("^[check:") == 1  # only the retelling is flagged


def test_with_a_capable_model_the_draft_tells_the_story_once(planned: Path) -> None:
    llm = EchoLLM(can_sort=True)
    draft = _draft(planned, llm)
    assert len(llm.rewrites) == 1 and "sixth call was priya again" in llm.rewrites[0]  # the earlier telling shown
    system = _section(draft, "examine the system itself")
    assert "six calls" not in system and "deploybot" not in system
    assert REWRITE in system and "check:" not in draft
    label = re.search(rf"{re.escape(REWRITE)}\[\^([^\]]+)\]", system)[1]  # type: ignore[index]
    assert re.search(rf"^\[\^{label}\]: \[\[prompts/fleet\]\] \(your draft\)$", system, re.M)  # its footnote kept
    assert all("deploybot" not in _section(draft, t) for t in ("then your growth", "examine the system itself"))


RETOLD = "priya sent me to fleet, then deploybot, then the capacity board and back to deploybot and priya: six calls."


@pytest.mark.parametrize(
    "rewrite",
    [None, RETOLD, LLMError("the server had an error")],
    ids=["echoes-it", "retells-it-in-other-words", "fails"],
)
def test_a_rewrite_that_still_retells_or_fails_leaves_the_paragraph_flagged(planned: Path, rewrite: Any) -> None:
    draft = _draft(planned, EchoLLM(can_sort=True, rewrite=rewrite))
    system = _section(draft, "examine the system itself")
    assert "six calls where i started with priya" in system and RETOLD not in system  # the paragraph as it was
    assert system.count('^[check: told already in "start with what you observed"; keep one]') == 1


def test_the_cli_says_how_many_stories_are_told_twice(planned: Path) -> None:
    register_provider("echo", lambda settings, options: EchoLLM(can_sort=False))
    done = essay("draft", "prompts/fleet.md", "--provider", "echo", cwd=planned)
    assert done.returncode == 0, done.stderr
    assert (
        "warning: 1 paragraphs tell a story an earlier section tells, marked ==like this== in the draft: "
        "keep one telling"
    ) in done.stderr.splitlines()
    assert "claims need checking" not in done.stderr  # the retelling is not counted as an unsupported claim
    plain = essay("draft", "prompts/fleet.md", "--provider", "fake", cwd=planned)  # the fake tells nothing twice
    assert plain.returncode == 0 and "earlier section" not in plain.stderr
    assert all("tells the same story again" not in c.user for c in made[-1].history)


def test_each_writing_call_is_told_what_the_other_sections_notes_tell(planned: Path) -> None:
    llm = EchoLLM(can_sort=False)
    _draft(planned, llm)
    system_call = next(c for c in llm.history if 'write the section "Examine the system itself"' in c.user)
    assert (
        "- 1. Start with what you observed: spent tuesday on calls to hand back one cluster early" in system_call.user
    )
    assert "tell each story once in the essay" in system_call.user


def test_callbacks_are_not_retellings() -> None:
    sections = [
        (
            "a",
            "sandra asked one question in the postmortem: what would have caught this a week earlier? the "
            "answer was boring, a checklist someone actually reads, and we wrote one that afternoon.",
        ),
        (
            "b",
            "on december 8 we tried again with the checklist, a load test at 60% of prod for three days, and a "
            "go call the friday before; the cutover took 11 minutes and nothing failed.",
        ),
        (
            "c",
            "sandra's question is the one i now ask before every risky change, and usually the answer is not "
            "a clever tool but a short meeting where people say go out loud.",
        ),
    ]
    assert find_retellings(sections) == []


def test_check_lists_a_flagged_retelling_as_told_twice(planned: Path) -> None:
    register_provider("echo-check", lambda settings, options: EchoLLM(can_sort=False))
    assert essay("draft", "prompts/fleet.md", "--provider", "echo-check", cwd=planned).returncode == 0
    checked = essay("check", "prompts/fleet.md", cwd=planned)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "Examine the system itself: told twice: the most frustrating was trying to hand one cluster back early."
    ]
    assert "1 paragraphs in drafts/fleet/v001.md tell a story told before" in checked.stderr


class BorrowingLLM(EchoLLM):
    """Writes the second section from the first section's story, citing nothing."""

    def complete(self, messages: Any, **kwargs: Any) -> Completion:
        user = next(m["content"] for m in messages if m["role"] == "user")
        if 'write the section "Then your growth"' in user:
            return Completion(STORY.removeprefix("- "), prompt_tokens=1, completion_tokens=1, finish_reason="stop")
        return super().complete(messages, **kwargs)


def test_an_uncited_paragraph_is_matched_only_to_its_own_sections_notes(planned: Path) -> None:
    draft = _draft(planned, BorrowingLLM(can_sort=False))
    growth = _section(draft, "then your growth")
    links = re.findall(r"^\[\^then-your-growth-\d+\]: (.*)$", growth, re.M)
    assert links and all("2026-02-10" not in link for link in links)  # the story's note went to another section
    assert all(re.search(r"daily/2026-0[45]-\d\d", link) for link in links)
