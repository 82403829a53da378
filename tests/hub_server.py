"""A loopback stand-in for the Hugging Face Hub, as `essay models pull` meets it (set HF_ENDPOINT to `url`).

`HEAD|GET /{owner}/{repo}/resolve/{revision}/{file}` answers as the Hub does for a file kept in Git LFS: a 302 to
the CDN with `X-Linked-Etag` (the sha256), `X-Linked-Size` and `X-Repo-Commit`. `GET /cdn/{sha256}` serves the bytes,
honouring `Range: bytes=N-` with a 206. `throttle` seconds of pause per 64 kB chunk slow it down; `corrupt` flips
one byte in the middle of what it serves (the headers still give the true hash); `drop_after` closes the first
connection after that many bytes. `served` counts the bytes actually sent, `ranges` the start of each GET.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from tests.loopback import LoopbackServer, QuietHandler

CHUNK = 1 << 16
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class FakeHub(LoopbackServer):
    def __init__(self, files: dict[str, Path], *, throttle: float = 0.0, corrupt: bool = False) -> None:
        self.files = {key: (path, file_sha256(path), path.stat().st_size) for key, path in files.items()}
        self.throttle, self.corrupt = throttle, corrupt
        self.drop_after: int | None = None
        self.served = 0
        self.ranges: list[int] = []
        self.heads = 0
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def _handler(self) -> type[QuietHandler]:
        hub = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                self._resolve(head=True)

            def do_GET(self) -> None:
                if self.path.startswith("/cdn/"):
                    self._bytes(self.path.removeprefix("/cdn/"))
                else:
                    self._resolve(head=False)

            def _resolve(self, head: bool) -> None:
                parts = self.path.lstrip("/").split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    return self._empty(404)
                key = "/".join([parts[0], parts[1], *parts[4:]])
                if key not in hub.files:
                    return self._empty(404)
                _, sha, size = hub.files[key]
                if head:
                    with hub._lock:
                        hub.heads += 1
                self.send_data(302, b"", None, {
                    "location": f"/cdn/{sha}", "x-linked-etag": f'"{sha}"', "x-linked-size": str(size),
                    "x-repo-commit": COMMIT, "etag": '"0000git-blob-sha1"',
                })  # fmt: skip

            def _bytes(self, sha: str) -> None:
                found = next((f for f in hub.files.values() if f[1] == sha), None)
                if found is None:
                    return self._empty(404)
                path, _, size = found
                start = 0
                if header := self.headers.get("range"):
                    start = int(header.removeprefix("bytes=").split("-")[0])
                    if start >= size:
                        return self._empty(416)
                    self.send_response(206)
                    self.send_header("content-range", f"bytes {start}-{size - 1}/{size}")
                else:
                    self.send_response(200)
                with hub._lock:
                    hub.ranges.append(start)
                    drop, hub.drop_after = hub.drop_after, None
                self.send_header("content-length", str(size - start))
                self.end_headers()
                middle = size // 2
                with path.open("rb") as f:
                    f.seek(start)
                    position, sent = start, 0
                    while block := f.read(CHUNK):
                        if hub.corrupt and position <= middle < position + len(block):
                            flipped = bytearray(block)
                            flipped[middle - position] ^= 0xFF
                            block = bytes(flipped)
                        try:
                            self.wfile.write(block)
                        except OSError:  # the client went away (a killed pull)
                            return
                        with hub._lock:
                            hub.served += len(block)
                        position += len(block)
                        sent += len(block)
                        if drop is not None and sent >= drop:
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        if hub.throttle:
                            time.sleep(hub.throttle)

            def _empty(self, status: int) -> None:
                self.send_data(status, b"", None)

        return Handler
