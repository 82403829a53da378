"""A loopback OpenAI-compatible chat server for integration tests; the real openai SDK talks to it.

`faults` is a script of failures for the next requests, one each, in order; `always` fails every
request the same way. A fault is one of: "429", "500" (both with a short Retry-After), "500-bare"
(no Retry-After), "401" (echoing the key it was sent, as a careless server might), "badbody" (a
truncated HTTP body), "badjson" (broken JSON in an assignment's content), "empty", "length"
(cut off mid-sentence), "think" (a reasoning block before the answer).

`echo` is a sentence every prose answer adds, with `{key}` replaced by the API key the request carried, as a
misconfigured proxy or a hostile endpoint might.

`reasoning` (tokens) makes it answer as OpenAI's reasoning models do: `max_tokens` and a temperature other than 1
are refused with OpenAI's own 400 bodies, and the answer comes after that many thinking tokens, all within
`max_completion_tokens`: a cap that leaves no room for the answer gets an empty one, cut off ("length").

`structured` sets what it accepts, like the servers in the wild:
    "json_schema"  OpenAI, vLLM: both response_format kinds
    "json_object"  llama.cpp's server: json_schema answers HTTP 500 ("Input should be 'text' or 'json_object'")
    "none"         any response_format answers HTTP 400
Every request body is kept in `requests`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from tests.fakes import default_answer
from tests.loopback import LoopbackServer, QuietHandler


class FakeOpenAIServer(LoopbackServer):
    def __init__(
        self,
        structured: str = "json_schema",
        *,
        latency: float = 0.0,
        per_token: float = 0.0,
        faults: list[str] | None = None,
        always: str | None = None,
        fill: float = 0.0,
        hold_after: int | None = None,
        invent: str = "",
        echo: str = "",
        props: dict[str, Any] | None = None,
        reasoning: int = 0,
    ) -> None:
        self.structured = structured
        self.faults = list(faults or [])
        self.always = always
        self.latency, self.per_token = latency, per_token  # simulated time to first token, and per output token
        self.fill = fill  # if set, prose answers run to this share of max_tokens, like a model that writes at length
        # Requests past the first `hold_after` wait until `release` is set: a test can interrupt a run
        # while a call is certainly under way, rather than hope the timing falls right.
        self.hold_after = hold_after
        self.invent = invent  # a sentence every prose answer adds, as a model that makes things up would
        self.echo = echo
        self.props = props  # if set, GET /props answers it, as llama.cpp's server does (total_slots)
        self.reasoning = reasoning
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.busy_seconds: list[float] = []  # the simulated time of each answer
        self._lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def next_fault(self) -> str | None:
        with self._lock:
            return self.always or (self.faults.pop(0) if self.faults else None)

    def answer(self, body: dict[str, Any], fault: str | None = None, key: str = "") -> tuple[int, dict[str, Any]]:
        if fault == "429":
            return 429, _error("rate limited, slow down")
        if fault in ("500", "500-bare"):
            return 500, _error("the server had an error")
        if fault == "401":
            return 401, _error(f"Incorrect API key provided: {key}")
        if self.reasoning and "max_tokens" in body:
            message = (
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead."
            )
            return 400, _error(message, param="max_tokens", code="unsupported_parameter")
        if self.reasoning and body.get("temperature", 1) != 1:
            message = (
                f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. "
                "Only the default (1) value is supported."
            )
            return 400, _error(message, param="temperature", code="unsupported_value")
        fmt = body.get("response_format")
        if fmt and self.structured == "none":
            return 400, _error("response_format is not supported by this server")
        if fmt and fmt.get("type") == "json_schema" and self.structured == "json_object":
            return 500, _error("1 validation error: response_format.type Input should be 'text' or 'json_object'")
        user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
        schema = _schema(fmt) if fmt else _schema_from_text(body["messages"])
        text = default_answer(user, schema)
        if schema is None:
            text += f" Take {_letters(len(self.requests))}."  # each section text differs from the last one
            text += f" {self.invent}" if self.invent else ""
            text += f" {self.echo.format(key=key)}" if self.echo else ""
            if self.fill:
                wanted_chars = int(body.get("max_tokens", 256) * self.fill * 4)
                text = (text + " ") * max(1, wanted_chars // (len(text) + 1))
        finish = "stop"
        if fault == "badjson" and schema is not None:
            text = text[: len(text) // 2]
        elif fault == "empty":
            text = ""
        elif fault == "think":
            text = f"<think>Let Me Plan This Carefully.</think>\n{text}"
        elif fault == "length":
            text, finish = text + " And Then The Sentence Was Cut Off In The Mid", "length"
        thought = 0
        if self.reasoning:  # it thinks first, within the same cap; what is left is the answer's
            cap = int(body.get("max_completion_tokens") or 1_000_000)
            thought = min(self.reasoning, cap)
            room_chars = (cap - thought) * 4
            if len(text) > room_chars:
                text, finish = text[:room_chars], "length"
        return 200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": sum(len(m["content"]) for m in body["messages"]) // 4,
                "completion_tokens": len(text) // 4 + thought,
                "total_tokens": 0,
                "completion_tokens_details": {"reasoning_tokens": thought},
            },
        }

    def _handler(self) -> type[QuietHandler]:
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.read_json()
                with server._lock:
                    server.requests.append(body)
                    held = server.hold_after is not None and len(server.requests) > server.hold_after
                if held:
                    server.release.wait(timeout=60)
                fault = server.next_fault()
                key = self.headers.get("authorization", "").removeprefix("Bearer ")
                status, payload = server.answer(body, fault, key)
                usage = payload.get("usage") or {}
                busy = server.latency + server.per_token * usage.get("completion_tokens", 0)
                with server._lock:
                    server.busy_seconds.append(busy)
                time.sleep(busy)
                data = json.dumps(payload).encode()
                if fault == "badbody":
                    data = data[: len(data) // 2]
                self.send_data(status, data, headers={"retry-after": "0.05"} if fault in ("429", "500") else None)

            def do_GET(self) -> None:
                if server.props is None or self.path.rstrip("/") != "/props":
                    self.send_error(404)
                    return
                self.send_json(200, server.props)

        return Handler


def _letters(number: int) -> str:
    """A number as letters (1 -> "b"): it tells answers apart without being a figure the notes lack."""
    word = ""
    while True:
        number, rest = divmod(number, 26)
        word += "bcdfghjklmnpqrstvwxzaeiouy"[rest]
        if not number:
            return word


def _error(message: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def _schema(fmt: dict[str, Any]) -> dict[str, Any]:
    return fmt["json_schema"]["schema"] if fmt["type"] == "json_schema" else fmt["schema"]


def _schema_from_text(messages: list[dict[str, str]]) -> dict[str, Any] | None:
    """With no response_format, an assignment request is recognised by its fragment list, or in the layout
    where every call opens with the notes (pipeline/messages/shared.py) by the runs of ids it asks to sort."""
    user = messages[-1]["content"]
    if "goes in exactly one list" not in user:
        return None
    if asked := re.match(r"sort notes (.+?) into", user):
        ids = [
            n
            for run in re.findall(r"f(\d+)(?: to f(\d+))?", asked[1])
            for n in range(int(run[0]), int(run[1] or run[0]) + 1)
        ]
        listed = messages[0]["content"].split("\nsections:\n", 1)[-1]
    else:
        ids, listed = [int(n) for n in re.findall(r"^\[(\d+)\]", user, re.M)], user
    if not ids:
        return None
    sections = len(re.findall(r"^[1-9]\d*\. ", listed.split("\n\n", 1)[0] if asked else listed, re.M))
    items = {"type": "array", "items": {"enum": ids}}
    return {"properties": {str(n): items for n in [*range(1, sections + 1), 0]}}
