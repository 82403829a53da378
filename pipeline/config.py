"""Settings: essay.toml in the workspace, overridden by command-line options.

    [llm]
    provider = "openai"            # or "local" (the default: nothing leaves the machine)
    model = "gpt-4o-mini"          # for local: a path to a .gguf file
    base_url = "http://127.0.0.1:8080/v1"
    timeout = 120                  # seconds per call
    concurrency = 4                # sections written at once
    context_window = 16384         # tokens; for local, the n_ctx llama.cpp is given

    [notes]
    ignore = ["archive/*"]         # globs relative to the notes folder, beyond templates/ and dot-folders
    private = ["journal/*"]        # notes under these globs count as private

    [privacy]
    trusted = ["http://127.0.0.1:8080/v1"]   # endpoints that may receive private notes
    redact = ["dana", "kestrel"]             # swapped for placeholders before sending, restored in the draft

    [prices."my-model"]                      # dollars per million tokens, for `essay cost`
    input = 0.15
    output = 0.60

Environment: OPENAI_API_KEY (never logged), OPENAI_BASE_URL (used by the openai provider only:
setting it does not send notes anywhere unless the provider is openai).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.errors import ConfigError

CONFIG_NAME = "essay.toml"
PROVIDERS = ("local", "openai")
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Settings:
    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    timeout: float = 120.0
    concurrency: int = 4
    context_window: int | None = None
    ignore: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()  # endpoints that may receive private notes
    redact: tuple[str, ...] = ()  # names and codenames swapped for placeholders before anything is sent
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)  # model -> dollars per M tokens in, out
    source: Path | None = field(default=None, compare=False)  # the essay.toml read, if any


def load_settings(workspace: Path) -> Settings:
    path = workspace / CONFIG_NAME
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    llm = data.get("llm", {})
    notes = data.get("notes", {})
    privacy = data.get("privacy", {})
    try:
        settings = Settings(
            provider=str(llm.get("provider", "openai" if llm.get("base_url") else "local")),
            model=llm.get("model"),
            base_url=llm.get("base_url"),
            timeout=float(llm.get("timeout", 120)),
            concurrency=int(llm.get("concurrency", 4)),
            context_window=int(llm["context_window"]) if "context_window" in llm else None,
            ignore=tuple(str(g) for g in notes.get("ignore", ())),
            private=tuple(str(g) for g in notes.get("private", ())),
            trusted=tuple(str(u) for u in privacy.get("trusted", ())),
            redact=tuple(str(t) for t in privacy.get("redact", ())),
            prices={
                str(model): (float(p.get("input", 0)), float(p.get("output", 0)))
                for model, p in data.get("prices", {}).items()
            },
            source=path,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: a value has the wrong type ({exc})") from None
    return _checked(settings)


def with_options(
    settings: Settings,
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
) -> Settings:
    """Command-line options win over essay.toml; --base-url means the openai provider."""
    if base_url and provider == "local":
        raise ConfigError("--base-url goes with the openai provider: drop --provider local, or drop --base-url")
    if base_url:
        provider = "openai"
    changes: dict[str, object] = {}
    if provider:
        changes["provider"] = provider
        if provider != settings.provider:
            # A model or endpoint named for the other provider does not carry over.
            changes["model"], changes["base_url"] = None, None
    if model:
        changes["model"] = model
    if base_url:
        changes["base_url"] = base_url
    return _checked(replace(settings, **changes))


def _checked(settings: Settings) -> Settings:
    if settings.provider not in PROVIDERS:
        raise ConfigError(f"unknown provider '{settings.provider}': use one of {', '.join(PROVIDERS)}")
    if settings.concurrency < 1:
        raise ConfigError("concurrency must be 1 or more")
    return settings


def openai_base_url(settings: Settings) -> str | None:
    return settings.base_url or os.environ.get("OPENAI_BASE_URL") or None


def is_trusted(settings: Settings, endpoint: str) -> bool:
    """Whether private notes may be sent to this endpoint (listed under [privacy] trusted)."""
    wanted = endpoint.rstrip("/")
    return any(wanted == t.rstrip("/") for t in settings.trusted)
