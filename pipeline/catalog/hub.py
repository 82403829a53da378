"""The Hugging Face Hub as `essay models pull` reads it: where a file is, its size and its sha256.

`HF_ENDPOINT` (a mirror, or a loopback stand-in in tests) and `HF_TOKEN` are read at each call, not at import.
A HEAD on `{endpoint}/{repo}/resolve/{revision}/{file}` answers, for a file kept in Git LFS (every GGUF), with a
redirect to the CDN carrying `X-Linked-Etag` (the file's sha256), `X-Linked-Size` and `X-Repo-Commit`. The token
goes to the Hub only: httpx drops the Authorization header when a redirect leaves its origin.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx

from pipeline.core.errors import DownloadError

DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hub_token() -> str | None:
    """HF_TOKEN, else the token `hf auth login` saved; never printed, logged or stored by essay."""
    if token := os.environ.get("HF_TOKEN", "").strip():
        return token
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    try:
        return (home / "token").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def hub_client(timeout: float = 30.0) -> httpx.Client:
    token = hub_token()
    headers = {"user-agent": "essay"} | ({"authorization": f"Bearer {token}"} if token else {})
    return httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=False)


@dataclass(frozen=True)
class HubFile:
    url: str  # the resolve URL; a GET follows its redirect to wherever the bytes are
    sha256: str | None  # from X-Linked-Etag: None for a file not kept in LFS
    size: int
    commit: str  # the revision it resolved to


def resolve_url(repo: str, file: str, revision: str) -> str:
    return f"{hub_endpoint()}/{repo}/resolve/{quote(revision, safe='')}/{quote(file)}"


def file_info(client: httpx.Client, repo: str, file: str, revision: str) -> HubFile:
    url = resolve_url(repo, file, revision)
    try:
        for _hop in range(4):  # the Hub redirects a renamed repository within itself; follow those
            response = client.head(url)
            linked = response.headers.get("x-linked-etag")
            if response.is_redirect and not linked and response.headers.get("location", "").startswith("/"):
                url = urljoin(url, response.headers["location"])
                continue
            break
    except httpx.HTTPError as exc:
        raise DownloadError(unreachable(exc)) from None
    if response.status_code in (401, 403):
        raise DownloadError(
            f"the Hub refused {repo}/{file} (HTTP {response.status_code}): it is gated or private; accept its terms "
            "on huggingface.co and set HF_TOKEN"
        )
    if response.status_code == 404:
        raise DownloadError(
            f"the Hub has no file {file} in {repo} at {revision}: check the name (`essay models` lists the catalog)"
        )
    if response.status_code >= 400:
        raise DownloadError(f"the Hub answered HTTP {response.status_code} for {repo}/{file}: try again later")
    etag = _unquoted(response.headers.get("x-linked-etag") or response.headers.get("etag") or "")
    size = response.headers.get("x-linked-size") or response.headers.get("content-length") or ""
    if not size.isdigit():
        raise DownloadError(f"the Hub did not say how big {repo}/{file} is: try again later")
    commit = response.headers.get("x-repo-commit") or revision
    return HubFile(url, etag if _SHA256.match(etag) else None, int(size), commit)


def unreachable(exc: Exception) -> str:
    return (
        f"cannot reach the Hugging Face Hub at {hub_endpoint()} ({type(exc).__name__}): check the connection or "
        "HF_ENDPOINT; a GGUF file you have works as --model PATH.gguf, and a running Ollama's models as "
        "--model ollama:NAME"
    )


def _unquoted(etag: str) -> str:
    return etag.removeprefix("W/").strip('"').lower()
