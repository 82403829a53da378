"""A loopback OpenAI-compatible server with the Batch API (files and batches); the real openai SDK drives it.

Files stay in memory, uploads included (`uploads`, `file_bytes`). A batch is `validating`, then `in_progress`, then
at `delay` seconds after its creation `completed` (or `expired`), by `clock`: time.time for CLI tests, or a
ManualClock that tests advance so they never sleep. A cancelled batch is `cancelling`, then `cancelled` at the next
look. Output and error lines come back shuffled. An input that is not valid (bad JSON, a repeated custom_id, another
url) fails the batch at once. The knobs are `Knobs`' fields, passed as keywords (`server.knobs` can change).
`/v1/chat/completions` is served too: `chat_calls` counts those calls; `calls` logs (method, path) of every request.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_server import _schema_from_text
from tests.fakes import default_answer
from tests.loopback import LoopbackServer, QuietHandler

ENDPOINT = "/v1/chat/completions"
_DONE = ("completed", "expired", "cancelled", "failed")
Json = dict[str, Any]


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now  # near real time: clients compare it with their own clock

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Knobs:
    delay: float = 0.0  # seconds from creation until the batch ends
    validate_seconds: float = 0.0  # seconds it stays `validating`
    fail: Collection[str] | Callable[[str], bool] = ()  # custom_ids (or a predicate) whose lines fail
    fail_style: str = "error"  # "error": response null, an `error` object; "http": a 400 body, error null (OpenAI's)
    expire: bool = False  # the batch expires at `delay`, with only `partial` of its lines answered
    partial: float = 0.5  # share of lines (the first ones) answered before an expiry or a cancel
    list_unfinished: bool = True  # an expired or cancelled batch lists its unrun lines in the error file, as OpenAI's
    batch_api: bool = True  # False: /files and /batches answer 404, like an endpoint without a Batch API
    cached_tokens: int = 0  # reported in usage.prompt_tokens_details of every answer
    seed: int = 0  # of the shuffle of output lines
    echo: str = ""  # added to every prose answer, as a proxy that echoes what it was sent (a key) might

    def fails(self, custom_id: str) -> bool:
        return self.fail(custom_id) if callable(self.fail) else custom_id in self.fail


@dataclass
class _Batch:
    obj: Json
    lines: list[Json]
    created: float
    cancel_requested: bool = False


class BatchServer(LoopbackServer):
    def __init__(self, clock: Callable[[], float] = time.time, **knobs: Any) -> None:
        self.clock, self.knobs = clock, Knobs(**knobs)
        self.files: dict[str, tuple[Json, bytes]] = {}  # id -> (FileObject, content)
        self.batches: dict[str, _Batch] = {}
        self.chat_calls = 0
        self.calls: list[tuple[str, str]] = []
        self._rng = random.Random(self.knobs.seed)
        self._ids = 0
        self._lock = threading.RLock()
        super().__init__(_Handler, poll_interval=0.05)
        self.httpd.app = self  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def uploads(self) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every file a client uploaded, in order."""
        return [(meta["filename"], data) for meta, data in self.files.values() if meta["purpose"] == "batch"]

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id][1]

    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06d}"

    def _now(self) -> int:
        return int(self.clock())

    def add_file(self, filename: str, data: bytes, purpose: str) -> Json:
        with self._lock:
            meta = {"id": self._new_id("file-"), "object": "file", "bytes": len(data), "created_at": self._now()}
            meta |= {"filename": filename, "purpose": purpose, "status": "processed", "expires_at": None}
            self.files[meta["id"]] = (meta, data)
            return meta

    def create_batch(self, request: Json) -> tuple[int, Json]:
        with self._lock:
            meta, data = self.files.get(request.get("input_file_id", ""), (None, b""))
            if meta is None:
                return 400, _error(f"No file found with id '{request.get('input_file_id')}'.")
            now = self._now()
            obj: Json = {"id": self._new_id("batch_"), "object": "batch", "endpoint": request["endpoint"]}
            obj |= {"errors": None, "input_file_id": meta["id"], "completion_window": "24h", "created_at": now}
            obj |= {"status": "validating", "output_file_id": None, "error_file_id": None}
            obj |= {"expires_at": now + 86_400, "metadata": request.get("metadata") or {}}
            lines, problems = _parse_input(data, request["endpoint"])
            obj["request_counts"] = {"total": len(lines), "completed": 0, "failed": 0}
            if problems:
                obj |= {"status": "failed", "failed_at": now, "errors": {"object": "list", "data": problems}}
            self.batches[obj["id"]] = _Batch(obj, lines, self.clock())
            return 200, obj

    def batch(self, batch_id: str) -> _Batch | None:
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is not None:
                self._refresh(batch)
            return batch

    def cancel(self, batch: _Batch) -> tuple[int, Json]:
        if batch.obj["status"] in _DONE:
            return 409, _error(f"Cannot cancel a batch with status '{batch.obj['status']}'.")
        batch.cancel_requested = True
        batch.obj |= {"status": "cancelling", "cancelling_at": self._now()}
        return 200, batch.obj

    def _refresh(self, batch: _Batch) -> None:
        """Move a batch along by the clock; settle it (write its files) once, when it ends."""
        if batch.obj["status"] in _DONE:
            return
        age = self.clock() - batch.created
        if batch.cancel_requested:
            self._settle(batch, "cancelled")
        elif age >= self.knobs.delay:
            self._settle(batch, "expired" if self.knobs.expire else "completed")
        elif age >= self.knobs.validate_seconds and batch.obj["status"] == "validating":
            batch.obj |= {"status": "in_progress", "in_progress_at": self._now()}

    def _settle(self, batch: _Batch, status: str) -> None:
        ran = len(batch.lines) if status == "completed" else int(len(batch.lines) * self.knobs.partial)
        out: list[Json] = []
        err: list[Json] = []
        for i, line in enumerate(batch.lines):
            custom_id = line["custom_id"]
            if i >= ran:
                if self.knobs.list_unfinished:
                    unrun = {"code": f"batch_{status}", "message": f"This request was not run: the batch {status}."}
                    err.append(self._line(custom_id, None, unrun))
            elif self.knobs.fails(custom_id):
                err.append(self._failure(custom_id))
            else:
                answer = self._answer(line["body"], custom_id)
                out.append(self._line(custom_id, {"status_code": 200, "body": answer}, None))
        self._rng.shuffle(out)
        self._rng.shuffle(err)
        for kind, rows in (("output", out), ("error", err)):
            if rows:
                data = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
                name = f"{batch.obj['id']}_{kind}.jsonl"
                batch.obj[f"{kind}_file_id"] = self.add_file(name, data, "batch_output")["id"]
        failed = len(err) if self.knobs.list_unfinished else ran - len(out)
        batch.obj["request_counts"] |= {"completed": len(out), "failed": failed}
        batch.obj |= {"status": status, f"{status}_at": self._now(), "finalizing_at": self._now()}

    def _line(self, custom_id: str, response: Json | None, error: Json | None) -> Json:
        if response is not None:
            response = {"request_id": self._new_id("req_"), **response}
        return {"id": self._new_id("batch_req_"), "custom_id": custom_id, "response": response, "error": error}

    def _failure(self, custom_id: str) -> Json:
        message = f"the request {custom_id} was refused (as the test asked)"
        if self.knobs.fail_style == "http":
            return self._line(custom_id, {"status_code": 400, "body": _error(message)}, None)
        return self._line(custom_id, None, {"code": "invalid_request", "message": message})

    def _answer(self, body: Json, tag: str) -> Json:
        messages = body.get("messages") or []
        user = next((str(m.get("content", "")) for m in messages if m.get("role") == "user"), "")
        fmt = body.get("response_format") or {}
        schema = fmt["json_schema"]["schema"] if fmt.get("type") == "json_schema" else fmt.get("schema")
        schema = schema or _schema_from_text(messages)
        text = default_answer(user, schema)
        if schema is None:
            text += f" Answer to {tag}."  # so a test sees which line each answer belongs to
            text += f" {self.knobs.echo}" if self.knobs.echo else ""
        prompt, completion = sum(len(str(m.get("content", ""))) for m in messages) // 4, len(text) // 4
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        usage["prompt_tokens_details"] = {"cached_tokens": min(self.knobs.cached_tokens, prompt)}
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        answer = {"id": self._new_id("chatcmpl-"), "object": "chat.completion", "created": self._now()}
        return answer | {"model": body.get("model", "fake"), "choices": [choice], "usage": usage}

    def route(self, method: str, url: str, body: bytes, ctype: str) -> tuple[int, Any]:
        path, query = urlsplit(url).path, {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        with self._lock:
            self.calls.append((method, path))
            parts = path.removeprefix("/v1/").strip("/").split("/")
            if (method, path) == ("POST", ENDPOINT):
                self.chat_calls += 1
                return 200, self._answer(json.loads(body), "chat")
            if not self.knobs.batch_api or parts[0] not in ("files", "batches"):
                return 404, _error(f"Invalid URL ({method} {path})")
            if parts[0] == "files" and method == "POST":
                return 200, self.add_file(*_multipart(body, ctype))
            if parts[0] == "files" and len(parts) == 1:
                metas = [meta for meta, _ in self.files.values() if query.get("purpose") in (None, meta["purpose"])]
                return 200, _page(metas if query.get("order") == "asc" else metas[::-1], query)
            if parts[0] == "files":
                meta, data = self.files.get(parts[1], (None, b""))
                if meta is None:
                    return 404, _error(f"No such File object: {parts[1]}")
                return 200, data if parts[2:] == ["content"] else meta
            if method == "POST" and len(parts) == 1:
                return self.create_batch(json.loads(body))
            if len(parts) == 1:  # newest first, as OpenAI lists them
                return 200, _page([b.obj for b in map(self.batch, reversed(self.batches)) if b], query)
            batch = self.batch(parts[1])
            if batch is None:
                return 404, _error(f"No batch found with id '{parts[1]}'.")
            return self.cancel(batch) if parts[2:] == ["cancel"] else (200, batch.obj)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        app: BatchServer = self.server.app  # type: ignore[attr-defined]
        status, payload = app.route(self.command, self.path, self.read_body(), self.headers.get("content-type", ""))
        if isinstance(payload, bytes):
            self.send_data(status, payload, "application/octet-stream")
        else:
            self.send_json(status, payload)

    do_POST = do_GET


def _error(message: str) -> Json:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def _page(items: list[Json], query: dict[str, str]) -> Json:
    """One page of a cursor list: the items after `after`, at most `limit` of them."""
    ids = [item["id"] for item in items]
    start = ids.index(query["after"]) + 1 if query.get("after") in ids else 0
    limit = int(query.get("limit", 20))
    return {"object": "list", "data": items[start : start + limit], "has_more": start + limit < len(items)}


def _parse_input(data: bytes, endpoint: str) -> tuple[list[Json], list[Json]]:
    lines, problems, seen = [], [], set()
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = json.loads(raw)
        except ValueError:
            problems.append({"code": "invalid_json_line", "line": number, "message": "This line is not valid JSON."})
            continue
        if line.get("url") != endpoint or line.get("method") != "POST":
            problems.append({"code": "invalid_url", "line": number, "message": f"The url must be {endpoint}."})
        elif line.get("custom_id") in seen:
            problems.append({"code": "duplicate_custom_id", "line": number, "message": "The custom_id is repeated."})
        seen.add(line.get("custom_id"))
        lines.append(line)
    return lines, problems


def _multipart(body: bytes, ctype: str) -> tuple[str, bytes, str]:
    """An upload's multipart/form-data body: (filename, bytes, purpose)."""
    message = BytesParser(policy=HTTP).parsebytes(b"content-type: " + ctype.encode() + b"\r\n\r\n" + body)
    parts = {str(p.get_param("name", header="content-disposition")): p for p in message.iter_parts()}
    upload, purpose = parts["file"], parts["purpose"].get_payload(decode=True) or b""
    return upload.get_filename() or "upload", upload.get_payload(decode=True) or b"", purpose.decode()
