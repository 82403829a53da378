"""`essay draft --polish`: each section's opening follows on from the section before; what it says is kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.models.llm import Completion
from pipeline.models.providers import register_provider
from tests.conftest import essay
from tests.test_tell_once import EchoLLM, _draft, _section, planned  # noqa: F401  (planned is a fixture)

LEAD = "Picking up from there, "


class PolishingLLM(EchoLLM):
    """EchoLLM that, asked to polish an opening, answers `answer(paragraph)`."""

    def __init__(self, answer: Any) -> None:
        super().__init__(can_sort=False)
        self.answer = answer
        self.polished: list[str] = []

    def complete(self, messages: Any, **kwargs: Any) -> Completion:
        user = next(m["content"] for m in messages if m["role"] == "user")
        if "opens with this paragraph" not in user:
            return super().complete(messages, **kwargs)
        self.polished.append(user)
        paragraph = user.split("opens with this paragraph:\n---\n", 1)[1].split("\n---", 1)[0]
        return Completion(self.answer(paragraph), prompt_tokens=10, completion_tokens=10, finish_reason="stop")


def _draft_polished(root: Path, llm: EchoLLM) -> str:
    from pipeline.drafting.inputs import read_inputs
    from pipeline.drafting.runner import draft_essay
    from tests.conftest import make_run

    run = make_run(root, llm, cache=False)
    inputs = read_inputs(run, root / "prompts" / "fleet.md")
    return draft_essay(run, inputs, polish=True).file.path.read_text(encoding="utf-8")


def test_polish_rewrites_an_opening_to_follow_on_and_keeps_its_footnote(planned: Path) -> None:  # noqa: F811
    llm = PolishingLLM(lambda p: LEAD + p)
    draft = _draft_polished(planned, llm)
    growth = _section(draft, "then your growth")
    assert re.match(r"\npicking up from there, \S.*\[\^then-your-growth-1\]$", growth.split("\n\n")[0])
    assert "[^then-your-growth-1]: [[daily/" in growth
    # The join shows the end of the section before; the author's own paragraph opening the third is not sent.
    assert len(llm.polished) == 1 and "ends:\n---\nstarted writing down who decides" in llm.polished[0]
    assert "picking up from there" not in _section(draft, "examine the system itself")


def test_polish_keeps_the_paragraph_when_the_rewrite_changes_what_it_says(planned: Path) -> None:  # noqa: F811
    plain = _draft(planned, EchoLLM(can_sort=False))
    for answer in (
        lambda p: "Picking up from there, Karthik said we had 40 racks.",  # drops it all, invents a name and figure
        lambda p: LEAD + p + " Then Karthik moved 40 racks to Phoenix in one night.",  # adds claims
    ):
        draft = _draft_polished(planned, PolishingLLM(answer))
        assert _section(draft, "then your growth") == _section(plain, "then your growth")


def test_the_cli_polishes_when_asked(planned: Path) -> None:  # noqa: F811
    register_provider("polishing", lambda settings, options: PolishingLLM(lambda p: LEAD + p))
    done = essay("draft", "prompts/fleet.md", "--provider", "polishing", "--polish", cwd=planned)
    assert done.returncode == 0, done.stderr
    assert "polished 1 of 2 joins between sections" in done.stderr.splitlines()
    plain = essay("draft", "prompts/fleet.md", "--provider", "polishing", cwd=planned)
    assert plain.returncode == 0 and "polished" not in plain.stderr
