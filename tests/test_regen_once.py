"""`essay regen` keeps the draft one essay: the section it writes again is told what the others cover, gets its
share of the asked length, and a story another section tells is flagged in it, never in the others."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.models.providers import register_provider
from tests.conftest import essay
from tests.test_tell_once import PROMPT, EchoLLM, _section, planned  # noqa: F401  (planned is a fixture)

made: list[EchoLLM] = []


def _echo(settings: object, options: object) -> EchoLLM:
    made.append(EchoLLM(can_sort=False))
    return made[-1]


register_provider("echo-regen", _echo)


def _asked(llm: EchoLLM, title: str) -> int:
    call = next(c.user for c in llm.history if f'write the section "{title}"' in c.user)
    return int(re.search(r"write about (\d+) words", call)[1])  # type: ignore[index]


def test_regen_flags_a_retelling_in_its_own_section_and_leaves_the_others_as_they_are(
    planned: Path,  # noqa: F811
) -> None:
    prompt = planned / "prompts" / "fleet.md"
    prompt.write_text(PROMPT.replace("a year of capacity work.", "a year of capacity work, in about 900 words."))
    assert essay("draft", "prompts/fleet.md", "--provider", "echo-regen", cwd=planned).returncode == 0
    v001 = planned / "drafts" / "fleet" / "v001.md"
    edited = v001.read_text().replace("sixth call was priya again", "sixth call was priya again (my edit)[^mine]")
    edited = edited.rstrip("\n") + "\n\n[^mine]: my own footnote, at the end of the file as obsidian puts it.\n"
    v001.write_text(edited)
    done = essay("regen", "prompts/fleet.md", "-s", "3", "--provider", "echo-regen", cwd=planned)
    assert done.returncode == 0, done.stderr
    v002 = (planned / "drafts" / "fleet" / "v002.md").read_text()
    first = _section(v002, "start with what you observed")
    assert first == _section(edited, "start with what you observed") and "(my edit)" in first
    system = _section(v002, "examine the system itself")
    assert system.count('^[check: told already in "start with what you observed"; keep one]') == 1
    assert v002.count("[^mine]:") == 1 and v002.endswith("obsidian puts it.\n")  # the author's footnote, once
    # The section written again asks for the same share of the 900 words as the draft did, and is told
    # what the other sections' notes tell.
    drafted, regenerated = made[-2], made[-1]
    assert _asked(regenerated, "Examine the system itself") == _asked(drafted, "Examine the system itself")
    call = next(c.user for c in regenerated.history if 'write the section "Examine the system itself"' in c.user)
    assert "- 1. Start with what you observed: spent tuesday on calls" in call
