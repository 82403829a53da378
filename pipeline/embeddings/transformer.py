"""A sentence-transformer encoder run in plain numpy: the parts BERT (MiniLM) and MPNet share.

Tokenise with `tokenizers`, batch texts of similar length, run the model's forward pass (each subclass
has its own), mean-pool over real tokens. No torch: the weights are read with `safetensors.numpy`.
EmbeddingGemma (pipeline/embeddings/gemma.py) has its own loader but batches and pools with `mean_pooled`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import Embedder, WeightsUnreadable

MAX_TOKENS = 128  # the length these models were trained at; note fragments are far shorter
BATCH = 32
FORWARD_VERSION = 1  # bump when the forward pass or MAX_TOKENS changes: kept vectors are then made afresh


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU as BERT uses it; erf from Abramowitz-Stegun 7.1.26 (error < 1.5e-7), numpy has none."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1 - poly * np.exp(-z * z))
    return (0.5 * x * (1 + erf)).astype(np.float32)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Scaled dot-product attention over (batch, heads, length, size) arrays; `bias` masks padding (and,
    for MPNet, carries the relative-position bias)."""
    scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(q.shape[-1])) + bias
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    attn = scores / scores.sum(axis=-1, keepdims=True)
    batch, heads, length, size = v.shape
    return (attn @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)


class Encoder:
    """Weights, tokenizer and batching; `encode` turns texts into mean-pooled (unnormalised) rows."""

    pad_id = 0

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(str(model_dir / "model.safetensors"))
        # Pre-transpose linear weights once (torch stores them out x in) so each layer is a plain x @ W.
        self.w = {k: (v.T.copy() if v.ndim == 2 and ".layer." in k else v) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # padding is per length-sorted batch, not to a fixed 128

    def encode(self, texts: list[str]) -> np.ndarray:
        return mean_pooled(texts, self.tokenizer.encode_batch(texts), self.hidden, BATCH, self._forward, self.pad_id)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token states of the last layer, (batch, length, hidden)."""
        raise NotImplementedError

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _split_heads(self, x: np.ndarray) -> np.ndarray:
        batch, length, hidden = x.shape
        return x.reshape(batch, length, self.heads, hidden // self.heads).transpose(0, 2, 1, 3)


def mean_pooled(
    texts: list[str],
    encodings: list,  # tokenizers' Encoding of each text
    hidden: int,
    batch: int,
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray],
    pad_id: int = 0,
) -> np.ndarray:
    """Each text's last-layer token states from `forward(ids, mask)`, averaged over its real tokens
    (unnormalised). Texts of similar length are batched together, so padding (wasted work) stays small. An
    empty text stays a zero row (as with WordLlama) rather than the embedding of the bare special tokens."""
    out = np.zeros((len(texts), hidden), dtype=np.float32)
    order = sorted((i for i in range(len(texts)) if texts[i].strip()), key=lambda i: len(encodings[i].ids))
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        width = max(len(encodings[i].ids) for i in chunk)
        ids = np.full((len(chunk), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.float32)
        for row, i in enumerate(chunk):
            ids[row, : len(encodings[i].ids)] = encodings[i].ids
            mask[row, : len(encodings[i].ids)] = 1.0
        x = forward(ids, mask)
        out[chunk] = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
    return out


def embedder_of(model: type[Encoder], model_dir: Path, name: str, weights: str) -> Embedder:
    """An Embedder running `model` on the weights in `model_dir` (`weights` names their version); weights
    that will not load are a clear miss."""
    try:
        encoder = model(model_dir)
    except Exception as exc:  # safetensors and tokenizers raise their own types for a damaged file
        raise WeightsUnreadable(f"the {name} weights in {model_dir} did not load: {exc}") from exc
    return Embedder(encoder.encode, f"{name} (numpy)", f"{name}:{weights}:forward-{FORWARD_VERSION}")


def loaded_once(load: Callable[[], Embedder]) -> Callable[[], Embedder]:
    """`load`, run once per process even when threads ask at the same moment (two copies of MPNet in memory
    are 1.75 GB). A load that fails is tried again next time; `cache_clear` forgets the loaded model."""
    lock = threading.Lock()
    loaded: list[Embedder] = []

    def get() -> Embedder:
        with lock:
            if not loaded:
                loaded.append(load())
            return loaded[0]

    get.cache_clear = loaded.clear  # type: ignore[attr-defined]
    return get
