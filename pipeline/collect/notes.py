"""Collect: walk a notes folder and split each note into fragments.

A fragment is one paragraph, bullet group or heading block of one note. Its id is a hash of the
note's path and its text, so it is stable across runs and changes only when that text changes.
Bad files never stop a run: each gets one warning line naming the file and what was done.
Privacy fails closed: a `private` key in any case, with any value but a clear false, makes a note
private; Obsidian's hidden `%% comments %%` and HTML comments are never read as material; a file
symlinked from outside the notes folder is not read.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from pipeline.collect.fragments import split_body
from pipeline.core.errors import UsageError

# A 400 KB pasted log is not material for an essay: keep the start of a note up to this budget.
MAX_NOTE_CHARS = 20_000
DEFAULT_IGNORE = ("templates/*", "*/templates/*")
_DAILY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INLINE_TAG = re.compile(r"(?<![\w#/&])#([^\W\d_][\w/-]*)")  # Obsidian: any letter first
_HEADING = re.compile(r"^#{1,6}\s")
_FRONTMATTER_BLOCK = re.compile(r"\A---\s*\n.*?\n---\s*(\n|\Z)", re.S)
# Text the author hid from readers: Obsidian comments (an unclosed one hides the rest of the note)
# and HTML comments.
_HIDDEN = re.compile(r"%%.*?(?:%%|\Z)|<!--.*?(?:-->|\Z)", re.S)
_CLEAR_FALSE = {"false", "no", "off", "0"}
_CLEAR_TRUE = {"true", "yes", "on", "1"}


@dataclass(frozen=True)
class Fragment:
    id: str
    note_path: str  # relative to the notes folder, with forward slashes
    title: str
    date: str | None
    tags: tuple[str, ...]
    text: str
    private: bool = False
    context: str = ""  # the heading or label the text sits under in its note
    by_author: bool = False  # the author's own draft under the prompt: already in their voice


@dataclass(frozen=True)
class VoiceSample:
    """A note marked `voice: true`: the author's own finished writing, to match their voice."""

    note_path: str
    text: str
    private: bool = False


@dataclass(frozen=True)
class Notes:
    fragments: tuple[Fragment, ...]
    voice_samples: tuple[VoiceSample, ...] = ()
    warnings: tuple[str, ...] = ()
    note_count: int = 0


@dataclass
class _Note:
    path: str
    title: str
    date: str | None
    tags: list[str]
    body: str
    private: bool
    voice: bool
    warnings: list[str] = field(default_factory=list)


def collect_notes(
    notes_dir: Path,
    *,
    ignore: tuple[str, ...] = (),
    exclude: tuple[Path, ...] = (),
    private_globs: tuple[str, ...] = (),
) -> Notes:
    """Read every markdown note under `notes_dir` (skipping dot-folders, templates and `ignore` globs)."""
    if notes_dir.exists() and not notes_dir.is_dir():
        raise UsageError(f"the notes folder {notes_dir} is a file, not a folder: pass --notes the folder of your notes")
    if not notes_dir.is_dir():
        raise UsageError(f"notes folder not found: {notes_dir} (pass --notes DIR)")
    excluded = {p.resolve() for p in exclude}
    patterns = DEFAULT_IGNORE + tuple(ignore)
    root = notes_dir.resolve()
    fragments: list[Fragment] = []
    voice: list[VoiceSample] = []
    warnings: list[str] = []
    count = 0
    seen: set[Path] = set()
    for path in _markdown_files(notes_dir):
        rel = path.relative_to(notes_dir).as_posix()
        real = path.resolve()
        if any(path_matches(rel, p) for p in patterns) or real in excluded:
            continue
        if any(real.is_relative_to(e) for e in excluded if e.is_dir()):
            continue
        if not real.is_relative_to(root):
            warnings.append(f"{rel}: a link to a file outside the notes folder ({real}), skipped")
            continue
        if not _is_regular_file(real):  # a named pipe or a device would block the read forever
            warnings.append(f"{rel}: not a regular file (a pipe, socket or device), skipped")
            continue
        if real in seen:  # a link to a note read already under its other name
            continue
        seen.add(real)
        note = read_note(path, rel)
        warnings.extend(note.warnings if note else [f"{rel}: could not be read, skipped"])
        if note is None or not note.body.strip():
            continue
        count += 1
        # A link is as private as the note it points to, by that note's own path too.
        names = {rel, real.relative_to(root).as_posix()}
        private = note.private or any(private_match(name, p) for name in names for p in private_globs)
        if note.voice:
            voice.append(VoiceSample(rel, note.body.strip(), private))
        fragments.extend(split_note(note, private=private))
    return Notes(tuple(fragments), tuple(voice), tuple(warnings), count)


def path_matches(rel: str, pattern: str) -> bool:
    """A glob against a note's path: `*` crosses folders, `**/x` also matches x at the root, and a
    pattern without a slash matches the file's name at any depth (as in .gitignore)."""
    pattern = pattern.strip().lstrip("/")
    if fnmatch.fnmatch(rel, pattern):
        return True
    while pattern.startswith("**/"):
        pattern = pattern[3:]
        if fnmatch.fnmatch(rel, pattern):
            return True
    return "/" not in pattern and fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern)


def private_match(rel: str, pattern: str) -> bool:
    """A `[notes] private` glob against a note's path, failing closed: in any case (a Mac's folders are
    case-insensitive, so `Journal/` is `journal/`) and at every depth (`journal/*` holds `sub/journal/x.md`)."""
    rel, pattern = rel.lower(), pattern.lower()
    parts = rel.split("/")
    return any(path_matches("/".join(parts[start:]), pattern) for start in range(len(parts)))


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # a file that vanished or cannot be read gets read_note's own warning


def _markdown_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Prune in place: .obsidian/, .trash/, .git/ and the like are never notes.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "templates")
        found.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".md") and not f.startswith("."))
    return found


def read_note(path: Path, rel: str) -> _Note | None:
    """Read one note; every problem becomes a warning on the note rather than an exception."""
    warnings: list[str] = []
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_NOTE_CHARS * 4 + 1)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        return _Note(rel, rel, None, [], "", False, False, [f"{rel}: cannot be read ({exc.strerror}), skipped"])
    if b"\x00" in raw[:8192]:
        return _Note(rel, rel, None, [], "", False, False, [f"{rel}: binary content, skipped"])
    if not raw.strip():
        return _Note(rel, rel, None, [], "", False, False, [f"{rel}: empty, skipped"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("utf-8-sig", errors="replace")
        warnings.append(f"{rel}: not valid UTF-8, undecodable bytes replaced with \ufffd")
    if "\x00" in text:
        text = text.replace("\x00", "")
        warnings.append(f"{rel}: NUL bytes removed")
    meta, body = _split_frontmatter(text, rel, warnings)
    body = _HIDDEN.sub("", body)
    if size > MAX_NOTE_CHARS or len(body) > MAX_NOTE_CHARS:
        body = _cut(body, MAX_NOTE_CHARS)
        warnings.append(f"{rel}: {size // 1024} KB is too long, used the first {len(body) // 1024} KB")
    stem = Path(rel).stem
    title = str(meta.get("title") or _first_heading(body) or stem)
    return _Note(
        path=rel,
        title=title,
        date=_note_date(meta, stem, title),
        tags=_note_tags(meta.get("tags"), body),
        body=body,
        private=_is_private(meta, rel, warnings),
        voice=meta.get("voice") is True,
        warnings=warnings,
    )


def _split_frontmatter(text: str, rel: str, warnings: list[str]) -> tuple[dict, str]:
    try:
        post = frontmatter.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        warnings.append(f"{rel}: frontmatter is not valid YAML ({type(exc).__name__}), used the text without it")
        block = _FRONTMATTER_BLOCK.match(text)
        # The note may say it is private in the part that cannot be read: fail closed.
        flag = re.search(r"(?im)(?:^|[{,\s])[\"']?private[\"']?\s*:\s*([^,}\n]*)", block[0]) if block else None
        meta = {"private": flag[1].strip().strip("'\"")} if flag else {}
        return meta, _FRONTMATTER_BLOCK.sub("", text, count=1)
    return dict(post.metadata), post.content


def _is_private(meta: dict, rel: str, warnings: list[str]) -> bool:
    """`private` in any case, at any depth (`meta: {private: true}`), with any value but a clear false; a value
    that cannot be read is private."""
    values = list(_private_values(meta))
    if not values:
        return False
    private = False
    for value in values:
        if isinstance(value, bool):
            private |= value
        elif isinstance(value, (int, float)) and value in (0, 1):
            private |= value == 1
        elif isinstance(value, str) and value.strip().lower() in _CLEAR_FALSE | _CLEAR_TRUE:
            private |= value.strip().lower() in _CLEAR_TRUE
        else:
            warnings.append(f"{rel}: 'private: {value}' is not true or false, so the note is treated as private")
            private = True
    return private


def _private_values(value: object, depth: int = 0) -> Iterator[object]:
    """Every value of a `private` key in the frontmatter, nested in mappings and lists as deep as they go."""
    if depth > 20:  # YAML anchors can nest without end
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).strip().lower() == "private":
                yield inner
            else:
                yield from _private_values(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            yield from _private_values(inner, depth + 1)


def _cut(body: str, budget: int) -> str:
    """Cut at the last paragraph break inside the budget, or hard at the budget."""
    head = body[:budget]
    cut = head.rfind("\n\n")
    return head[:cut] if cut > budget // 2 else head


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        if _HEADING.match(line):
            return line.lstrip("#").strip()
    return None


def _note_date(meta: dict, stem: str, title: str) -> str | None:
    for key in ("date", "created"):
        value = meta.get(key)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()[:10]
        if isinstance(value, str) and value.strip():
            return value.strip()[:10]
    for candidate in (stem, title):
        if _DAILY_NAME.match(candidate):
            return candidate
    return None


def _note_tags(meta_tags: object, body: str) -> list[str]:
    if isinstance(meta_tags, str):
        tags = [t.strip().lstrip("#") for t in re.split(r"[,\s]+", meta_tags) if t.strip()]
    elif isinstance(meta_tags, list):
        tags = [str(t).lstrip("#") for t in meta_tags]
    else:
        tags = []
    tags.extend(_INLINE_TAG.findall(_outside_code(body)))
    return list(dict.fromkeys(tags))


def _outside_code(body: str) -> str:
    return re.sub(r"```.*?```|`[^`\n]*`", " ", body, flags=re.S)


def split_note(note: _Note, *, private: bool = False) -> list[Fragment]:
    """One fragment per thought: a paragraph, a bullet item with its sub-items, a loose line, a code block."""
    return fragments_of(note.path, note.title, note.body, date=note.date, tags=tuple(note.tags), private=private)


def fragments_of(path: str, title: str, body: str, **fields: Any) -> list[Fragment]:
    """Fragments of one text, with ids from its path and each piece's text: stable while the text stays."""
    fragments: list[Fragment] = []
    seen: dict[str, int] = {}
    for piece in split_body(body):
        digest = hashlib.sha1(f"{path}\n{piece.text}".encode()).hexdigest()[:10]
        seen[digest] = seen.get(digest, 0) + 1
        frag_id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        fragments.append(
            Fragment(
                id=frag_id,
                note_path=path,
                title=title,
                date=fields.get("date"),
                tags=fields.get("tags", ()),
                text=piece.text,
                private=fields.get("private", False),
                context=piece.context,
                by_author=fields.get("by_author", False),
            )
        )
    return fragments
