"""LM Studio's server (`--model lmstudio:NAME`): OpenAI-compatible at `/v1`, served by the `openai` provider's
code. Its own REST API, `/api/v0/models`, says the window a model is loaded with (`loaded_context_length`) and
the most it supports (`max_context_length`); requests are fitted to the first, since a longer prompt than the
loaded window is not run as sent."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

PROBE_SECONDS = 2.0


def api_root(base_url: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/").removesuffix("/v1"), "", ""))


def model_entries(base_url: str, timeout: float = PROBE_SECONDS) -> list[dict[str, Any]] | None:
    """`/api/v0/models`' entries, or None when the server does not answer it."""
    try:
        with urllib.request.urlopen(f"{api_root(base_url)}/api/v0/models", timeout=timeout) as response:
            data = json.loads(response.read(1 << 22))
    except Exception:  # refused, 404, not JSON: an older LM Studio or another server
        return None
    entries = data.get("data") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else None


def context_of(entry: dict[str, Any]) -> int | None:
    for key in ("loaded_context_length", "max_context_length"):
        value = entry.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def loaded_context(base_url: str, model: str) -> int | None:
    try:
        with urllib.request.urlopen(
            f"{api_root(base_url)}/api/v0/models/{quote(model, safe='')}", timeout=PROBE_SECONDS
        ) as response:
            entry = json.loads(response.read(1 << 20))
    except Exception:
        return None
    return context_of(entry) if isinstance(entry, dict) else None
