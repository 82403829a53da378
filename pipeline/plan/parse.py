"""Reading the author's edited plan back (the format: pipeline/plan/planfile.py); what cannot be read is one error
line that names the line and the fix."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import yaml

from pipeline.collect.prompt import Section
from pipeline.plan.marks import split_mark
from pipeline.plan.planfile import (
    CHECKBOX,
    FORMAT,
    FRONTMATTER,
    KEPT_NOTE,
    KEPT_TITLE,
    LEFT_OUT_TITLE,
    UNUSED_TITLE,
    Plan,
    PlanError,
    PlanItem,
    PlanSection,
    unix_newlines,
)

_HEADING = re.compile(r"^##(?:[ \t]+(?P<title>.*?))??(?:[ \t]+#+)?[ \t]*$")
# A list marker at column 0, then an optional checkbox; the marker's width is the indent of its continuation.
_ITEM = re.compile(r"^(?P<marker>(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$))(?P<box>\[[ xX]\](?:[ \t]+|$))?")
_COMMENT_LINE = re.compile(r"^<!--.*-->[ \t]*$")
# The item's trailing metadata: `([[path|alias]])` or `(your draft)`, then the fragment id.
_ID_COMMENT = r"<!--\s*f:(?P<id>[\w-]+)(?P<private>\s+private)?\s*-->"
_META = re.compile(
    r"(?:\s*\((?:\[\[(?P<path>[^\[\]|]+)(?:\|[^\[\]]*)?\]\]|(?P<own>your draft))\))?"
    rf"\s*{_ID_COMMENT}\s*\Z"
)
_ENDS_WITH_ID = re.compile(_ID_COMMENT + r"\s*\Z")
_LEFT_OUT = re.compile(r"^[-*+][ \t]+(\d+) fragments?: (.+?)[ \t]*$")
_NUMBER = re.compile(r"^\d+[.):]?\s+")


def fragment_ids(text: str) -> frozenset[str]:
    """The fragment ids of every item in `text` (a list written by `render_item`)."""
    return frozenset(m["id"] for m in re.finditer(_ID_COMMENT, text))


def parse_plan(text: str, name: str, sections: Sequence[Section]) -> Plan:
    text = unix_newlines(text.lstrip("\ufeff"))
    meta, body, first_line = _frontmatter(text, name)
    _check_not_cut(body, first_line, name)
    blocks = _blocks(body, first_line, name, sections)
    if not any(kind == UNUSED_TITLE for kind, _ in blocks):  # cut at a line's end: the closing part is gone
        last = first_line + len(body.rstrip().split("\n")) - 1
        raise _at(
            name,
            last,
            f"the plan ends here and has lost its closing part, the '## {UNUSED_TITLE}' heading (a half-saved "
            "file?): restore the rest, or put that heading back at its end if the plan is whole",
        )
    found: dict[str, PlanSection] = {}
    unused: tuple[PlanItem, ...] = ()
    unused_direction = ""
    kept_directions: list[str] = []
    kept: list[PlanItem] = []
    left_out: list[tuple[str, int]] = []
    for kind, lines in blocks:
        if kind == LEFT_OUT_TITLE:
            left_out += [(m[2], int(m[1])) for _, line in lines if (m := _LEFT_OUT.match(line))]
            # Anything else the author wrote there is theirs: kept under a heading of its own.
            theirs = [(n, line) for n, line in lines if not _LEFT_OUT.match(line)]
            direction, items = _read_list(theirs, name, strict=False)
        else:
            direction, items = _read_list(lines, name)
        if kind in (LEFT_OUT_TITLE, KEPT_TITLE):
            kept_directions.append("\n".join(line for line in direction.split("\n") if line.strip() != KEPT_NOTE))
            kept += items
        elif kind == UNUSED_TITLE:
            unused, unused_direction = items, _tidy(direction)
        elif isinstance(kind, Section):
            found[kind.slug] = PlanSection(kind.slug, kind.title, direction, None, items)
    planned = tuple(found.get(s.slug) or PlanSection(s.slug, s.title) for s in sections)  # deleted: no material
    header = str(meta["prompt"]), str(meta.get("prompt_hash") or ""), _string(meta.get("created"))
    kept_direction = _tidy("\n\n".join(kept_directions))
    authors = {"unused_direction": unused_direction, "kept": tuple(kept), "kept_direction": kept_direction}
    return Plan(*header, planned, unused, tuple(left_out), **authors)


def _check_not_cut(body: str, first_line: int, name: str) -> None:
    """A file cut short mid-line (a half-saved plan) ends in an item whose link or id comment never closes."""
    last = body.rstrip("\n").rsplit("\n", 1)[-1]
    if body.endswith("\n") or not (last.count("<!--") > last.count("-->") or last.count("[[") > last.count("]]")):
        return
    number = first_line + body.count("\n")
    raise _at(
        name,
        number,
        f"the plan ends mid-item ('{_short(last)}'; a half-saved file?): restore the rest of the plan, "
        "or finish or delete that line",
    )


def _frontmatter(text: str, name: str) -> tuple[dict[str, Any], str, int]:
    """The frontmatter, the body and the file's line number of the body's first line."""
    match = FRONTMATTER.match(text)
    if not text.strip() or (match and not text[match.end() :].strip()):
        raise PlanError(f"{name} is empty: delete it and run `essay plan` again, or restore it")
    if not match:
        raise PlanError(
            f"{name} has no frontmatter (the block between '---' lines at its top): "
            "restore it, or delete the file and run `essay plan` again"
        )
    try:
        meta = yaml.safe_load(match[1])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark else ""
        raise PlanError(
            f"{name}{where}: its frontmatter is not valid YAML: fix it, or delete the file and run `essay plan` again"
        ) from None
    if not isinstance(meta, dict) or "essay_plan" not in meta:
        raise PlanError(f"{name} is not a plan file (its frontmatter has no `essay_plan`): pass one `essay plan` wrote")
    if str(meta["essay_plan"]) != str(FORMAT):
        raise PlanError(
            f"{name} is a plan of format {meta['essay_plan']!r}; this essay reads format {FORMAT}: "
            "run `essay plan` again, or update essay"
        )
    if not meta.get("prompt"):
        raise PlanError(f"{name}: its frontmatter has no `prompt`: restore it, or run `essay plan` again")
    return meta, text[match.end() :], match[0].count("\n") + 1


def _blocks(body: str, first_line: int, name: str, sections: Sequence[Section]) -> list[tuple[Any, list]]:
    """The body cut at its `## ` headings: (what the heading is, its numbered lines); the part above is checked."""
    by_key: dict[str, list[Section]] = {}
    for section in sections:  # two sections with one title: the first heading is the first section
        by_key.setdefault(_key(section.title), []).append(section)
    blocks: list[tuple[Any, list[tuple[int, str]]]] = [("preamble", [])]
    seen: dict[Any, int] = {}
    for number, line in enumerate(body.split("\n"), start=first_line):
        heading = _HEADING.match(line)
        if not heading:
            blocks[-1][1].append((number, line))
            continue
        title = heading["title"] or ""
        keys = {_key(title), _key(_NUMBER.sub("", title.strip()))}
        twins = next((by_key[k] for k in keys if k in by_key), [])
        kind = next((s for s in twins if s not in seen), twins[0] if twins else None)
        kind = kind or next((t for t in (UNUSED_TITLE, KEPT_TITLE, LEFT_OUT_TITLE) if _key(t) in keys), None)
        if kind is None:
            titles = ", ".join(f"'{s.title.lower()}'" for s in sections)
            advice = f"rename it to one of {titles}, '{UNUSED_TITLE}', or move its items and delete it"
            raise _at(name, number, f"heading '{_short(line)}' is no section of the prompt: {advice}")
        if kind in seen and kind != LEFT_OUT_TITLE:
            advice = "move its items under that one and delete it"
            raise _at(name, number, f"'{_short(line)}' repeats the heading on line {seen[kind]}: {advice}")
        seen[kind] = number
        blocks.append((kind, []))
    for number, line in blocks[0][1]:
        if _ITEM.match(line) and line[1:].strip():
            advice = "move it under the section it belongs to"
            raise _at(name, number, f"'{_short(line)}' is above the first section heading: {advice}")
    return blocks[1:]


def _read_list(lines: list[tuple[int, str]], name: str, *, strict: bool = True) -> tuple[str, tuple[PlanItem, ...]]:
    """The direction (the lines before the first item) and the items under one heading. Not `strict`, a line
    that is no item is read as part of the item above."""
    direction: list[str] = []
    items: list[tuple[int, list[str], str]] = []  # (continuation indent, lines, checkbox)
    for number, line in lines:
        if _COMMENT_LINE.match(line):
            continue  # a comment the author left: invisible in preview, so never an error
        item = _ITEM.match(line)
        if not item and _indented_item(line, items):
            line = line.lstrip()  # an item of its own the author (or Obsidian's Tab key) indented
            item = _ITEM.match(line)
        if item:
            box = (item["box"] or "").strip()
            items.append((len(item["marker"].expandtabs(4)), [line[item.end() :]], box))
        elif not items:
            direction.append(line)
        elif not line or line[0] in " \t" or not strict:
            indent, item_lines, _ = items[-1]
            item_lines.append(_dedent(line, indent))
        else:
            advice = "start it with '- ' or indent it under the item above"
            raise _at(name, number, f"'{_short(line)}' is not a list item: {advice}")
    parsed = [_item("\n".join(item_lines), box) for _, item_lines, box in items]
    return "\n".join(direction), tuple(item for item in parsed if item.text or item.fragment_id)


def _indented_item(line: str, items: list[tuple[int, list[str], str]]) -> bool:
    """An indented list item that carries its own fragment id and is no sub-item of the one above: indented by a
    tab (`render_item` indents with spaces, Obsidian's Tab key with a tab), or with no item open to take it."""
    if line[:1] not in (" ", "\t") or not _ITEM.match(line.lstrip()) or not _ENDS_WITH_ID.search(line):
        return False
    return line[0] == "\t" or not items or _ENDS_WITH_ID.search("\n".join(items[-1][1]).rstrip()) is not None


def _item(raw: str, box: str = "") -> PlanItem:
    meta = _META.search(raw)
    mark, body = split_mark(raw[: meta.start()]) if meta else ("", raw)  # only the plan marks its own items
    if box == "[ ]" and CHECKBOX.match(body):
        box = ""  # the box `render_item` put in front of a text that starts with one
    if not meta:
        return PlanItem(body, None, None, box=box)
    path = None if meta["own"] or not meta["path"] else meta["path"].strip() + ".md"
    own, private = bool(meta["own"]), bool(meta["private"])
    return PlanItem(body, meta["id"], path, by_author=own, private=private, box=box, mark=mark)


def _dedent(line: str, indent: int) -> str:
    """The line without the indent that puts it under its item (a tab counts as the whole indent)."""
    if line.startswith("\t"):
        return line[1:]
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def _key(title: str) -> str:
    """A heading as compared with a section title: no case, no punctuation."""
    return re.sub(r"[\W_]+", " ", title.lower()).strip()


def _tidy(direction: str) -> str:
    return "\n".join(line.rstrip() for line in direction.split("\n")).strip()


def _string(value: object) -> str:
    # An author who unquotes `created` gets a YAML timestamp back; keep it in the form it was written.
    return value.isoformat() if isinstance(value, date) else str(value or "")


def _at(name: str, number: int, message: str) -> PlanError:
    return PlanError(f"{name} line {number}: {message}")


def _short(line: str, limit: int = 60) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
