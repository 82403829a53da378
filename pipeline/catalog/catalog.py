"""Recommended downloads for `essay models pull NAME`: GGUF instruct models of different sizes, permissive
licences only (Apache-2.0, MIT), each with the memory it needs to run here.

What was checked, and where (the Hub's own pages, read through a search index on 2026-12-01; no network here):
- repository, file name and licence: the repository's "Files and versions" listing and model card;
- sha256: the file's page ("Git LFS Details: SHA256 ...") at the pinned revision, or at `main` for Qwen's own
  repository, whose listing showed one upload of the file;
- size: only as the listing rounds it (e.g. "1.12 GB"); the exact byte count is not pinned, and is checked at
  download time against the Hub's `X-Linked-Size` (and the download against the sha256).
bartowski's repositories re-upload files under the same name (the 7B file has had several hashes), so their
entries pin the revision the hash was read at. If an entry's pinned hash and the Hub's ETag ever disagree the
pull stops, installs nothing and says so.

Memory: the file plus the KV cache at an 8,192-token window (f16), plus ~0.5 GB for llama.cpp itself: an
estimate from each model's layer and head counts, not a measurement.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

GB = 1_000_000_000
HEADROOM = 2 * GB  # memory left to the system, the editor and the sorting models


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    repo: str
    file: str
    revision: str
    sha256: str
    approx_size: int  # bytes, as the Hub's listing rounds it
    licence: str
    memory: int  # bytes it needs to run at an 8k window (estimate, see above)
    context_length: int  # tokens the model was trained for (its model card)
    note: str

    @property
    def source(self) -> str:
        return f"hf:{self.repo}/{self.file}"


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="qwen2.5-1.5b",
        repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        revision="main",
        sha256="6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e",  # confirmed (file page)
        approx_size=int(1.12 * GB),
        licence="Apache-2.0",
        memory=int(1.9 * GB),
        context_length=32_768,
        note="1.5B, the smallest and quickest here",
    ),
    CatalogEntry(
        name="smollm2-1.7b",
        repo="lmstudio-community/SmolLM2-1.7B-Instruct-GGUF",
        file="SmolLM2-1.7B-Instruct-Q4_K_M.gguf",
        revision="8e3b7e27a6253ac83ae6e7e307baabafcb2d1c71",
        sha256="48db74b86a7e5f1d177f8efbf9929aa3e42bdb07bdc338c14a380a90cd98bde6",  # confirmed at this revision
        approx_size=int(1.06 * GB),
        licence="Apache-2.0",
        memory=int(3.2 * GB),
        context_length=8_192,
        note="1.7B, the bundled model's family",
    ),
    CatalogEntry(
        name="phi-3.5-mini",
        repo="bartowski/Phi-3.5-mini-instruct-GGUF",
        file="Phi-3.5-mini-instruct-Q4_K_M.gguf",
        revision="4cd0c5148e612aa078f250862a4bffe4a10f5d38",
        sha256="e4165e3a71af97f1b4820da61079826d8752a2088e313af0c7d346796c38eff5",  # confirmed at this revision
        approx_size=int(2.39 * GB),
        licence="MIT",
        memory=int(6.1 * GB),
        context_length=131_072,
        note="3.8B, a 128k window",
    ),
    CatalogEntry(
        name="qwen2.5-7b",
        repo="bartowski/Qwen2.5-7B-Instruct-GGUF",
        file="Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        revision="f4b6063c19a94c15fe9031d8afbbb9df7ec8b93f",
        sha256="65b8fcd92af6b4fefa935c625d1ac27ea29dcb6ee14589c55a8f115ceaaa1423",  # confirmed at this revision
        approx_size=int(4.68 * GB),
        licence="Apache-2.0",
        memory=int(5.7 * GB),
        context_length=32_768,
        note="7B, the most capable here; slow on a CPU",
    ),
)


def catalog_entry(name: str) -> CatalogEntry | None:
    return next((e for e in CATALOG if e.name == name), None)


def machine_memory() -> int:
    """This machine's physical memory in bytes (0 where it cannot be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def best_fit(memory: int) -> CatalogEntry | None:
    """The most capable entry that runs in this memory with room to spare (the catalog is in order of size)."""
    fitting = [e for e in CATALOG if e.memory + HEADROOM <= memory]
    return max(fitting, key=lambda e: e.approx_size) if fitting else None
