"""The workspace's own state in .essay/state.sqlite: answered calls, and a log of every call.

A request identical to one already answered is not sent again. That makes an interrupted run
resumable and a rerun on unchanged inputs free. Each call is keyed by what was sent (endpoint,
model, messages, schema, limits) and a `sample` label: sorting notes uses none, so an unchanged
sort is reused; writing sections uses the essay and the version being written, so a resumed run
of v003 reuses its answers while a new draft (v004) asks afresh. API keys are never stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pipeline.llm import ChatModel, Completion, Messages, WrappedModel

_SCHEMA = """
create table if not exists responses (
    key text primary key,
    text text not null,
    prompt_tokens integer not null,
    completion_tokens integer not null,
    finish_reason text,
    created real not null
);
create table if not exists calls (
    at real not null,
    essay text not null,
    stage text not null,
    provider text not null,
    model text not null,
    prompt_tokens integer not null,
    completion_tokens integer not null,
    seconds real not null,
    cache_hit integer not null
);
"""


class Store:
    """One SQLite file, shared by the threads of a run; each answer is committed as it arrives,
    so a run killed at any moment keeps every call that was already answered."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "select text, prompt_tokens, completion_tokens, finish_reason from responses where key = ?", (key,)
            ).fetchone()
        return Completion(*row) if row else None

    def put(self, key: str, answer: Completion) -> None:
        with self._lock:
            self._db.execute(
                "insert or replace into responses values (?, ?, ?, ?, ?, ?)",
                (key, answer.text, answer.prompt_tokens, answer.completion_tokens, answer.finish_reason, time.time()),
            )

    def log_call(self, essay: str, stage: str, llm: ChatModel, answer: Completion, seconds: float, hit: bool) -> None:
        with self._lock:
            self._db.execute(
                "insert into calls values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    essay,
                    stage,
                    llm.provider,
                    llm.model,
                    answer.prompt_tokens,
                    answer.completion_tokens,
                    seconds,
                    int(hit),
                ),
            )

    def recent_calls(self, limit: int) -> list[tuple[float, str, str, str, int, int, float, bool]]:
        """The latest calls, oldest first: when, essay, stage, model, tokens in and out, seconds, cache hit."""
        with self._lock:
            rows = self._db.execute(
                "select at, essay, stage, model, prompt_tokens, completion_tokens, seconds, cache_hit "
                "from calls order by at desc limit ?",
                (limit,),
            ).fetchall()
        return [(*row[:7], bool(row[7])) for row in reversed(rows)]

    def totals(self, essay: str | None = None) -> list[tuple[str, str, int, int, int, int]]:
        """Per provider and model: calls sent, cache hits, and the tokens of the calls sent."""
        where, args = ("where essay = ?", (essay,)) if essay else ("", ())
        with self._lock:
            return self._db.execute(
                "select provider, model, sum(1 - cache_hit), sum(cache_hit), "
                "sum(case when cache_hit then 0 else prompt_tokens end), "
                f"sum(case when cache_hit then 0 else completion_tokens end) from calls {where} "
                "group by provider, model order by provider, model",
                args,
            ).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request_key(llm: ChatModel, messages: Messages, options: dict[str, Any], sample: str) -> str:
    payload = json.dumps(
        [llm.provider, llm.endpoint, llm.model, [dict(m) for m in messages], options, sample],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class CachedModel(WrappedModel):
    """A ChatModel that answers from the store when it can, and logs every call it is asked."""

    def __init__(self, inner: ChatModel, store: Store | None, *, essay: str, stage: str, sample: str = "") -> None:
        super().__init__(inner)
        self.store = store
        self.essay, self.stage, self.sample = essay, stage, sample

    def complete(self, messages: Messages, **options: Any) -> Completion:
        if self.store is None:
            return self.inner.complete(messages, **options)
        key = request_key(self.inner, messages, options, self.sample)
        started = time.perf_counter()
        answer = self.store.get(key)
        hit = answer is not None
        if answer is None:
            answer = self.inner.complete(messages, **options)
            if answer.text.strip():
                self.store.put(key, answer)
        self.store.log_call(self.essay, self.stage, self.inner, answer, time.perf_counter() - started, hit)
        return answer
