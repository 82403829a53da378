"""The HTTP plumbing every loopback stand-in shares (the OpenAI-compatible, Ollama, Hub, Batch API, LM Studio and
benchmark servers): a threaded server on 127.0.0.1 at a free port, served from a thread while a `with` block runs,
and a quiet handler that reads a request's body and writes its answer with a content-length.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

JSON = "application/json"


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, so a test's output holds only what the test prints."""

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def read_json(self) -> Any:
        return json.loads(self.read_body())

    def send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self.send_data(status, json.dumps(payload).encode(), JSON, headers)

    def send_data(
        self, status: int, data: bytes, content_type: str | None = JSON, headers: Mapping[str, str] | None = None
    ) -> None:
        """The status, any `headers`, then the content type (none if None) and length, then the data."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type is not None:
            self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class LoopbackServer:
    """`handler` served on 127.0.0.1 at a port the system picks, from a daemon thread while in a `with` block.

    Each request runs in a daemon thread of its own (ThreadingHTTPServer's default), so a call held open by a test
    never keeps the process from ending. `poll_interval` is how often serve_forever looks for a shutdown."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, poll_interval: float = 0.5) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(poll_interval,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
