"""Chat model providers, registered by name: `local` (llama.cpp in-process) and `openai` (any
OpenAI-compatible endpoint). A provider is a factory from settings to a ChatModel; nothing is loaded
or contacted until the first call.

To add one: write a class with the ChatModel attributes and `complete()` (see pipeline/models/llm.py),
and `register_provider("name", factory)`; `--provider name` and `[llm] provider = "name"` then work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import OPENAI_DEFAULT_MODEL, PROVIDER_NAMES, Settings, openai_base_url
from pipeline.core.errors import UsageError
from pipeline.models.llm import ChatModel

OPENAI_CONTEXT = 16_384


@dataclass(frozen=True)
class ProviderOptions:
    """What a provider factory gets besides the settings."""

    verbose: bool = False
    modes: dict[str, str] | None = None  # structured-output modes learned per endpoint and model (state)


Factory = Callable[[Settings, ProviderOptions], ChatModel]
_registry: dict[str, Factory] = {}


def register_provider(name: str, factory: Factory) -> None:
    _registry[name] = factory
    if name not in PROVIDER_NAMES:
        PROVIDER_NAMES.append(name)


def provider_names() -> list[str]:
    return list(_registry)


def make_model(settings: Settings, options: ProviderOptions | None = None) -> ChatModel:
    """The chat model the settings name."""
    factory = _registry.get(settings.provider)
    if factory is None:
        raise UsageError(f"unknown provider '{settings.provider}': use one of {', '.join(_registry)}")
    return factory(settings, options or ProviderOptions())


def _local(settings: Settings, options: ProviderOptions) -> ChatModel:
    from pipeline.models.providers.local import DEFAULT_CONTEXT, LocalLlama

    path = Path(settings.model).expanduser() if settings.model else None
    if path is not None and path.suffix.lower() != ".gguf":
        raise UsageError(
            f"--model {settings.model}: the local provider takes a .gguf file; "
            "for a model served over HTTP, pass --base-url too"
        )
    return LocalLlama(path, context_window=settings.context_window or DEFAULT_CONTEXT, verbose=options.verbose)


def _openai(settings: Settings, options: ProviderOptions) -> ChatModel:
    from pipeline.models.providers.openai_chat import OpenAIChat

    base_url = openai_base_url(settings)
    return OpenAIChat(
        model=settings.model or OPENAI_DEFAULT_MODEL,
        base_url=base_url,
        api_key=_api_key(base_url),
        timeout=settings.timeout,
        context_window=settings.context_window or OPENAI_CONTEXT,
        modes=options.modes,
    )


def _api_key(base_url: str | None) -> str:
    key = os.environ.get("OPENAI_API_KEY")
    if key:
        return key
    if base_url is None or "api.openai.com" in base_url:
        raise UsageError(
            "no API key: set OPENAI_API_KEY, or point --base-url at a local server, "
            "or leave out --provider to draft on the bundled local model"
        )
    from pipeline.models.providers.openai_chat import NO_KEY

    return NO_KEY


register_provider("local", _local)
register_provider("openai", _openai)
