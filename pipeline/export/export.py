"""`essay export`: one draft version, read and never written, becomes a file to publish.

The file appears whole or not at all (a temp file beside it, then renamed over it), so a rerun replaces the
export in one step. What essay wrote there is remembered (`.essay/exports.json`: path and hash), so a rerun
replaces its own export but never a file someone else wrote, or the export after the writer edited it: that
needs `--force`. A draft version or a plan is never a target.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.core.errors import UsageError
from pipeline.export.clean import CleanDraft, CleanOptions, clean_draft
from pipeline.export.links import RelativeLinks, inline_images
from pipeline.export.render import render_docx, render_html
from pipeline.files.drafts import DraftFile
from pipeline.files.history import read_version

Format = Literal["md", "html", "docx"]
FORMATS: dict[str, Format] = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}
_VERSION_NAME = re.compile(r"^v\d{3,}\.md$")


@dataclass(frozen=True)
class ExportOptions:
    sources: Literal["keep", "drop"] = "keep"
    flags: Literal["refuse", "drop"] = "refuse"
    links: Literal["label", "relative"] = "label"
    force: bool = False  # replace a file at the target that is not essay's own unedited export


@dataclass(frozen=True)
class Exported:
    path: Path
    draft: CleanDraft
    missing_links: tuple[str, ...] = ()  # with --links relative: wikilinks to notes found nowhere in the notes


def choose_format(to: str | None, out: Path | None) -> Format:
    """--to, or else what --out's name ends with, or else markdown; the two must agree when both are given."""
    implied = FORMATS.get(out.suffix.lower()) if out is not None and not out.is_dir() else None
    if to is None:
        return implied or "md"
    if to not in ("md", "html", "docx"):
        raise UsageError(f"--to {to} is not a format essay exports: use md, html or docx")
    if implied and implied != to:
        raise UsageError(f"--out {out} ends in {out.suffix} but --to is {to}: drop one, or make them agree")
    return to  # type: ignore[return-value]


def target_path(out: Path | None, exports_dir: Path, essay_name: str, fmt: Format) -> Path:
    """--out as given (a folder gets `<essay>.<ext>` inside it), or exports/<essay>.<ext> in the workspace."""
    if out is None:
        return exports_dir / f"{essay_name}.{fmt}"
    return out / f"{essay_name}.{fmt}" if out.is_dir() else out


def export_draft(
    draft: DraftFile,
    out: Path,
    fmt: Format,
    options: ExportOptions,
    *,
    notes_dir: Path,
    drafts_dir: Path,
    record: Path,
) -> Exported:
    """`record` is the file that remembers what essay exported where (in the workspace's .essay/)."""
    _refuse_protected(out, drafts_dir)
    href = RelativeLinks(notes_dir, out.parent) if options.links == "relative" else None
    image = inline_images(notes_dir) if fmt != "md" else None
    doc = read_version(draft)
    clean = clean_draft(doc, str(draft.path), CleanOptions(options.sources, options.flags, href, image, fmt != "md"))
    _refuse_foreign(out, record, options.force)
    if fmt == "docx":
        written = _replace_atomically(out, lambda temp: render_docx(clean, temp))
    else:
        data = (clean.markdown() if fmt == "md" else render_html(clean)).encode()
        written = _replace_atomically(out, lambda temp: temp.write_bytes(data))
    _remember(record, out, written)
    return Exported(out, clean, tuple(href.missing) if href else ())


def _refuse_protected(out: Path, drafts_dir: Path) -> None:
    resolved = out.resolve()
    ours = _VERSION_NAME.match(resolved.name) or resolved.name.startswith("plan")
    if ours and resolved.is_relative_to(drafts_dir.resolve()):
        raise UsageError(f"{out} is one of your drafts or plans, which essay never replaces: choose another --out")


def _refuse_foreign(out: Path, record: Path, force: bool) -> None:
    if force or not out.exists():
        return
    if out.is_dir():
        raise UsageError(f"{out} is a folder: name a file, or pass the folder as --out to export into it")
    known = _read_record(record).get(str(out.resolve()))
    if known != _file_hash(out):
        why = "has changed since essay exported it" if known else "was not written by essay export"
        raise UsageError(f"{out} {why}: nothing was replaced; pass --force to replace it, or choose another --out")


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> str:
    """Write through a temp file beside `path`, then rename it over `path`; returns the written file's hash."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {exc.filename}: {exc.strerror}") from None
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        digest = _file_hash(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)
    return digest


def _remember(record: Path, out: Path, digest: str) -> None:
    exported = _read_record(record) | {str(out.resolve()): digest}
    text = json.dumps(exported, indent=1, sort_keys=True) + "\n"
    _replace_atomically(record, lambda temp: temp.write_text(text, encoding="utf-8"))


def _read_record(record: Path) -> dict[str, str]:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
