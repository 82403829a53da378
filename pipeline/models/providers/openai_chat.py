"""The `openai` provider: the official SDK against any OpenAI-compatible endpoint.

Endpoints differ in structured output. OpenAI and vLLM take `response_format` json_schema;
llama.cpp's server rejects that (HTTP 500) but takes json_object with a schema; some take
neither. We try them in that order and remember, per endpoint and model, what worked.

Models differ in what a request may say. OpenAI's reasoning models (o-series, gpt-5) refuse `max_tokens`
("use max_completion_tokens") and any temperature but their own, and spend part of the completion budget
thinking before they answer. OpenAI's own API is sent `max_completion_tokens` (its current name for the
cap); any endpoint that refuses a parameter by name has the call sent again without it, and that is
remembered per endpoint and model. Where a model was seen to reason, its cap leaves REASONING_ROOM tokens
(or what its context window has left) for the thinking on top of the answer: thinking is billed as used,
and an answer cut off before it began is asked again once with the room.

Retries live here, in tenacity, and only here: the SDK's own retries are off so the two do not
multiply. Rate limits (honouring Retry-After), 5xx, timeouts, refused connections and garbled
answers are retried with exponential backoff and jitter; a bad key, a missing model or a bad request
fail at once, since retrying cannot fix them. `timeout` bounds the whole call, attempts and waits
included: each attempt gets only the time that is left.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import openai
from openai import OpenAI
from openai.resources.chat.completions import Completions
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from pipeline.core.errors import ContextTooLong, LLMError
from pipeline.core.text import estimate_tokens
from pipeline.models.llm import Completion, Messages, Purpose
from pipeline.models.providers.refusals import RENAMED, reasoning_tokens, refused_in, refused_parameter
from pipeline.models.scrub import KeyScrubber

STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
NO_KEY = "not-needed"  # local servers (llama.cpp, Ollama, vLLM) take any key; the SDK needs one
_process_modes: dict[str, str] = {}  # without a workspace, what an endpoint accepts is learned per process
_learned_lock = threading.Lock()
_backoff = wait_exponential_jitter(initial=1, max=30)
_SEEN_CACHING = "prompt cache"  # remembered per endpoint beside its modes: it reported cached prompt tokens
REASONING_ROOM = 8192  # tokens a reasoning model may think for before the answer its cap is sized for
# Remembered per endpoint and model beside its modes: what its requests must leave out or say otherwise.
_COMPLETION_CAP, _DEFAULT_TEMPERATURE, _REASONS = "max_completion_tokens", "default temperature", "reasons"
_CACHE_KEY_FROM = 4096  # characters: OpenAI caches prefixes of 1,024 tokens and more; a shorter one needs no key
# The installed SDK takes `prompt_cache_key` (openai 1.97 and later); only OpenAI's own API is sent it.
_TAKES_CACHE_KEY = "prompt_cache_key" in inspect.signature(Completions.create).parameters
# The clock and the pause between attempts; tests replace both, so retries need not really wait.
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep


class _Garbled(Exception):
    """A 200 answer that is not a chat completion (truncated body, no choices): worth asking again."""


def _rejects_response_format(exc: BaseException | None) -> bool:
    """An endpoint saying no to our response_format, as opposed to failing for another reason."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500, 501):
        return False
    text = str(exc).lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object", "schema"))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, _Garbled)):
        return True
    if isinstance(exc, openai.APIStatusError) and (exc.status_code >= 500 or exc.status_code in (408, 409)):
        return not _rejects_response_format(exc)
    return False


def _stop_connection_errors_early(state: RetryCallState) -> bool:
    """A refused connection is rarely passing: give up after three tries rather than the full budget."""
    exc = state.outcome.exception() if state.outcome else None
    refused = isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
    return refused and state.attempt_number >= 3


def _wait(state: RetryCallState) -> float:
    """Honour Retry-After when the server sends one; otherwise back off exponentially with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(max(float(header), 0.0), 60.0)
        except ValueError:
            pass
    return _backoff(state)


class OpenAIChat:
    provider = "openai"
    sends_over_http = True
    can_sort = True

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str,
        timeout: float = 120.0,
        context_window: int = 16_384,
        modes: MutableMapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.context_window = context_window
        self.timeout = timeout
        self._api_key = api_key
        self._modes = _process_modes if modes is None else modes
        self.client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self.endpoint = str(self.client.base_url).rstrip("/")
        self._openai = self.client.base_url.host == "api.openai.com"

    @property
    def caches_prefixes(self) -> bool:
        """Whether the server reads a prompt's start from its cache when an answered prompt began the same way:
        OpenAI's API does, and any endpoint that was seen to report `cached_tokens`."""
        return self._openai or self._modes.get(f"{self.endpoint} {_SEEN_CACHING}") == "yes"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The key this provider sends: removed from every answer (pipeline/models/scrub.py)."""
        return (self._api_key,) if self._api_key != NO_KEY else ()

    def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.7,
        purpose: Purpose | None = None,
    ) -> Completion:
        request = self._request(messages, max_tokens, temperature)
        if schema is None:
            return self._send(request)
        key = f"{self.endpoint} {self.model}"
        learned = self._modes.get(key)
        for mode in (learned,) if learned else STRUCTURED_MODES:
            try:
                result = self._send({**request, **_response_format(mode, schema)})
            except LLMError as exc:
                if _rejects_response_format(exc.__cause__):
                    continue
                raise
            if learned != mode:
                with _learned_lock:
                    self._modes[key] = mode
            return result
        raise LLMError(f"{self.endpoint} rejected every form of structured output") from None

    def _learned(self, rule: str) -> bool:
        return self._modes.get(f"{self.endpoint} {self.model} {rule}") == "yes"

    def _learn(self, rule: str) -> None:
        with _learned_lock:
            self._modes[f"{self.endpoint} {self.model} {rule}"] = "yes"

    def _request(self, messages: Messages, max_tokens: int, temperature: float) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in messages]}
        room = self._room(request["messages"], max_tokens) if self._learned(_REASONS) else 0
        if self._openai or self._learned(_COMPLETION_CAP):
            request["max_completion_tokens"] = max_tokens + room
        else:
            request["max_tokens"] = max_tokens + room
        if not self._learned(_DEFAULT_TEMPERATURE):
            request["temperature"] = temperature
        opening = str(messages[0].get("content") or "") if messages else ""
        if self._openai and _TAKES_CACHE_KEY and len(opening) >= _CACHE_KEY_FROM:
            # The same key for every call that opens alike keeps them on one cache; a digest names no note.
            request["prompt_cache_key"] = "essay-" + hashlib.sha256(opening.encode()).hexdigest()[:24]
        return request

    def batch_body(
        self, messages: Messages, *, schema: dict[str, Any] | None = None, max_tokens: int = 512,
        temperature: float = 0.7, purpose: Purpose | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The request `complete` would send, as one line of a Batch API file: structured output in the mode this
        endpoint is known to accept, json_schema (the Batch API's own) where none was learned yet."""
        request = self._request(messages, max_tokens, temperature)
        if schema is None:
            return request
        mode = self._modes.get(f"{self.endpoint} {self.model}") or "json_schema"
        return {**request, **_response_format(mode, schema)}

    def _call(self, request: dict[str, Any], attempts: list[int]) -> Completion:
        """One call, retried while time is left; every attempt and wait fits in `timeout` seconds. `attempts`
        counts the requests sent, so a failure says whether it was retried."""
        deadline = clock() + self.timeout

        def left() -> float:
            return deadline - clock()

        def wait(state: RetryCallState) -> float:
            return max(0.0, min(_wait(state), left() - 0.5))

        def out_of_time(state: RetryCallState) -> bool:
            return left() < 1.0

        def attempt() -> Completion:
            attempts[0] += 1
            return self._call_once(request, max(left(), 0.5))

        return retry(
            retry=retry_if_exception(_retryable),
            wait=wait,
            stop=stop_after_attempt(8) | out_of_time | _stop_connection_errors_early,
            sleep=lambda seconds: sleep(seconds),  # looked up at call time, so tests can swap the clock
            reraise=True,
        )(attempt)()

    def _call_once(self, request: dict[str, Any], seconds: float) -> Completion:
        try:
            response = self.client.with_options(timeout=seconds).chat.completions.create(**request)
        except json.JSONDecodeError as exc:
            raise _Garbled(f"its answer is not JSON ({exc.msg})") from None
        choice = response.choices[0] if response.choices else None
        if choice is None or choice.message is None:
            raise _Garbled("its answer holds no chat message")
        usage = response.usage
        cached = _cached_tokens(usage)
        seen = f"{self.endpoint} {_SEEN_CACHING}"
        if cached and self._modes.get(seen) != "yes":
            with _learned_lock:
                self._modes[seen] = "yes"
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=cached,
            finish_reason=choice.finish_reason,
            reasoning_tokens=reasoning_tokens(usage),
        )

    def _send(self, request: dict[str, Any]) -> Completion:
        attempts = [0]
        try:
            for _adaptation in range(4):  # at most: the cap's name, the temperature, room to think, the answer
                try:
                    answer = self._call(request, attempts)
                except openai.BadRequestError as exc:
                    adapted = self._without_refused(request, exc)
                    if adapted is None:
                        raise
                    request, attempts[0] = adapted, 0  # a new request, not a retry of the refused one
                    continue
                if answer.reasoning_tokens and not self._learned(_REASONS):
                    self._learn(_REASONS)
                    if answer.finish_reason == "length":  # it thought until the cap: once more, with room
                        request = self._with_room(request)
                        continue
                return answer
            return answer
        except Exception as exc:
            error = _explain(exc, self.endpoint, self.model, attempts[0], self.timeout)
            if error is None:
                raise
            # Whatever a server echoes back, the key never reaches a message, a log or a file.
            raise type(error)(KeyScrubber([self._api_key])(str(error))) from exc

    def _without_refused(self, request: dict[str, Any], exc: openai.BadRequestError) -> dict[str, Any] | None:
        """The request as this model takes it, if `exc` refused one of its parameters by name; else None."""
        refused = refused_parameter(exc)
        if refused is None or refused not in request:
            return None
        self._adopt(refused)
        adapted = {k: v for k, v in request.items() if k != refused}
        if refused in RENAMED:  # the cap by its other name
            adapted[RENAMED[refused]] = request[refused]
        return adapted

    def _adopt(self, refused: str) -> None:
        """Remember for this model what it refused by name."""
        if refused == "max_completion_tokens":  # an older API version: the cap by its old name again
            with _learned_lock:
                self._modes.pop(f"{self.endpoint} {self.model} {_COMPLETION_CAP}", None)
        else:
            self._learn(_COMPLETION_CAP if refused == "max_tokens" else _DEFAULT_TEMPERATURE)

    def learn_from_batch(self, body: dict[str, Any], reason: str = "", answer: Completion | None = None) -> bool:
        """What a Batch API line taught, as a direct call's answer would: a parameter of `body` refused by name
        (`reason`), or an `answer` cut off while the model thought. True when the next body for the call differs."""
        refused = refused_in(reason)
        if refused is not None and refused in body:
            self._adopt(refused)
            return refused != "max_completion_tokens" or not self._openai  # OpenAI's own API keeps the new name
        if answer is not None and answer.reasoning_tokens and not self._learned(_REASONS):
            self._learn(_REASONS)
            return True
        return False

    def _room(self, messages: Messages, max_tokens: int) -> int:
        """Tokens to think in on top of the answer's: REASONING_ROOM, or what the context window leaves."""
        prompt = estimate_tokens("".join(str(m.get("content") or "") for m in messages))
        return max(0, min(REASONING_ROOM, self.context_window - prompt - max_tokens))

    def _with_room(self, request: dict[str, Any]) -> dict[str, Any]:
        cap = "max_completion_tokens" if "max_completion_tokens" in request else "max_tokens"
        return {**request, cap: request[cap] + self._room(request["messages"], request[cap])}


def _explain(exc: Exception, endpoint: str, model: str, attempts: int = 1, timeout: float = 0) -> LLMError | None:
    """The one line a writer needs for a failed call, or None for an error that is not the endpoint's. It says
    "after retries" only when more than one request was sent."""
    retried = ", after retries" if attempts > 1 else ""
    if isinstance(exc, openai.AuthenticationError):
        return LLMError(f"{endpoint} refused the API key (401): set OPENAI_API_KEY to a valid key")
    if isinstance(exc, openai.PermissionDeniedError):
        return LLMError(f"{endpoint} denied access to model '{model}' (403): check what the key may use")
    if isinstance(exc, openai.NotFoundError):
        return LLMError(f"model '{model}' not found at {endpoint} (404): check --model and --base-url")
    if isinstance(exc, openai.BadRequestError) and _is_context_overflow(exc):
        return ContextTooLong(f"the request does not fit {model}'s context window")
    if isinstance(exc, openai.APITimeoutError):
        waited = retried or f" (within the {timeout:g} s timeout)"
        return LLMError(f"{endpoint} did not answer in time{waited}: try again later, or raise [llm] timeout")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"cannot reach {endpoint}: is the server running, and is --base-url right?")
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"{endpoint} answered 429 (rate limit){retried}: try again later")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"{endpoint} answered HTTP {exc.status_code}{retried}: {_short(exc)}")
    if isinstance(exc, _Garbled):
        return LLMError(f"{endpoint} did not give a usable answer{retried}: {exc}")
    return None


def _cached_tokens(usage: Any) -> int:
    """Prompt tokens the server answered from its prompt cache (OpenAI reports them; others may not)."""
    details = getattr(usage, "prompt_tokens_details", None)
    return int(getattr(details, "cached_tokens", 0) or 0)


def _is_context_overflow(exc: openai.BadRequestError) -> bool:
    text = f"{getattr(exc, 'code', '')} {exc}".lower()
    return "context_length_exceeded" in text or "context window" in text or "maximum context length" in text


def _response_format(mode: str, schema: dict[str, Any]) -> dict[str, Any]:
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}  # plain prompt: the stage's instructions describe the JSON, and it validates the answer


def _short(exc: openai.APIStatusError) -> str:
    message = getattr(exc, "message", "") or str(exc)
    return message.splitlines()[0][:200] if message else "no message"
