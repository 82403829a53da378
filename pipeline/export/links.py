"""Obsidian's links, made plain: a `[[wikilink]]` becomes its label (or a relative markdown link), an embedded
image `![[photo.png]]` a markdown image, so no `[[` is left for a blog, Quartz or Hugo to show as text.

A link's label is what Obsidian shows: its alias (`[[content/ladder of abstraction|ladder of abstraction]]`),
else the target as typed, with a heading as `note > heading`.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

# `\|` is how a wikilink's alias is written inside a table.
_WIKILINK = re.compile(
    r"(?P<embed>!?)\[\[(?P<target>[^\[\]|#^\n]*)(?P<sub>[#^][^\[\]|\n]*)?(?:\\?\|(?P<alias>[^\[\]\n]*))?\]\]"
)
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif"})
# What a link names by its full file name; any other target is a note (`[[2025.06.19]]`, `[[v1.2 notes]]`).
_FILE_SUFFIXES = _IMAGE_SUFFIXES | {".md", ".pdf", ".canvas", ".mp3", ".m4a", ".wav", ".ogg", ".mp4", ".webm", ".mov"}
MAX_INLINE = 20 * 1024 * 1024  # bytes of one image put inside an HTML or Word file
_SIZE = re.compile(r"\d+(?:x\d+)?")  # `![[photo.png|300]]`: a width, not alt text

Href = Callable[[str], str]  # a wikilink's target (a note or an attachment) -> the URL to link it by


def convert_links(text: str, href: Href | None = None, image: Href | None = None) -> str:
    """Every wikilink and embed in `text` made plain: its label, or with `href`, a markdown link to it.
    An embedded image's source is `image(target)`, else `href(target)`, else the target as written."""

    def replace(match: re.Match[str]) -> str:
        target = match["target"].rstrip("\\").strip()
        sub = (match["sub"] or "").rstrip("\\").strip()
        if sub.startswith(("#^", "^")):  # a link to a block: no heading any other reader knows
            sub = ""
        alias = (match["alias"] or "").strip()
        if match["embed"] and Path(target).suffix.lower() in _IMAGE_SUFFIXES:
            alt = "" if _SIZE.fullmatch(alias) else alias
            url = (image or href or quote)(target)
            return f"![{_escape(alt or Path(target).stem)}]({url})"
        label = alias or _shown(target, sub)
        if href is None:
            return label
        url = (href(target) if target else "") + (heading_anchor(sub[1:]) if sub.startswith("#") else "")
        return f"[{_escape(label)}]({url or '#'})"

    return _WIKILINK.sub(replace, text)


def wikilinks_in(text: str) -> list[str]:
    """The targets of the wikilinks in `text`, as written (`daily/2026-01-12`)."""
    return [m["target"].rstrip("\\").strip() for m in _WIKILINK.finditer(text) if not m["embed"]]


def without_wikilinks(text: str) -> str:
    return _WIKILINK.sub("", text)


def heading_anchor(heading: str) -> str:
    """`#heading` as Quartz, Hugo and GitHub spell a heading's id: lowercase, punctuation gone, spaces as hyphens."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
    return f"#{slug}" if slug else ""


class RelativeLinks:
    """Links from a file written in `out_dir` to the notes and attachments under `notes_dir`, found as Obsidian
    finds them: the path from the vault's root, or a bare name anywhere in it. A target found nowhere is linked
    where it would be, and listed in `missing`."""

    def __init__(self, notes_dir: Path, out_dir: Path) -> None:
        self.root = notes_dir.resolve()
        self.out_dir = out_dir.resolve()
        self.missing: list[str] = []
        self._found: dict[str, Path] = {}

    def __call__(self, target: str) -> str:
        if target not in self._found:
            self._found[target] = _locate(self.root, target)
            if not self._found[target].is_file():
                self.missing.append(target)
        relative = os.path.relpath(self._found[target], self.out_dir)
        return quote(relative.replace(os.sep, "/"))


def inline_images(notes_dir: Path) -> Href:
    """Images as `data:` URIs, read from the notes, so an HTML or Word file carries its pictures itself; an
    image that is not found (or too big to inline) keeps its name."""
    root = notes_dir.resolve()

    def source(target: str) -> str:
        path = _locate(root, target)
        kind = mimetypes.guess_type(path.name)[0]
        try:
            if kind and path.is_file() and path.resolve().is_relative_to(root) and path.stat().st_size <= MAX_INLINE:
                return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"
        except OSError:
            pass
        return quote(target)

    return source


def _locate(root: Path, target: str) -> Path:
    named = target if Path(target).suffix.lower() in _FILE_SUFFIXES else f"{target}.md"
    direct = root / named
    if direct.is_file() or "/" in target:
        return direct
    return next((p for p in sorted(root.rglob(named)) if p.is_file()), direct)


def _shown(target: str, sub: str) -> str:
    heading = sub[1:].strip() if sub.startswith("#") else ""
    if not target:
        return heading
    return f"{target} > {heading}" if heading else target


def _escape(label: str) -> str:
    return label.replace("[", r"\[").replace("]", r"\]")
