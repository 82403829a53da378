"""LLM access: the one small interface the stages call, and the wrappers of the model stack.

A chat model takes messages and returns a Completion. With `schema`, the answer must be a JSON
object of that schema; providers use whatever structured output their endpoint supports. A call's
`purpose` says what it is for (essay, stage, sample): the log files it there, and the cache uses the
sample label to tell a resumed call from a new one. Providers ignore it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.core.errors import Cancelled

Messages = Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class Purpose:
    essay: str = ""
    stage: str = ""
    sample: str = ""  # "" for a call whose answer may be reused; a new version's label asks afresh


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    cached_tokens: int = 0  # prompt tokens the server took from its prompt cache
    reasoning_tokens: int = 0  # completion tokens a reasoning model spent thinking, not in `text`
    from_cache: bool = False  # answered from the workspace's store, not sent


class ChatModel(Protocol):
    provider: str  # "local", "openai", or "fake" in tests
    model: str
    context_window: int  # tokens the model reads and writes in one call
    sends_over_http: bool  # whether notes leave this process
    endpoint: str  # where requests go: a URL, or "in-process"
    can_sort: bool  # False for a model too small to sort notes: the embeddings decide instead

    def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.7,
        purpose: Purpose | None = None,
    ) -> Completion: ...


class WrappedModel:
    """Base of a ChatModel that wraps another one (to count, limit, cache, log or redact its calls):
    it describes itself as the model it wraps, and passes the call's options through as they are."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.provider, self.model = inner.provider, inner.model
        self.context_window = inner.context_window
        self.sends_over_http, self.endpoint = inner.sends_over_http, inner.endpoint
        self.can_sort = getattr(inner, "can_sort", True)
        self.secrets: tuple[str, ...] = getattr(inner, "secrets", ())  # the keys it sends, to scrub from answers


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class EssayModel(WrappedModel):
    """The stack as one essay's stage sees it: every call carries the essay's purpose, and its
    calls, tokens and time are counted for the draft's frontmatter. Safe to share between threads."""

    def __init__(self, inner: ChatModel, purpose: Purpose, usage: Usage | None = None) -> None:
        super().__init__(inner)
        self.purpose = purpose
        self.usage = usage if usage is not None else Usage()
        self._lock = threading.Lock()

    def stage(self, stage: str, sample: str = "") -> EssayModel:
        """The same essay's model for another stage, counting into the same usage."""
        return EssayModel(self.inner, Purpose(self.purpose.essay, stage, sample), self.usage)

    def complete(self, messages: Messages, **options: Any) -> Completion:
        started = time.perf_counter()
        result = self.inner.complete(messages, **{**options, "purpose": self.purpose})
        with self._lock:
            self.usage.calls += 0 if result.from_cache else 1
            self.usage.prompt_tokens += result.prompt_tokens
            self.usage.completion_tokens += result.completion_tokens
            self.usage.seconds += time.perf_counter() - started
        return result


class SharedLimit(WrappedModel):
    """At most `limit` calls of the wrapped model under way at once, across every essay and stage
    that shares it; `cancel()` stops calls that have not been sent yet."""

    def __init__(self, inner: ChatModel, limit: int) -> None:
        super().__init__(inner)
        self.size = max(1, limit)
        self._slots = threading.Semaphore(self.size)
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def complete(self, messages: Messages, **options: Any) -> Completion:
        while not self._slots.acquire(timeout=0.2):
            if self._cancelled.is_set():
                raise Cancelled("interrupted")
        try:
            if self._cancelled.is_set():
                raise Cancelled("interrupted")
            return self.inner.complete(messages, **options)
        finally:
            self._slots.release()
