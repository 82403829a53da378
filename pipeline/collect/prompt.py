"""Prompt: read an essay prompt file into its title, instruction and sections.

Two forms are accepted (see prompts/ for examples):

    - **Start with what you observed.**          ## the habit
        What did this environment teach you?     What does a day's note look like?

Anything after the bullet sections that is not indented under them is the author's own draft
(as in an essay file of their vault): it is kept as a sample of their voice, never as a section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml

from pipeline.core.errors import UsageError
from pipeline.core.text import slugify

_BULLET_SECTION = re.compile(r"^[-*+]\s+\*\*(?P<lead>.+?)\*\*\s*(?P<rest>.*)$")
_HEADING_SECTION = re.compile(r"^##\s+(?P<title>.+?)\s*#*\s*$")

FORMS_HELP = """a prompt needs sections, in one of two forms:

  - **section title.**
      the questions for this section, indented under the bullet

or

  ## section title
  the questions for this section"""


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    questions: str


@dataclass(frozen=True)
class Prompt:
    path: Path
    title: str
    instruction: str
    sections: tuple[Section, ...]
    author_draft: str = ""  # the author's own writing below the sections, if any
    # Narrowing uses keys of essay's own: Obsidian's `tags:`, `aliases:` and the like are the author's
    # metadata about the prompt file, never a filter.
    note_globs: tuple[str, ...] = ()  # frontmatter `essay-notes:`: only notes whose path matches one
    tags: tuple[str, ...] = ()  # frontmatter `essay-tags:`: only notes with one of these tags


def parse_prompt(path: Path) -> Prompt:
    if path.is_dir():
        raise UsageError(f"prompt {path} is a folder: name the prompt's .md file")
    if path.exists() and not path.is_file():  # a named pipe would block the read forever
        raise UsageError(f"prompt {path} is not a regular file (a pipe or device): name the prompt's .md file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"prompt not found: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"prompt {path} is not UTF-8 text: save it as UTF-8 and try again") from None
    except OSError as exc:
        raise UsageError(f"prompt {path} cannot be read: {exc.strerror}") from None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"prompt {path}: its frontmatter is not valid YAML ({exc.__class__.__name__})") from None
    lines = post.content.splitlines()
    title = str(post.metadata.get("title") or path.stem)
    if any(_BULLET_SECTION.match(line) for line in lines):
        instruction, sections, draft = _bullet_form(lines)
    else:
        instruction, sections, draft = _heading_form(lines)
    if not sections:
        raise UsageError(f"prompt {path} has no sections; {FORMS_HELP}")
    return Prompt(
        path,
        title,
        instruction,
        _with_unique_slugs(sections),
        draft,
        note_globs=_strings(_own_key(post.metadata, "notes")),
        tags=tuple(t.lstrip("#") for t in _strings(_own_key(post.metadata, "tags"))),
    )


def _own_key(meta: dict, name: str) -> object:
    """`essay-notes` (or `essay_notes`): a key nobody sets by accident."""
    return meta.get(f"essay-{name}", meta.get(f"essay_{name}"))


def _strings(value: object) -> tuple[str, ...]:
    """A frontmatter value that may be one string or a list of them."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _bullet_form(lines: list[str]) -> tuple[str, list[tuple[str, str]], str]:
    instruction: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    draft_start: int | None = None
    for i, line in enumerate(lines):
        match = _BULLET_SECTION.match(line)
        if match:
            sections.append((match["lead"].strip(), [match["rest"].strip()]))
        elif not sections:
            instruction.append(line)
        elif not line.strip() or line[:1] in (" ", "\t"):
            sections[-1][1].append(line.strip())
        else:
            draft_start = i  # the first unindented line after the sections: the author's own text
            break
    draft = "\n".join(lines[draft_start:]).strip() if draft_start is not None else ""
    return _join(instruction), [(t, _join(q)) for t, q in sections], draft


def _heading_form(lines: list[str]) -> tuple[str, list[tuple[str, str]], str]:
    instruction: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        match = _HEADING_SECTION.match(line)
        if match:
            sections.append((match["title"], []))
        elif sections:
            sections[-1][1].append(line)
        else:
            instruction.append(line)
    return _join(instruction), [(t, _join(q)) for t, q in sections], ""


def _join(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip()


def _with_unique_slugs(sections: list[tuple[str, str]]) -> tuple[Section, ...]:
    result: list[Section] = []
    used: set[str] = set()
    for number, (title, questions) in enumerate(sections, start=1):
        clean = title.strip().rstrip(".:").strip()
        slug = slugify(clean) or f"section-{number}"
        if slug in used:
            slug = f"{slug}-{number}"
        used.add(slug)
        result.append(Section(slug, clean, questions))
    return tuple(result)
