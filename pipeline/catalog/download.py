"""`essay models pull NAME`: download a GGUF from the Hugging Face Hub, resumably, verified, installed atomically.

huggingface_hub's own download deletes a failed download's temporary file and checks the size, not the hash, so
this keeps its own `.part` file (essay's cache, `models/.partial/`) and, beside it, what the part is expected to
become (sha256 and size). Interrupted at any moment (Ctrl-C, kill -9, a dropped connection), the next pull of the
same file continues from the bytes on disk with an HTTP Range request; a dropped connection is resumed the same way
within the run, twice. The whole file is then hashed: a sha256 that is not the catalog's pinned one or the Hub's
(`X-Linked-Etag`) deletes the download and installs nothing. Only then are the manifest and the file moved into
place (pipeline/models/pulled.py), so `essay models` never lists a model that is not whole.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.catalog.catalog import catalog_entry
from pipeline.catalog.hub import HubFile, file_info, hub_client, unreachable
from pipeline.core.errors import DownloadError, UsageError
from pipeline.embeddings.weights import sha256
from pipeline.models.pulled import PulledModel, check_name, find_pulled, install, models_dir

CHUNK = 1 << 16
SPARE_BYTES = 64 << 20  # beyond the file: a disk filled to the last byte helps nobody
RESUMES = 2  # a connection dropped mid-file is picked up again this many times in one run


class PullDisplay:
    """What a pull reports as it goes; the CLI draws a progress bar. Every method may be left as it is."""

    def on_start(self, name: str, total: int, have: int) -> None: ...

    def on_bytes(self, count: int) -> None: ...

    def on_note(self, message: str) -> None: ...


@dataclass(frozen=True)
class Wanted:
    name: str
    repo: str
    file: str
    revision: str
    pinned: str | None  # the catalog's sha256, where it has one
    context_length: int | None


def wanted(spec: str) -> Wanted:
    """A catalog name, or `hf:OWNER/REPO/FILE.gguf` (named after the file, lowercased)."""
    if entry := catalog_entry(spec):
        return Wanted(entry.name, entry.repo, entry.file, entry.revision, entry.sha256, entry.context_length)
    if spec.startswith("hf:"):
        parts = spec[3:].strip("/").split("/")
        if len(parts) >= 3 and parts[-1].lower().endswith(".gguf") and all(parts):
            file = "/".join(parts[2:])
            name = re.sub(r"[^a-z0-9._-]+", "-", Path(file).stem.lower()).strip("-.") or "model"
            return Wanted(check_name(name), f"{parts[0]}/{parts[1]}", file, "main", None, None)
        raise UsageError(
            f"'{spec}' is not hf:OWNER/REPO/FILE.gguf "
            "(for example hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf)"
        )
    raise UsageError(
        f"no model '{spec}' in the catalog: `essay models` lists it; any GGUF on the Hub is hf:OWNER/REPO/FILE.gguf"
    )


def pull(spec: str, display: PullDisplay | None = None) -> PulledModel:
    display = display or PullDisplay()
    want = wanted(spec)
    if (have := find_pulled(want.name)) is not None:
        if (have.repo, have.file) != (want.repo, want.file):
            raise UsageError(
                f"a model named {want.name} is already pulled from {have.source}: `essay models rm {want.name}` first"
            )
        display.on_note(f"{want.name} is already pulled and verified")
        return have
    partial = models_dir() / ".partial"
    partial.mkdir(parents=True, exist_ok=True)
    with _only_pull_of(partial / f"{want.name}.lock", want.name), hub_client() as client:
        hub = file_info(client, want.repo, want.file, want.revision)
        expected = want.pinned or hub.sha256
        if want.pinned and hub.sha256 and hub.sha256 != want.pinned:
            raise DownloadError(
                f"the Hub's {want.repo}/{want.file} (sha256 {hub.sha256[:12]}…) is not the file the catalog pinned "
                f"({want.pinned[:12]}…): nothing was downloaded; pull hf:{want.repo}/{want.file} to take the Hub's"
            )
        if expected is None:
            raise DownloadError(
                f"the Hub publishes no sha256 for {want.repo}/{want.file}: essay installs nothing it cannot check"
            )
        part = partial / f"{want.name}.gguf.part"
        _forget_other_download(part, expected, hub.size)
        _check_space(partial, hub.size - _size(part))
        display.on_start(want.name, hub.size, _size(part))
        _fetch(client, hub, part, display)
        display.on_note("checking sha256…")
        got = sha256(part)
        if got != expected:
            part.unlink(missing_ok=True)
            _expectation(part).unlink(missing_ok=True)
            raise DownloadError(
                f"{want.repo}/{want.file} does not match its published sha256 (expected {expected[:12]}…, got "
                f"{got[:12]}…): the download was deleted and nothing installed; run the pull again"
            )
        model = PulledModel(want.name, want.repo, want.file, hub.commit, got, hub.size, want.context_length)
        install(model, part)
        _expectation(part).unlink(missing_ok=True)
        return model


def _fetch(client: httpx.Client, hub: HubFile, part: Path, display: PullDisplay) -> None:
    for attempt in range(RESUMES + 1):
        have = _size(part)
        if have == hub.size:
            return
        headers = {"range": f"bytes={have}-"} if have else {}
        try:
            with client.stream("GET", hub.url, headers=headers, follow_redirects=True, timeout=60.0) as response:
                if response.status_code == 416:  # nothing left to send: the part is whole, or wrong (the hash says)
                    return
                if response.status_code >= 400:
                    raise DownloadError(
                        f"the Hub answered HTTP {response.status_code} for the download: try again later"
                    )
                resumed = response.status_code == 206 and _range_start(response) == have
                if have and not resumed:
                    display.on_note("the server does not resume downloads: starting again from the first byte")
                    display.on_start(part.stem, hub.size, 0)
                with part.open("ab" if resumed else "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        display.on_bytes(len(chunk))
        except httpx.HTTPError as exc:
            if attempt == RESUMES:
                kept = _size(part)
                raise DownloadError(
                    f"{unreachable(exc)}; {kept // (1 << 20)} MB of {hub.size // (1 << 20)} MB are kept: run the same "
                    "pull again to continue"
                ) from None
            display.on_note(f"the connection dropped ({type(exc).__name__}): resuming")
    if _size(part) != hub.size:
        raise DownloadError(
            f"the download ended at {_size(part)} of {hub.size} bytes: run the same pull again to continue"
        )


def _forget_other_download(part: Path, sha256: str, size: int) -> None:
    """A part of another file (the Hub's file changed since) is no start for this one."""
    note = _expectation(part)
    try:
        before = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = None
    if before != {"sha256": sha256, "size": size} or _size(part) > size:
        part.unlink(missing_ok=True)
        note.write_text(json.dumps({"sha256": sha256, "size": size}), encoding="utf-8")


def _expectation(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if needed + SPARE_BYTES > free:
        raise DownloadError(
            f"not enough disk space in {folder.parent}: the model needs {needed / 1e9:.2f} GB more, "
            f"{free / 1e9:.2f} GB are free; free some space, or set XDG_CACHE_HOME to a disk that has it"
        )


@contextmanager
def _only_pull_of(lock: Path, name: str) -> Iterator[None]:
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by the kernel however this process ends
        except BlockingIOError:
            raise UsageError(f"another `essay models pull` of {name} is under way: wait for it to finish") from None
        yield


def _range_start(response: httpx.Response) -> int | None:
    found = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
    return int(found[1]) if found else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
