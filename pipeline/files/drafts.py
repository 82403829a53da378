"""Write: a draft becomes drafts/<prompt>/vNNN.md, a new version every time, never overwritten.

A version appears whole or not at all: the text goes to a temp file in the same folder, then is
hard-linked to its final name, which fails if that name exists, so two concurrent runs can never
take the same version (the loser takes the next one). Temp files of dead runs are swept away.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml

from pipeline.core.errors import DraftError
from pipeline.core.text import slugify

_VERSION_NAME = re.compile(r"^v(\d{3,})\.md$")
_PROMPT_LINE = re.compile(r"^prompt: *(.+)$", re.M)
_TITLE_LINE = re.compile(r"^title: *(.+)$", re.M)
_HASH_LINE = re.compile(r"^prompt_hash: *(\w+)", re.M)
_TEMP_NAME = re.compile(r"^\.v\d+\.md\.(\d+)\.\w+\.tmp$")


@dataclass(frozen=True)
class DraftFile:
    path: Path
    version: int


def prompt_ref(prompt_path: Path, root: Path) -> str:
    """How drafts name their prompt: relative to the workspace when inside it."""
    resolved = prompt_path.resolve()
    base = root.resolve()
    return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else resolved.as_posix()


def check_drafts_folder(drafts_dir: Path) -> None:
    """Before any call is spent: the drafts folder is a folder, or one can be made where it is named."""
    here = drafts_dir.absolute()
    while not here.exists() and here.parent != here:
        if here.is_symlink():
            raise DraftError(f"the drafts folder {drafts_dir} cannot be created: {here} is a broken link; fix it or "
                             "pass --drafts another folder")  # fmt: skip
        here = here.parent
    if not here.is_dir():
        what = "is a file" if here == drafts_dir.absolute() else f"cannot be created: {here} is a file"
        raise DraftError(f"the drafts folder {drafts_dir} {what}, not a folder: pass --drafts a folder")
    if not os.access(here, os.W_OK | os.X_OK):
        created = "cannot be written" if here == drafts_dir.absolute() else f"cannot be created in {here}"
        raise DraftError(f"the drafts folder {drafts_dir} {created} (permission denied): pass --drafts another folder")


def essay_dir(drafts_dir: Path, prompt_path: Path, root: Path) -> Path:
    """drafts/<slug of the prompt's name>, kept inside drafts/. A folder, once made, stays its prompt's:
    where another prompt owns the slug's folder (two names that slug alike), a number is added. A prompt
    renamed keeps its folder (`renamed_folder`), so its plan and drafts carry on."""
    base = slugify(prompt_path.stem) or "essay"
    ref = prompt_ref(prompt_path, root)
    root_dir = drafts_dir.resolve()
    for number in itertools.count(1):
        folder = drafts_dir / (base if number == 1 else f"{base}-{number}")
        if not folder.resolve().is_relative_to(root_dir):
            raise DraftError(f"{folder} points outside {drafts_dir} (a symlink?): remove it or pick another --drafts")
        owner = folder_owner(folder)
        if owner == ref:
            return folder
        if owner is None:
            return renamed_folder(drafts_dir, prompt_path, root) or folder
    raise AssertionError("unreachable")


def renamed_folder(drafts_dir: Path, prompt_path: Path, root: Path) -> Path | None:
    """The one folder that is this prompt's under an old name: no prompt still there names it, and a file in
    it names this prompt already, its plan was made from these very bytes, or its latest draft has this title."""
    ref = prompt_ref(prompt_path, root)
    try:
        data = prompt_path.read_bytes()
        title = str(frontmatter.loads(data.decode("utf-8-sig")).metadata.get("title") or "").strip()
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
        return None
    digest = hashlib.sha256(data).hexdigest()[:16]
    folders = sorted(p for p in drafts_dir.iterdir() if p.is_dir()) if drafts_dir.is_dir() else []
    found = []
    for folder in folders:
        heads = _heads(folder)
        claims = {m[1].strip().strip("'\"") for head in heads.values() for m in _PROMPT_LINE.finditer(head)}
        if ref not in claims and any((root / claim).is_file() for claim in claims):
            continue  # a prompt that is still there names it: it is that prompt's
        plan = heads.get("plan.md", "")
        latest = next((heads[d.path.name] for d in reversed(list_versions(folder)) if d.path.name in heads), "")
        same_bytes = (m := _HASH_LINE.search(plan)) is not None and m[1] == digest
        same_title = bool(title) and (m := _TITLE_LINE.search(latest)) is not None and _unquote(m[1]) == title
        if claims and (ref in claims or same_bytes or same_title):
            found.append(folder)
    return found[0] if len(found) == 1 else None  # two candidates: neither is taken on a guess


def _heads(folder: Path) -> dict[str, str]:
    """The frontmatter of each file in an essay folder that names its prompt, by file name."""
    heads = {}
    for path in [d.path for d in list_versions(folder)] + [p for p in (folder / "plan.md",) if p.is_file()]:
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            continue
        heads[path.name] = head.split("\n---", 1)[0] if head.startswith("---") else ""
    return heads


def _unquote(value: str) -> str:
    try:
        return str(yaml.safe_load(value)).strip()
    except yaml.YAMLError:
        return value.strip()


def folder_owner(folder: Path) -> str | None:
    """The prompt an essay folder belongs to, as its oldest file's frontmatter names it; None if unclaimed."""
    files = [d.path for d in list_versions(folder)] + [p for p in (folder / "plan.md",) if p.is_file()]
    for path in files:
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            continue
        found = _PROMPT_LINE.search(head)
        if found:
            return found[1].strip().strip("'\"")
    return None


def list_versions(folder: Path) -> list[DraftFile]:
    if not folder.is_dir():
        return []
    found = [DraftFile(p, int(m[1])) for p in folder.iterdir() if (m := _VERSION_NAME.match(p.name))]
    return sorted(found, key=lambda d: d.version)


def next_version(folder: Path) -> int:
    versions = list_versions(folder)
    return versions[-1].version + 1 if versions else 1


def write_new_version(folder: Path, make_text: Callable[[int], str], *, temp_dir: Path | None = None) -> DraftFile:
    """Write the next free version atomically; `make_text(version)` gives the file's text.

    The temp file lives in `temp_dir` (the workspace's .essay/tmp) when given, so that a run killed
    mid-write leaves nothing in drafts/; it falls back to the draft's folder across filesystems.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if temp_dir is not None:
            temp_dir.mkdir(parents=True, exist_ok=True)
            sweep_stale_temp_files(temp_dir)
    except OSError as exc:
        raise DraftError(f"cannot create {exc.filename}: {exc.strerror}") from None
    sweep_stale_temp_files(folder)
    version = next_version(folder)
    scratch = temp_dir or folder
    while True:
        final = folder / f"v{version:03d}.md"
        temp = scratch / f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            _write_synced(temp, make_text(version))
            try:
                os.link(temp, final)  # fails if `final` exists: never overwrite
            except FileExistsError:
                version += 1
                continue
            except OSError as exc:
                if exc.errno == errno.EXDEV and scratch != folder:
                    scratch = folder  # the workspace and drafts/ are on different filesystems
                    continue
                if exc.errno not in (errno.EPERM, errno.ENOTSUP):
                    raise
                _claim_without_links(temp, final)
            _sync_dir(folder)
            return DraftFile(final, version)
        except FileExistsError:
            version += 1
        except OSError as exc:
            raise DraftError(f"cannot write {final}: {exc.strerror}") from None
        finally:
            temp.unlink(missing_ok=True)


def _claim_without_links(temp: Path, final: Path) -> None:
    """For filesystems without hard links: reserve the name exclusively, then replace it whole."""
    descriptor = os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.close(descriptor)
    os.replace(temp, final)


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sweep_stale_temp_files(folder: Path) -> None:
    """Remove temp files left by runs that were killed (their process is gone)."""
    for path in folder.iterdir():
        match = _TEMP_NAME.match(path.name)
        if match and not _process_alive(int(match[1])):
            path.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
