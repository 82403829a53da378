"""Settings: essay.toml at the workspace root, checked against a schema, overridden by command-line options.

    [llm]
    provider = "openai"            # or "local" (the default: nothing leaves the machine)
    model = "gpt-4o-mini"          # for local: a path to a .gguf file
    base_url = "http://127.0.0.1:8080/v1"
    timeout = 120                  # seconds one call may take in all, retries included
    concurrency = 4                # sections written at once
    context_window = 16384         # tokens; for local, the n_ctx llama.cpp is given
    slots = 1                      # 1: every call opens with the same notes (unset: see `shares_prefix`)

    [notes]
    ignore = ["archive/*"]         # globs relative to the notes folder, beyond templates/ and dot-folders
    private = ["journal/*"]        # notes under these globs count as private

    [privacy]
    trusted = ["http://127.0.0.1:8080/v1"]   # endpoints that may receive private notes
    redact = ["dana", "kestrel"]             # swapped for placeholders before sending, restored in the draft

    [draft]
    footnotes = true               # sources per paragraph, as Obsidian footnotes

    [prices."my-model"]                      # dollars per million tokens, for `essay cost`
    input = 0.15
    output = 0.60
    cached = 0.075                           # prompt tokens read from the server's cache (default: input)

A misspelt section or key is an error, never ignored: an ignored `[privacy]` would send what it protects.
Environment: OPENAI_API_KEY (never logged), OPENAI_BASE_URL (used by the openai provider only:
setting it does not send notes anywhere unless the provider is openai).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.core.errors import ConfigError

CONFIG_NAME = "essay.toml"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _LLM(_Strict):
    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    timeout: float = Field(default=120.0, gt=0, le=3600)
    concurrency: int = Field(default=4, ge=1, le=64)
    context_window: int | None = Field(default=None, ge=512)
    slots: int | None = Field(default=None, ge=1)

    @field_validator("timeout", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            check_url(value)
        return value


class _Notes(_Strict):
    ignore: list[str] = []
    private: list[str] = []


class _Privacy(_Strict):
    trusted: list[str] = []
    redact: list[str] = []


class _Draft(_Strict):
    footnotes: bool = True


class _Price(_Strict):
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached: float | None = Field(default=None, ge=0)

    @field_validator("input", "output", "cached", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _File(_Strict):
    llm: _LLM = _LLM()
    notes: _Notes = _Notes()
    privacy: _Privacy = _Privacy()
    draft: _Draft = _Draft()
    prices: dict[str, _Price] = {}


@dataclass(frozen=True)
class Settings:
    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    timeout: float = 120.0
    concurrency: int = 4
    context_window: int | None = None
    slots: int | None = None  # 1: every call of a draft opens with the same notes (see `shares_prefix`)
    ignore: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()  # endpoints that may receive private notes
    redact: tuple[str, ...] = ()  # names and codenames swapped for placeholders before anything is sent
    footnotes: bool = True
    # model -> dollars per million tokens in, out, and in from the server's prompt cache
    prices: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    source: Path | None = field(default=None, compare=False)  # the essay.toml read, if any


def load_settings(root: Path) -> Settings:
    """The settings of the workspace at `root`; defaults where it has no essay.toml."""
    path = root / CONFIG_NAME
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_explain(exc)}") from None
    llm = parsed.llm
    settings = Settings(
        provider=llm.provider or ("openai" if llm.base_url else "local"),
        model=llm.model,
        base_url=llm.base_url,
        timeout=llm.timeout,
        concurrency=llm.concurrency,
        context_window=llm.context_window,
        slots=llm.slots,
        ignore=tuple(parsed.notes.ignore),
        private=tuple(parsed.notes.private),
        trusted=tuple(parsed.privacy.trusted),
        redact=tuple(parsed.privacy.redact),
        footnotes=parsed.draft.footnotes,
        prices={
            name: (p.input, p.output, p.input if p.cached is None else p.cached) for name, p in parsed.prices.items()
        },
        source=path,
    )
    return _checked(settings)


def _explain(exc: ValidationError) -> str:
    """The first problem, in one line that says what is allowed, or which known name was meant."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown setting '{where}'{_closest(error['loc'])}"
    value = error.get("input")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"'{where}' = {value!r} is not allowed: {message[0].lower()}{message[1:]}"


def _closest(location: tuple[Any, ...]) -> str:
    """`; did you mean 'privacy.redact'?` for a misspelt section or key."""
    model: type[BaseModel] = _File
    for part in location[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    known = list(model.model_fields)
    match = difflib.get_close_matches(str(location[-1]), known, n=1, cutoff=0.5)
    prefix = ".".join(str(p) for p in location[:-1])
    if match:
        return f"; did you mean '{prefix + '.' if prefix else ''}{match[0]}'?"
    return f"; known: {', '.join(known)}"


def check_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"'{value}' is not an http(s) URL, such as http://127.0.0.1:8080/v1")
    return value


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
        try:
            check_url(base_url)
        except ValueError as exc:
            raise ConfigError(f"--base-url: {exc}") from None
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


# The providers' names, which the registry (pipeline/providers) adds to as providers register: settings are
# checked against them without this module importing the registry, which imports it.
PROVIDER_NAMES: list[str] = ["local", "openai"]


def _checked(settings: Settings) -> Settings:
    if settings.provider not in PROVIDER_NAMES:
        raise ConfigError(f"unknown provider '{settings.provider}': use one of {', '.join(PROVIDER_NAMES)}")
    return settings


def openai_base_url(settings: Settings) -> str | None:
    return settings.base_url or os.environ.get("OPENAI_BASE_URL") or None


def on_this_machine(url: str | None) -> bool:
    host = urlparse(url).hostname if url else None
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_trusted(settings: Settings, endpoint: str) -> bool:
    """Whether private notes may be sent to this endpoint (listed under [privacy] trusted)."""
    wanted = endpoint.rstrip("/")
    return any(wanted == t.rstrip("/") for t in settings.trusted)
