"""A loopback stand-in for Ollama (set OLLAMA_HOST to `host`): `/api/tags`, `/api/show`, `/api/chat` and the
OpenAI-compatible `/v1/chat/completions`, with Ollama's context behaviour.

A request runs at a window of `options.num_ctx` tokens on `/api/chat`, and at `default_window` when it names
none, or on `/v1` always, as the real server does. A prompt longer than its window is cut from the front without
an error. Tokens are counted as the stages estimate them, four characters each. Every request is kept in
`requests`: its route, model, window, prompt tokens, whether it was cut, and the text it carried.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from tests.fakes import default_answer
from tests.loopback import LoopbackServer, QuietHandler

LOCAL = "llama3.2:3b"
CLOUD = "gpt-oss:120b-cloud"


@dataclass
class Seen:
    route: str
    model: str
    window: int
    prompt_tokens: int
    cut: bool
    text: str


class FakeOllama(LoopbackServer):
    def __init__(self, *, default_window: int = 2048, context_length: int = 131_072, version: bool = True) -> None:
        self.default_window = default_window
        self.version = version  # False: no /api/version, as a proxy in front of Ollama's /v1 might be
        self.context_length = context_length
        self.models = [
            {"name": LOCAL, "model": LOCAL, "size": 2_019_393_189, "details": {"family": "llama"}},
            {"name": CLOUD, "model": CLOUD, "size": 384, "remote_host": "https://ollama.com:443", "details": {}},
        ]
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self, route: str, body: dict[str, Any], window: int) -> tuple[str, int, dict[str, Any] | None]:
        messages = body["messages"]
        text = "\n".join(m["content"] for m in messages)
        tokens = len(text) // 4
        cut = tokens > window
        kept = text[-window * 4 :] if cut else text  # the front is dropped, silently
        with self._lock:
            self.requests.append(Seen(route, body["model"], window, tokens, cut, kept))
        schema = body.get("format") if route == "/api/chat" else _openai_schema(body)
        user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        return (
            default_answer(user if not cut else kept, schema if isinstance(schema, dict) else None),
            min(tokens, window),
            schema,
        )

    def _handler(self) -> type[QuietHandler]:
        ollama = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.path == "/api/tags":
                    return self.send_json(200, {"models": ollama.models})
                if self.path == "/api/version" and ollama.version:
                    return self.send_json(200, {"version": "0.13.0"})
                self.send_json(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.read_body() or b"{}")
                known = {m["name"]: m for m in ollama.models}
                model = body.get("model", "")
                if self.path in ("/api/show", "/api/chat", "/v1/chat/completions") and model not in known:
                    return self.send_json(404, {"error": f"model '{model}' not found"})
                if self.path == "/api/show":
                    family = known[model]["details"].get("family", "gptoss")
                    answer: dict[str, Any] = {"model_info": {f"{family}.context_length": ollama.context_length}}
                    if "remote_host" in known[model]:
                        answer["remote_host"] = known[model]["remote_host"]
                        answer["remote_model"] = model.removesuffix("-cloud")
                    return self.send_json(200, answer)
                if self.path == "/api/chat":
                    window = (body.get("options") or {}).get("num_ctx") or ollama.default_window
                    text, tokens, _ = ollama._run("/api/chat", body, window)
                    return self.send_json(200, {
                        "model": model, "message": {"role": "assistant", "content": text}, "done": True,
                        "done_reason": "stop", "prompt_eval_count": tokens, "eval_count": len(text) // 4,
                    })  # fmt: skip
                if self.path == "/v1/chat/completions":
                    text, tokens, _ = ollama._run("/v1/chat/completions", body, ollama.default_window)
                    return self.send_json(200, {
                        "id": "chatcmpl-ollama", "object": "chat.completion", "created": 0, "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": tokens, "completion_tokens": len(text) // 4, "total_tokens": 0},
                    })  # fmt: skip
                self.send_json(404, {"error": "not found"})

        return Handler


def _openai_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if not fmt:
        return None
    return fmt["json_schema"]["schema"] if fmt.get("type") == "json_schema" else fmt.get("schema")
