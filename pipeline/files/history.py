"""Version history of one essay: find its drafts from what the user names, list them, diff two.

A TARGET is the prompt file, its drafts folder, or one draft file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import DraftError, UsageError
from pipeline.files.draftfile import DraftText, body_hash, parse
from pipeline.files.drafts import DraftFile, check_drafts_folder, essay_dir, list_versions

_DRAFT_NAME_HELP = "the prompt file (prompts/x.md), its drafts folder (drafts/x) or a draft (drafts/x/v002.md)"


@dataclass(frozen=True)
class Target:
    folder: Path  # drafts/<essay>
    versions: tuple[DraftFile, ...]
    chosen: DraftFile | None  # the draft file named, if one was
    prompt_path: Path | None  # the prompt file named, if one was


def resolve_target(target: Path, drafts_dir: Path, root: Path) -> Target:
    if target.is_dir():
        folder, chosen, prompt_path = target, None, None
    elif target.is_file() and target.parent.is_dir() and any(d.path == target for d in list_versions(target.parent)):
        folder, prompt_path = target.parent, None
        chosen = next(d for d in list_versions(folder) if d.path == target)
    elif target.is_file():
        check_drafts_folder(drafts_dir)
        folder, chosen, prompt_path = essay_dir(drafts_dir, target, root), None, target
    else:
        raise UsageError(f"{target} not found: name {_DRAFT_NAME_HELP}")
    versions = tuple(list_versions(folder))
    if not versions:
        raise UsageError(f"no drafts in {folder} yet: run `essay draft PROMPT` first")
    return Target(folder, versions, chosen, prompt_path)


def read_version(draft: DraftFile) -> DraftText:
    try:
        return parse(draft.path.read_text(encoding="utf-8"), draft.path.name)
    except (OSError, UnicodeDecodeError) as exc:
        raise DraftError(f"cannot read {draft.path}: {exc}") from None


@dataclass(frozen=True)
class VersionInfo:
    version: int
    path: Path
    created: str
    made_by: str
    model: str
    edited: bool | None  # None when the file holds no hash to compare with


def describe_versions(target: Target) -> list[VersionInfo]:
    infos = []
    for draft in target.versions:
        try:
            text = read_version(draft)
        except DraftError:
            infos.append(VersionInfo(draft.version, draft.path, "?", "unreadable frontmatter", "?", None))
            continue
        meta = text.meta
        made_by = meta.made_by
        if made_by == "regen":
            made_by = f"regen of section '{meta.regenerated or '?'}' from v{meta.parent or 0:03d}"
        stored = meta.body_hash
        infos.append(
            VersionInfo(
                version=draft.version,
                path=draft.path,
                created=(meta.created or "?").replace("T", " ")[:16],
                made_by=made_by,
                model=meta.model or "?",
                edited=None if stored is None else body_hash(text.body) != stored,
            )
        )
    return infos


def pick_version(target: Target, name: str) -> DraftFile:
    """A version by number: `2`, `v2` or `v002`."""
    digits = name.lower().removeprefix("v").removesuffix(".md")
    if not digits.isdigit():
        raise UsageError(f"'{name}' is not a version: use a number such as 2 or v002")
    found = next((d for d in target.versions if d.version == int(digits)), None)
    if found is None:
        have = ", ".join(f"v{d.version:03d}" for d in target.versions)
        raise UsageError(f"there is no v{int(digits):03d} in {target.folder}: it has {have}")
    return found


def diff_versions(target: Target, old: str | None, new: str | None) -> str:
    """A unified diff of two versions' text, without the frontmatter (by default the one before the
    latest, and the latest)."""
    if old is None and len(target.versions) < 2:
        raise UsageError(f"{target.folder} has only v{target.versions[0].version:03d}: nothing to compare it with")
    before = pick_version(target, old) if old else target.versions[-2]
    after = pick_version(target, new) if new else target.versions[-1]
    lines = difflib.unified_diff(
        _prose(before).splitlines(keepends=True),
        _prose(after).splitlines(keepends=True),
        fromfile=str(before.path),
        tofile=str(after.path),
    )
    return "".join(lines)


def _prose(draft: DraftFile) -> str:
    try:
        return read_version(draft).body
    except DraftError:  # frontmatter broken by hand: compare the whole file
        return draft.path.read_text(encoding="utf-8", errors="replace")
