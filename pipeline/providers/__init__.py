"""Chat model providers: `local` (llama.cpp in-process) and `openai` (any OpenAI-compatible endpoint)."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import OPENAI_DEFAULT_MODEL, Settings, openai_base_url
from pipeline.errors import UsageError
from pipeline.llm import ChatModel
from pipeline.redact import RedactingModel

OPENAI_CONTEXT = 16_384


def make_model(settings: Settings, *, verbose: bool = False) -> ChatModel:
    """The chat model the settings name. Nothing is loaded or contacted until the first call."""
    if settings.provider == "local":
        from pipeline.providers.local import DEFAULT_CONTEXT, LocalLlama

        path = Path(settings.model).expanduser() if settings.model else None
        if path is not None and path.suffix.lower() != ".gguf":
            raise UsageError(
                f"--model {settings.model}: the local provider takes a .gguf file; "
                "for a model served over HTTP, pass --base-url too"
            )
        return LocalLlama(path, context_window=settings.context_window or DEFAULT_CONTEXT, verbose=verbose)

    from pipeline.providers.openai_chat import OpenAIChat

    base_url = openai_base_url(settings)
    remote = OpenAIChat(
        model=settings.model or OPENAI_DEFAULT_MODEL,
        base_url=base_url,
        api_key=_api_key(base_url),
        timeout=settings.timeout,
        context_window=settings.context_window or OPENAI_CONTEXT,
    )
    return RedactingModel(remote, settings.redact) if settings.redact else remote


def _api_key(base_url: str | None) -> str:
    key = os.environ.get("OPENAI_API_KEY")
    if key:
        return key
    if base_url is None or "api.openai.com" in base_url:
        raise UsageError(
            "no API key: set OPENAI_API_KEY, or point --base-url at a local server, "
            "or leave out --provider to draft on the bundled local model"
        )
    return "not-needed"  # local servers (llama.cpp, Ollama, vLLM) take any key; the SDK needs one
