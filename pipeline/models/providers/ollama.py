"""The `ollama` provider: a model of a running Ollama server, over its native API (`--model ollama:NAME`).

Why not Ollama's OpenAI-compatible `/v1`: it runs every request at the server's default context window (a few
thousand tokens), whatever the model supports, and cuts a longer prompt from the front without an error. The
native `POST /api/chat` takes `options.num_ctx`, so here every request names the window it must run at: the
model's own context length (from `POST /api/show`), capped at `[llm] context_window` (default 16,384, which keeps
the server's memory for the window modest). The stages fit their requests to that window; a request our
estimate says would not fit is refused before it is sent (ContextTooLong), and the stage splits it. The window
is the same for every request, since Ollama reloads a model whenever num_ctx changes.

An Ollama server named with `--base-url http://127.0.0.1:11434/v1` is recognised (`/api/version`) and reached the
same way, for the same reason.

A cloud model (a name ending `-cloud`, or one the server marks with `remote_host`) runs on Ollama's servers, not
on this machine: its endpoint is `ollama:NAME`, never the local server's address, so trusting the local server
with private notes does not trust it; only `[privacy] trusted = ["ollama:NAME"]` would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.core.errors import ContextTooLong, LLMError
from pipeline.models.llm import Completion, Messages, Purpose

DEFAULT_HOST = "127.0.0.1:11434"
DEFAULT_WINDOW = 16_384  # tokens asked of the server when essay.toml sets no context_window
UNKNOWN_CONTEXT = 4_096  # a model whose length the server does not report: assume what Ollama runs by default
CHARS_PER_TOKEN = 3.5  # stricter than the stages' 4: a request refused here is split, one cut short is lost


def ollama_host() -> str:
    """OLLAMA_HOST as Ollama itself reads it (`127.0.0.1:11434`, `0.0.0.0`, `http://host:port`), as a URL."""
    raw = os.environ.get("OLLAMA_HOST", "").strip() or DEFAULT_HOST
    if "://" not in raw:
        raw = f"http://{raw}"
    parts = urlsplit(raw)
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # where the server listens; it is reached on loopback
        host = "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 11434)
    return f"{parts.scheme}://{host}:{port}"


def answers_as_ollama(root: str, timeout: float = 0.5) -> bool:
    """Whether the server at `root` is Ollama (`GET /api/version`): one quick request, on this machine only."""
    try:
        response = httpx.get(f"{root.rstrip('/')}/api/version", timeout=timeout)
        return response.status_code == 200 and "version" in response.json()
    except Exception:  # refused, timed out, 404, not JSON: not Ollama
        return False


def is_cloud_name(name: str) -> bool:
    return name.endswith("-cloud") or name.endswith(":cloud")


@dataclass(frozen=True)
class ModelInfo:
    context_length: int | None
    remote: bool


def show_model(client: httpx.Client, name: str) -> ModelInfo:
    """The model's context length (`model_info["<family>.context_length"]`) and whether it runs remotely."""
    response = client.post("/api/show", json={"model": name})
    if response.status_code == 404:
        raise LLMError(
            f"Ollama at {client.base_url} has no model '{name}': run `ollama pull {name}`, or see `essay models`"
        )
    response.raise_for_status()
    data = response.json()
    info = data.get("model_info") or {}
    lengths = [v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int) and v > 0]
    remote = bool(data.get("remote_host") or data.get("remote_model"))
    return ModelInfo(max(lengths) if lengths else None, remote)


class OllamaChat:
    provider = "ollama"
    sends_over_http = True
    can_sort = True

    def __init__(
        self,
        *,
        model: str,
        host: str | None = None,
        timeout: float = 120.0,
        window: int | None = None,
        endpoint: str | None = None,  # the address the writer named (--base-url), which [privacy] trusted lists
    ):
        self.model = model
        self.host = (host or ollama_host()).rstrip("/")
        self.timeout = timeout
        self.client = httpx.Client(base_url=self.host, timeout=httpx.Timeout(timeout, connect=5.0))
        try:
            info = show_model(self.client, model)
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach Ollama at {self.host} ({type(exc).__name__}): start it (`ollama serve`), "
                           "or set OLLAMA_HOST to where it listens") from None  # fmt: skip
        self.remote = info.remote or is_cloud_name(model)
        self.model_context = info.context_length
        self.context_window = min(info.context_length or UNKNOWN_CONTEXT, window or DEFAULT_WINDOW)
        self.endpoint = f"ollama:{model}" if self.remote else (endpoint or self.host)

    def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.7,
        purpose: Purpose | None = None,
    ) -> Completion:
        chars = sum(len(m["content"]) for m in messages)
        if chars / CHARS_PER_TOKEN + max_tokens > self.context_window:
            raise ContextTooLong(
                f"the request (about {int(chars / CHARS_PER_TOKEN)} tokens and {max_tokens} to write) does not fit "
                f"the {self.context_window}-token window {self.model} is run at"
            )
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "stream": False,
            "options": {"num_ctx": self.context_window, "num_predict": max_tokens, "temperature": temperature},
        }
        if schema is not None:
            body["format"] = schema  # Ollama constrains the answer to a JSON schema given here
        data = self._post(body)
        message = data.get("message") or {}
        return Completion(
            text=message.get("content") or "",
            prompt_tokens=int(data.get("prompt_eval_count") or 0),
            completion_tokens=int(data.get("eval_count") or 0),
            finish_reason="length" if data.get("done_reason") == "length" else "stop",
        )

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        last: Exception | None = None
        for _attempt in range(3):  # a busy server or one still loading the model: two more tries, then say so
            try:
                response = self.client.post("/api/chat", json=body)
            except httpx.TimeoutException:
                raise LLMError(
                    f"Ollama at {self.host} did not answer in time: try again, or raise [llm] timeout"
                ) from None
            except httpx.HTTPError as exc:
                last = exc
                continue
            if response.status_code == 404:
                raise LLMError(f"Ollama at {self.host} has no model '{self.model}': run `ollama pull {self.model}`")
            if response.status_code >= 500:
                last = LLMError(f"Ollama at {self.host} answered HTTP {response.status_code}: {_error(response)}")
                continue
            if response.status_code >= 400:
                raise LLMError(
                    f"Ollama at {self.host} refused the request (HTTP {response.status_code}): {_error(response)}"
                )
            try:
                return response.json()
            except ValueError:
                last = LLMError(f"Ollama at {self.host} gave an answer that is not JSON")
        if isinstance(last, LLMError):
            raise last
        raise LLMError(
            f"cannot reach Ollama at {self.host}: is it running (`ollama serve`)? Set OLLAMA_HOST if elsewhere"
        )


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))[:200] or "no message"
    except ValueError:
        return response.text[:200] or "no message"
