"""How many calls a server on this machine answers at once, where it says: llama.cpp's server reports its
slots at `/props` (recent versions start four by default). Other servers (llama-cpp-python's, Ollama, vLLM)
do not say, and the answer is None."""

from __future__ import annotations

import functools
import json
import os
import urllib.request
from urllib.parse import urlsplit, urlunsplit

PROBE_SECONDS = 2.0  # a local server answers at once; one that does not is not held up long


@functools.lru_cache(maxsize=8)
def reported_slots(base_url: str) -> int | None:
    """`total_slots` from the server's `/props` (at its root, beside `/v1`); None when it does not say."""
    parts = urlsplit(base_url)
    root = parts.path.rstrip("/").removesuffix("/v1")
    request = urllib.request.Request(urlunsplit((parts.scheme, parts.netloc, f"{root}/props", "", "")))
    if key := os.environ.get("OPENAI_API_KEY"):  # a server started with --api-key asks for it here too
        request.add_unredirected_header("Authorization", f"Bearer {key}")  # never to where it redirects
    try:
        with urllib.request.urlopen(request, timeout=PROBE_SECONDS) as response:
            slots = json.loads(response.read(1 << 20)).get("total_slots")
    except Exception:  # refused, 404, not HTTP, cut short, not JSON, not an object: the server does not say
        return None
    return slots if isinstance(slots, int) and not isinstance(slots, bool) and slots > 0 else None
