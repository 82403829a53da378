"""The author's own capitals survive the lowercase pass, and their own paragraphs are footnoted to the prompt file.

On the real seed files (copied into a temporary workspace at run time): the essay file with the author's draft
under its prompt, and one daily note.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.text import learn_casing, lowercase_prose
from pipeline.drafting.inputs import read_inputs
from pipeline.drafting.runner import draft_essay
from pipeline.models.llm import Completion
from tests.conftest import make_run
from tests.fakes import FakeLLM

SEEDS = Path("/work/shared/seeds")
_NOTE_LINE = re.compile(r'^\[(f\d+)\] (?:\(under "[^"]*"\) )?(.+)$', re.M)


class EchoLLM(FakeLLM):
    """Writes each note it is given back as a paragraph, its first letter capitalised as a model would,
    citing it (or, with `cite=False`, citing nothing, so sources are matched by similarity)."""

    def __init__(self, *, cite: bool = True) -> None:
        super().__init__()
        self.cite = cite

    def complete(self, messages: Any, **kwargs: Any) -> Completion:
        if kwargs.get("schema") is not None:
            return super().complete(messages, **kwargs)
        user = next(m["content"] for m in messages if m["role"] == "user")
        paragraphs = [
            text[:1].upper() + text[1:] + (f" [{key}]" if self.cite else "") for key, text in _NOTE_LINE.findall(user)
        ]
        return Completion("\n\n".join(paragraphs), prompt_tokens=10, completion_tokens=10, finish_reason="stop")


@pytest.fixture
def seed_workspace(tmp_path: Path) -> Path:
    if not (SEEDS / "000_c1475086d26549c3.txt").is_file():
        pytest.skip("the seed files are not on this machine")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "notes" / "daily").mkdir(parents=True)
    shutil.copy(SEEDS / "000_c1475086d26549c3.txt", tmp_path / "prompts" / "microsoft.md")
    shutil.copy(SEEDS / "003_0f60c2c0d1f46aa7.txt", tmp_path / "notes" / "daily" / "2025-05-06.md")
    return tmp_path


def _draft(root: Path, llm: FakeLLM) -> str:
    run = make_run(root, llm, cache=False)
    result = draft_essay(run, read_inputs(run, root / "prompts" / "microsoft.md"))
    return result.file.path.read_text(encoding="utf-8")


def _footnotes_of_own_paragraphs(draft: str, author_draft: str) -> list[str]:
    """The footnote definitions of the paragraphs that come from the author's own draft."""
    definitions = dict(re.findall(r"^\[\^([^\]]+)\]: (.*)$", draft, re.M))
    own_lines = {line.strip()[:40].lower() for line in author_draft.splitlines() if len(line.strip()) > 40}
    found = []
    for paragraph in draft.split("\n\n"):
        refs = re.findall(r"\[\^([^\]]+)\](?!:)", paragraph)
        if refs and paragraph.strip()[:40] in own_lines:
            found += [definitions[r] for r in refs]
    return found


@pytest.mark.parametrize("cite", [True, False], ids=["cited", "matched-by-similarity"])
def test_seed_draft_keeps_the_authors_capitals_and_footnotes_their_paragraphs_to_the_prompt(
    seed_workspace: Path, cite: bool
) -> None:
    draft = _draft(seed_workspace, EchoLLM(cite=cite))
    assert "3M per 72-GPU rack" in draft
    assert "3m per" not in draft and "72-gpu" not in draft
    assert "DSM09 - no updates" in draft or "DSM09" in draft  # a codename from the daily note
    assert "Today a gb200" not in draft and "today a gb200" in draft  # a sentence's first capital is the model's
    author_draft = (seed_workspace / "prompts" / "microsoft.md").read_text().split("look forward.**", 1)[1]
    own = _footnotes_of_own_paragraphs(draft, author_draft)
    assert len(own) >= 10
    assert all("[[prompts/microsoft" in d and "(your draft)" in d for d in own), own
    assert not any("daily/" in d for d in own)


def test_casing_rule_on_the_seed_texts() -> None:
    if not SEEDS.is_dir():
        pytest.skip("the seed files are not on this machine")
    essay = (SEEDS / "000_c1475086d26549c3.txt").read_text().split("look forward.**", 1)[1].split("\n\n", 1)[1]
    daily = (SEEDS / "003_0f60c2c0d1f46aa7.txt").read_text()
    casing = learn_casing([essay, daily])
    model = "The GPU fleet runs the gpu jobs; DSM09 and dsm09, 3m racks. I met Sayak in [SF](https://X.com)."
    out = lowercase_prose(model, casing)
    # "GPU" is written both ways by the author: the model's form is kept; "DSM09" and "3M" only ever in capitals.
    assert out == "the GPU fleet runs the gpu jobs; DSM09 and DSM09, 3M racks. i met sayak in [SF](https://X.com)."
    # Capitals inside the author's links are someone else's ("AlphaSense", "NVDA" in a link label).
    assert "nvda" not in casing.always and "NVDA" not in casing.as_written


def test_a_title_case_word_needs_the_majority_of_the_authors_uses() -> None:
    casing = learn_casing(["we shipped Heron in may. then Heron broke. the heron rollout.", "Then it rained. then i"])
    assert lowercase_prose("The heron team. Then rain.", casing) == "the Heron team. then rain."
    casing = learn_casing(["met Robin. then robin left. robin again."])
    assert lowercase_prose("Robin said so.", casing) == "robin said so."


def test_capitals_of_headings_and_title_case_lines_are_not_the_authors_casing() -> None:
    casing = learn_casing(["## Project Goals For Heron\n\nThings I'm Satisfied With:\n- the goals are clear to ENG"])
    assert (
        lowercase_prose("My Goals: I'm Satisfied, and ENG agrees.", casing)
        == "my goals: i'm satisfied, and ENG agrees."
    )
