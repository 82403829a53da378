"""How many calls a server on this machine answers at once, where it says: llama.cpp's server reports its
slots at `/props` (recent versions start four by default). Other servers (llama-cpp-python's, Ollama, vLLM)
do not say, and the answer is None."""

from __future__ import annotations

import functools
import json
import os
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from pipeline.core.config import Settings, on_this_machine, openai_base_url
from pipeline.models.providers.ollama import is_cloud_name, ollama_host

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


def shares_prefix(settings: Settings, *, ask_server: bool = True) -> bool:
    """Whether every call of a draft opens with the same message holding its notes (pipeline/messages/shared.py).
    `slots = 1` says so, and more slots say not. Unset, it is so for a server on this machine that does not
    report more than one slot (llama.cpp's server reports them): its prompt tokens cost nothing, and
    llama.cpp's server with one slot, Ollama and vLLM reuse the prefix a call shares with one before, so the
    notes are read once. Where several slots each keep their own cache, each would read them again. A hosted API
    bills every token it is sent (and so would a proxy to one on this machine: its user sets `slots`).
    Without `ask_server` (a dry run, which sends nothing at all) a server on this machine counts as one slot."""
    if settings.slots is not None:
        return settings.slots == 1
    if settings.provider == "ollama":  # reuses a prefix; a cloud model is a hosted service, billed per token
        return not is_cloud_name(settings.model or "") and on_this_machine(settings.base_url or ollama_host())
    url = openai_base_url(settings)
    if settings.provider != "openai" or url is None or not on_this_machine(url):
        return False
    return not ask_server or (reported_slots(url) or 1) == 1
