"""The `openai` provider: the official SDK against any OpenAI-compatible endpoint.

Endpoints differ in structured output. OpenAI and vLLM take `response_format` json_schema;
llama.cpp's server rejects that (HTTP 500) but takes json_object with a schema; some take
neither. We try them in that order and remember, per endpoint and model, what worked.
Retries live here, in tenacity; the SDK's own retries are off so the two do not multiply.
"""

from __future__ import annotations

import threading
from typing import Any

import openai
from openai import OpenAI
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_exponential_jitter

from pipeline.errors import LLMError
from pipeline.llm import Completion, Messages

STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
_learned_modes: dict[tuple[str, str], str] = {}
_learned_lock = threading.Lock()
_backoff = wait_exponential_jitter(initial=1, max=30)


def _rejects_response_format(exc: Exception) -> bool:
    """An endpoint saying no to our response_format, as opposed to failing for another reason."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500, 501):
        return False
    text = str(exc).lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object", "schema"))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.InternalServerError) or (
        isinstance(exc, openai.APIStatusError) and exc.status_code in (408, 409, 502, 503, 504)
    ):
        return not _rejects_response_format(exc)
    return False


def _stop_connection_errors_early(state: RetryCallState) -> bool:
    """A refused connection is rarely passing: give up after three tries rather than the full budget."""
    exc = state.outcome.exception() if state.outcome else None
    return (
        isinstance(exc, openai.APIConnectionError)
        and not isinstance(exc, openai.APITimeoutError)
        and state.attempt_number >= 3
    )


def _wait(state: RetryCallState) -> float:
    """Honour Retry-After when the server sends one; otherwise back off exponentially with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(float(header), 60.0)
        except ValueError:
            pass
    return _backoff(state)


class OpenAIChat:
    provider = "openai"
    sends_over_http = True

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str,
        timeout: float = 120.0,
        context_window: int = 16_384,
        max_attempts: int = 6,
        max_seconds: float = 110.0,
    ) -> None:
        self.model = model
        self.context_window = context_window
        self.client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self.endpoint = str(self.client.base_url)
        self._create = retry(
            retry=retry_if_exception(_retryable),
            wait=_wait,
            stop=stop_after_attempt(max_attempts) | stop_after_delay(max_seconds) | _stop_connection_errors_early,
            reraise=True,
        )(self.client.chat.completions.create)

    def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.7,
    ) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if schema is None:
            return self._send(request)
        key = (self.endpoint, self.model)
        learned = _learned_modes.get(key)
        modes = (learned,) if learned else STRUCTURED_MODES
        for mode in modes:
            try:
                result = self._send({**request, **_response_format(mode, schema)})
            except LLMError as exc:
                if isinstance(exc.__cause__, Exception) and _rejects_response_format(exc.__cause__):
                    continue
                raise
            with _learned_lock:
                _learned_modes[key] = mode
            return result
        raise LLMError(f"{self.endpoint} rejected every form of structured output") from None

    def _send(self, request: dict[str, Any]) -> Completion:
        try:
            response = self._create(**request)
        except openai.AuthenticationError as exc:
            raise LLMError(f"{self.endpoint} refused the API key (401): set OPENAI_API_KEY to a valid key") from exc
        except openai.PermissionDeniedError as exc:
            raise LLMError(
                f"{self.endpoint} denied access to model '{self.model}' (403): check the key's access"
            ) from exc
        except openai.NotFoundError as exc:
            raise LLMError(
                f"model '{self.model}' not found at {self.endpoint} (404): check --model and --base-url"
            ) from exc
        except openai.APITimeoutError as exc:
            raise LLMError(
                f"{self.endpoint} did not answer in time: try again, or raise timeout in essay.toml"
            ) from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach {self.endpoint}: is the server running, and is --base-url right?") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"{self.endpoint} answered HTTP {exc.status_code}: {_short(exc)}") from exc
        choice = response.choices[0] if response.choices else None
        if choice is None:
            raise LLMError(f"{self.endpoint} answered with no choices: is it an OpenAI-compatible chat endpoint?")
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=choice.finish_reason,
        )


def _response_format(mode: str, schema: dict[str, Any]) -> dict[str, Any]:
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}  # plain prompt: the stage's instructions describe the JSON, and it validates the answer


def _short(exc: openai.APIStatusError) -> str:
    message = getattr(exc, "message", "") or str(exc)
    return message.splitlines()[0][:200] if message else "no message"
