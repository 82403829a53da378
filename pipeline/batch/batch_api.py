"""The Batch API path: many chat calls sent as one deferred batch (half price, no rate limits), collected later.

submit() never sends the same calls twice, even if killed at any moment: each step (intent, file, batch) is committed
to sqlite before the next, and a re-run looks for what the provider already has (a file named after the submission
key, a batch whose metadata carries it) before creating anything. Collected lines sent again start a new round.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import openai
from openai import OpenAI

from pipeline.core.errors import LLMError
from pipeline.models.llm import Completion
from pipeline.models.scrub import KeyScrubber

ENDPOINT = "/v1/chat/completions"
META_KEY = "essay_submission"
FILENAME = "essay-{}.jsonl"
_SEARCH_BACK = 86_400.0  # how far before a recorded intent to look for our batches: clocks and queues differ
_RUNNING = {"validating", "in_progress", "finalizing", "cancelling"}
_TABLE = """create table if not exists batch_submissions (
    key text primary key, digest text not null, round integer not null, requests integer not null,
    file_id text, batch_id text, status text not null, created real not null, updated real not null)"""


@dataclass(frozen=True)
class BatchLine:
    custom_id: str
    body: dict[str, Any]  # a chat completion request, as sent to /v1/chat/completions


def to_jsonl(lines: Iterable[BatchLine]) -> bytes:
    """The batch input file. Keys are sorted so that the same calls always give the same bytes, hence the same key."""
    rows = ({"custom_id": x.custom_id, "method": "POST", "url": ENDPOINT, "body": x.body} for x in lines)
    return b"".join(json.dumps(row, sort_keys=True, ensure_ascii=False).encode() + b"\n" for row in rows)


@dataclass(frozen=True)
class Submission:
    key: str  # in the file name and the batch metadata: the digest of the lines, with "-N" from round 2 on
    digest: str
    round: int
    requests: int
    file_id: str | None
    batch_id: str | None
    status: str  # intent, uploaded, submitted, collected
    created: float


class SubmissionRecord:
    """The submissions in flight, in their own table of the workspace's sqlite; each step is committed at once."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = threading.Lock()
        db.execute(_TABLE)
        db.commit()

    def latest(self, digest: str) -> Submission | None:
        return next(iter(self._select("where digest = ? order by round desc limit 1", digest)), None)

    def pending(self) -> list[Submission]:
        """Submissions not yet collected, oldest first; those without a batch id need submit() again."""
        return self._select("where status != 'collected' order by created")

    def intend(self, key: str, digest: str, round_: int, requests: int) -> Submission:
        now = time.time()
        self._write(
            "insert into batch_submissions values (?, ?, ?, ?, null, null, 'intent', ?, ?)",
            (key, digest, round_, requests, now, now),
        )
        return Submission(key, digest, round_, requests, None, None, "intent", now)

    def set_file(self, key: str, file_id: str) -> None:
        self._step(key, "uploaded", file_id=file_id)

    def set_batch(self, key: str, batch_id: str) -> None:
        self._step(key, "submitted", batch_id=batch_id)

    def mark_collected(self, key: str) -> None:
        """Call once the answers are stored: the same lines submitted again then start a new round."""
        self._step(key, "collected")

    def _select(self, where: str, *args: Any) -> list[Submission]:
        with self._lock:
            rows = self._db.execute(f"{_SELECT} {where}", args).fetchall()
        return [Submission(*row) for row in rows]

    def _step(self, key: str, status: str, **ids: str) -> None:
        sets = "".join(f", {column} = ?" for column in ids)  # column names come from this module only
        self._write(
            f"update batch_submissions set status = ?, updated = ?{sets} where key = ?",
            (status, time.time(), *ids.values(), key),
        )

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, args)
            self._db.commit()  # each step must survive a kill before the next one starts


_SELECT = "select key, digest, round, requests, file_id, batch_id, status, created from batch_submissions"


def submit(client: OpenAI, lines: Sequence[BatchLine], record: SubmissionRecord) -> str:
    """Send the lines as one batch and return its id; a re-run after a kill returns the same batch."""
    ids = [line.custom_id for line in lines]
    if not ids or len(set(ids)) != len(ids):
        raise ValueError("a batch needs at least one line, and each custom_id once")
    data = to_jsonl(lines)
    digest = hashlib.sha256(data).hexdigest()[:32]
    sub = record.latest(digest)
    fresh = sub is None or sub.status == "collected"
    if fresh:
        round_ = sub.round + 1 if sub else 1
        key = digest if round_ == 1 else f"{digest}-{round_}"
        sub = record.intend(key, digest, round_, len(lines))  # before anything leaves this machine
    if sub.batch_id:
        return sub.batch_id
    try:
        file_id = sub.file_id or (None if fresh else _find_file(client, sub.key)) or _upload(client, sub.key, data)
        if sub.file_id is None:
            record.set_file(sub.key, file_id)
        batch_id = (None if fresh else _find_batch(client, sub, file_id)) or client.batches.create(
            input_file_id=file_id, endpoint=ENDPOINT, completion_window="24h", metadata={META_KEY: sub.key}
        ).id
    except openai.OpenAIError as exc:
        raise _explain(exc, client) from exc
    record.set_batch(sub.key, batch_id)
    return batch_id


def _upload(client: OpenAI, key: str, data: bytes) -> str:
    return client.files.create(file=(FILENAME.format(key), data, "application/jsonl"), purpose="batch").id


def _find_file(client: OpenAI, key: str) -> str | None:
    """A file this submission uploaded before the process died, if any (batch files live 30 days)."""
    for item in client.files.list(purpose="batch", order="desc"):
        if item.filename == FILENAME.format(key) and item.status != "error":
            return item.id
    return None


def _find_batch(client: OpenAI, sub: Submission, file_id: str) -> str | None:
    """A batch this submission created before the process died, if any; batches are listed newest first."""
    for batch in client.batches.list(limit=100):
        if (batch.metadata or {}).get(META_KEY) == sub.key or batch.input_file_id == file_id:
            return batch.id
        if batch.created_at < sub.created - _SEARCH_BACK:
            break
    return None


@dataclass
class BatchOutcome:
    batch_id: str
    status: str  # in_progress, completed, failed, expired or cancelled
    answers: dict[str, Completion] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # custom_id -> one line on why it has no answer


def collect(client: OpenAI, batch_id: str, *, expected: Iterable[str] | None = None) -> BatchOutcome:
    """Where a batch stands and, once it has ended, every answer it holds (partial ones too) and why the rest failed.
    `expected` (the custom_ids sent) spares a download of the input file when some lines have no result line."""
    try:
        batch = client.batches.retrieve(batch_id)
        if batch.status in _RUNNING:
            return BatchOutcome(batch_id, "in_progress")
        outcome = BatchOutcome(batch_id, batch.status)
        for file_id in (batch.output_file_id, batch.error_file_id):
            for row in _read_jsonl(client, file_id):
                _take(row, outcome)
        total = batch.request_counts.total if batch.request_counts else 0
        if batch.status != "completed" or len(outcome.answers) + len(outcome.errors) < total:
            sent = expected
            if sent is None:  # which custom_ids were sent: the input file says
                sent = [row["custom_id"] for row in _read_jsonl(client, batch.input_file_id)]
            reason = _missing_reason(batch)
            for custom_id in sent:
                if custom_id not in outcome.answers:
                    outcome.errors.setdefault(custom_id, reason)
    except openai.OpenAIError as exc:
        raise _explain(exc, client) from exc
    # Whatever a server echoes back, no key reaches a message, the cache or a draft: the direct calls' scrub.
    scrub = KeyScrubber([client.api_key or ""])
    outcome.errors = {k: scrub(v) for k, v in outcome.errors.items()}
    outcome.answers = {k: replace(a, text=scrub(a.text)) for k, a in outcome.answers.items()}
    return outcome


def _read_jsonl(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if not file_id:
        return []
    rows = []
    for raw in client.files.content(file_id).content.splitlines():
        with contextlib.suppress(ValueError):  # a garbled line: its custom_id is reported missing
            rows.append(json.loads(raw))
    return [row for row in rows if isinstance(row, dict) and isinstance(row.get("custom_id"), str)]


def _take(row: dict[str, Any], outcome: BatchOutcome) -> None:
    """One line of the output or error file: an answer, or the reason there is none."""
    custom_id, response, error = row["custom_id"], row.get("response"), row.get("error")
    if custom_id in outcome.answers:
        return
    response = response if isinstance(response, dict) else {}
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    answer = _answer(body) if not error and response.get("status_code") == 200 else None
    if answer is None:
        outcome.errors[custom_id] = _reason(error, response, body)
    else:
        outcome.answers[custom_id] = answer
        outcome.errors.pop(custom_id, None)


def _answer(body: dict[str, Any]) -> Completion | None:
    choices = body.get("choices") or []
    message = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
    if not isinstance(message, dict):
        return None
    usage = body.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    tokens = [usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0]
    finish, cached = choices[0].get("finish_reason"), details.get("cached_tokens") or 0
    thought = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return Completion(
        message.get("content") or "", *tokens, finish_reason=finish, cached_tokens=cached, reasoning_tokens=thought
    )


def _reason(error: Any, response: dict[str, Any], body: dict[str, Any]) -> str:
    if isinstance(error, dict) and (error.get("message") or error.get("code")):
        text = f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}"
    elif response.get("status_code") == 200:
        text = "its answer holds no chat message"
    else:
        detail = body.get("error")
        message = detail.get("message") if isinstance(detail, dict) else detail
        text = f"HTTP {response.get('status_code', '?')}: {message or 'no message'}"
    return " ".join(str(text).split())[:300]


def _missing_reason(batch: Any) -> str:
    problems = (batch.errors.data if batch.errors else None) or []  # why a whole batch failed, e.g. a bad input
    first = " ".join(str(problems[0].message or problems[0].code).split())[:200] if problems else "no reason given"
    return {
        "expired": "the batch expired (24h window) before this request ran: submit it again",
        "cancelled": "the batch was cancelled before this request ran",
        "failed": f"the batch failed: {first}",
    }.get(batch.status, "the batch ended with no result for this request")


def _explain(exc: openai.OpenAIError, client: OpenAI) -> LLMError:
    """The one line a writer needs when the Batch API itself fails; never with the API key in it."""
    endpoint, first = str(client.base_url).rstrip("/"), " ".join(str(getattr(exc, "message", "") or exc).split())
    template = next((m for kind, m in _KINDS if isinstance(exc, kind)), "{endpoint}: {first}")
    # A 404 on one batch or file names it; on /files or /batches itself it means the endpoint has no Batch API.
    item = isinstance(exc, openai.NotFoundError) and re.search(
        r"/(?P<kind>batch|file)e?s/(?P<id>[^/]+)", exc.request.url.path
    )
    if item:
        template = "{kind} {id} not found at {endpoint} (404): it expired, or belongs to another account"
    status = getattr(exc, "status_code", "?")
    fields = {"endpoint": endpoint, "first": first[:200] or "no message", "status": status}
    message = template.format(**fields, **(item.groupdict() if item else {}))
    return LLMError(KeyScrubber([client.api_key or ""])(message))


_KINDS: list[tuple[type[Exception], str]] = [  # the first that fits, as in providers/openai_chat.py
    (openai.AuthenticationError, "{endpoint} refused the API key (401): set OPENAI_API_KEY to a valid key"),
    (openai.PermissionDeniedError, "{endpoint} denied access to the Batch API (403): check what the key may use"),
    (openai.NotFoundError, "{endpoint} has no Batch API (404): run without --defer"),
    (openai.RateLimitError, "{endpoint} answered 429 (a rate or batch queue limit): try again later"),
    (openai.APIStatusError, "{endpoint} answered HTTP {status} to a Batch API request: {first}"),
    (openai.APITimeoutError, "{endpoint} did not answer in time: try again later"),
    (openai.APIConnectionError, "cannot reach {endpoint}: is the server running, and is --base-url right?"),
]
