"""Chat model providers, registered by name: `local` (llama.cpp in-process, on the bundled model, a pulled one
or any GGUF file), `openai` (any OpenAI-compatible endpoint), `ollama` (Ollama's native API) and `lmstudio`
(LM Studio's server). A provider is a factory from settings to a ChatModel; nothing is loaded until the first
call (a server is asked only what its model's context window is).

`--model ollama:NAME` and `--model lmstudio:NAME` name a provider and its model at once (`named_settings`).

To add one: write a class with the ChatModel attributes and `complete()` (see pipeline/models/llm.py),
and `register_provider("name", factory)`; `--provider name` and `[llm] provider = "name"` then work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.config import OPENAI_DEFAULT_MODEL, PROVIDER_NAMES, Settings, on_this_machine, openai_base_url
from pipeline.core.errors import UsageError
from pipeline.models.llm import ChatModel
from pipeline.models.pulled import best_pulled, find_pulled

OPENAI_CONTEXT = 16_384
LMSTUDIO_URL = "http://127.0.0.1:1234/v1"  # LM Studio's server, where it listens by default


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


def named_settings(settings: Settings) -> Settings:
    """`ollama:NAME` and `lmstudio:NAME` as a model name choose that server and its model."""
    model = settings.model or ""
    for prefix in ("ollama", "lmstudio"):
        if model.startswith(f"{prefix}:") and len(model) > len(prefix) + 1:
            base_url = settings.base_url if settings.provider == prefix else None
            return replace(settings, provider=prefix, model=model[len(prefix) + 1 :], base_url=base_url)
    return settings


def _local(settings: Settings, options: ProviderOptions) -> ChatModel:
    from pipeline.models.providers.local import DEFAULT_CONTEXT, LocalLlama

    window = settings.context_window or DEFAULT_CONTEXT
    # No model named: the best pulled one, else the bundled one. A pulled model's name works as --model NAME.
    pulled = find_pulled(settings.model) if settings.model else best_pulled()
    if pulled is not None:
        context = pulled.window(settings.context_window)
        return LocalLlama(pulled.path, name=pulled.name, context_window=context, verbose=options.verbose)
    path = Path(settings.model).expanduser() if settings.model else None
    if path is not None and path.suffix.lower() != ".gguf" and "/" not in str(settings.model) and not path.exists():
        raise UsageError(
            f"no model named '{settings.model}' here: `essay models` lists what this machine has, and what "
            "`essay models pull NAME` gets"
        )
    if path is not None and path.suffix.lower() != ".gguf":
        raise UsageError(
            f"--model {settings.model}: the local provider takes a .gguf file or a model `essay models` lists "
            "(a pulled name, ollama:NAME, lmstudio:NAME); for a model served over HTTP, pass --base-url too"
        )
    return LocalLlama(path, context_window=window, verbose=options.verbose)


def _openai(settings: Settings, options: ProviderOptions) -> ChatModel:
    from pipeline.models.providers.openai_chat import OpenAIChat

    base_url = openai_base_url(settings)
    if base_url and settings.model and on_this_machine(base_url):
        from pipeline.models.providers.lmstudio import api_root
        from pipeline.models.providers.ollama import OllamaChat, answers_as_ollama

        # Ollama's /v1 runs every request at its default window and cuts a longer prompt silently: go native.
        if answers_as_ollama(root := api_root(base_url)):
            return OllamaChat(
                model=settings.model,
                host=root,
                timeout=settings.timeout,
                window=settings.context_window,
                endpoint=base_url.rstrip("/"),
            )
    return OpenAIChat(
        model=settings.model or OPENAI_DEFAULT_MODEL,
        base_url=base_url,
        api_key=_api_key(base_url),
        timeout=settings.timeout,
        context_window=settings.context_window or OPENAI_CONTEXT,
        modes=options.modes,
    )


def _ollama(settings: Settings, options: ProviderOptions) -> ChatModel:
    from pipeline.models.providers.ollama import OllamaChat

    if not settings.model:
        raise UsageError("name the Ollama model: --model ollama:NAME (`essay models` lists what it serves)")
    host = settings.base_url.removesuffix("/v1") if settings.base_url else None
    return OllamaChat(model=settings.model, host=host, timeout=settings.timeout, window=settings.context_window)


def _lmstudio(settings: Settings, options: ProviderOptions) -> ChatModel:
    from pipeline.models.providers.lmstudio import loaded_context
    from pipeline.models.providers.openai_chat import OpenAIChat

    if not settings.model:
        raise UsageError("name the LM Studio model: --model lmstudio:NAME (`essay models` lists what it serves)")
    base_url = settings.base_url or LMSTUDIO_URL
    # LM Studio runs a model at the window it was loaded with, and may cut a longer prompt: fit to that window.
    window = settings.context_window or loaded_context(base_url, settings.model) or OPENAI_CONTEXT
    return OpenAIChat(
        model=settings.model,
        base_url=base_url,
        api_key="not-needed",  # LM Studio takes any key; the SDK needs one
        timeout=settings.timeout,
        context_window=window,
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
register_provider("ollama", _ollama)
register_provider("lmstudio", _lmstudio)
