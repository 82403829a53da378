from pathlib import Path

import pytest

from pipeline.collect.prompt import parse_prompt
from pipeline.core.errors import UsageError
from tests.conftest import write


def test_bullet_form_with_indented_questions_and_the_authors_draft(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.md",
        '---\ntitle: "what i learned"\n---\n\nWrite about what you learned.\n\n'
        "- **Start with what you observed.**  \n    What did it teach you?\n    \n"
        "- **Then reflect on your growth.**  \n    What skills did you sharpen?\n\n"
        "the first time i heard about a gpu was my sophomore summer.\n\n**org culture**\n\nmore of my draft\n",
    )
    prompt = parse_prompt(path)
    assert prompt.title == "what i learned"
    assert prompt.instruction == "Write about what you learned."
    assert [(s.slug, s.title, s.questions) for s in prompt.sections] == [
        ("start-with-what-you-observed", "Start with what you observed", "What did it teach you?"),
        ("then-reflect-on-your-growth", "Then reflect on your growth", "What skills did you sharpen?"),
    ]
    assert prompt.author_draft.startswith("the first time i heard about a gpu")
    assert prompt.author_draft.endswith("more of my draft")


def test_heading_form(workspace: Path) -> None:
    prompt = parse_prompt(workspace / "prompts" / "compost.md")
    assert prompt.title == "on compost"
    assert prompt.instruction == "A short piece about compost."
    assert [s.title for s in prompt.sections] == ["what goes in", "what comes out"]
    assert prompt.sections[1].questions == "What did the first batch look like?"
    assert prompt.author_draft == ""


def test_repeated_titles_get_distinct_slugs(tmp_path: Path) -> None:
    path = write(tmp_path / "p.md", "## notes\na\n\n## notes\nb\n")
    assert [s.slug for s in parse_prompt(path).sections] == ["notes", "notes-2"]


def test_prompt_without_sections_fails_showing_both_forms(tmp_path: Path) -> None:
    path = write(tmp_path / "flat.md", "Write an essay about my year.\n")
    with pytest.raises(UsageError) as caught:
        parse_prompt(path)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "has no sections" in message and "- **section title.**" in message and "## section title" in message


def test_missing_prompt_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="prompt not found"):
        parse_prompt(tmp_path / "nope.md")
