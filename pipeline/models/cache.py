"""The workspace's own state in .essay/state.sqlite: answered calls, a log of every call, the versions
written, what structured output each endpoint accepts, and the sorting models' vectors of note texts.

A request identical to one already answered is not sent again. That makes an interrupted run
resumable and a rerun on unchanged inputs free. Each call is keyed by what was sent (endpoint,
model, messages, schema, limits) and its purpose's `sample` label: sorting notes uses none, so an
unchanged sort is reused; writing sections uses the essay and the version being written, so a
resumed run of v003 reuses its answers while a new draft (v004) asks afresh. API keys are never stored.
The cache and the log are separate layers: `--no-cache` still logs every call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.errors import StateError
from pipeline.models.llm import ChatModel, Completion, Messages, Purpose, WrappedModel

# Each step brings a state file of the version before it up to date; user_version counts the steps.
_MIGRATIONS: list[str] = [
    """
    create table if not exists responses (key text primary key, text text not null,
        prompt_tokens integer not null, completion_tokens integer not null, finish_reason text, created real not null);
    create table if not exists calls (at real not null, essay text not null, stage text not null,
        provider text not null, model text not null, prompt_tokens integer not null,
        completion_tokens integer not null, seconds real not null, cache_hit integer not null);
    """,
    """
    alter table calls add column cached_tokens integer not null default 0;
    create table written (essay text not null, version integer not null, at real not null);
    create table modes (endpoint text primary key, mode text not null);
    """,
    """
    alter table calls add column batch integer not null default 0;
    """,
    """
    create table vectors (model text not null, key text not null, vector blob not null, primary key (model, key));
    """,
]


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the file up to date in one write transaction that reads the version itself: two runs that open
    an old file at once migrate it once, the second finding the work done."""
    db.execute("begin immediate")
    try:
        done = db.execute("pragma user_version").fetchone()[0]
        for number, script in enumerate(_MIGRATIONS[done:], start=done + 1):
            for statement in filter(str.strip, script.split(";")):  # the scripts hold no ";" inside a statement
                db.execute(statement)
            db.execute(f"pragma user_version = {number}")
    except BaseException:
        db.execute("rollback")
        raise
    db.execute("commit")


class Store:
    """One SQLite file, shared by the threads of a run; each answer is committed as it arrives,
    so a run killed at any moment keeps every call that was already answered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.recovered: str | None = None  # set when a damaged file was moved aside
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StateError(
                f"{path.parent} is a file, but essay keeps its state in a folder of that name: "
                "move the file away and run again"
            ) from None
        try:
            self._db = self._open_waiting()
        except sqlite3.OperationalError as exc:  # locked, busy, read-only: not damage, so nothing is moved
            raise StateError(f"{path} could not be opened ({exc}): is another essay holding it? run again") from None
        except sqlite3.DatabaseError as exc:
            aside = path.with_name(f"{path.name}.damaged-{dt.datetime.now():%Y%m%d-%H%M%S}")
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            self.recovered = (
                f"{path} was damaged ({exc}): moved it to {aside.name} and started afresh; the answers "
                "it kept and the call log are lost, so calls are sent again (your drafts are untouched)"
            )
            self._db = self._open()
        self._lock = threading.RLock()
        self.modes = _Modes(self)

    def _open_waiting(self) -> sqlite3.Connection:
        """Open, waiting out runs that open the same file at the same moment: switching a new file to WAL
        answers "locked" at once rather than waiting as other statements do."""
        attempts = 0
        while True:
            try:
                return self._open()
            except sqlite3.OperationalError as exc:
                attempts += 1
                if "locked" not in str(exc) or attempts == 50:
                    raise
                time.sleep(0.1)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        try:
            db.execute("pragma journal_mode=wal")
            _migrate(db)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def get(self, key: str) -> Completion | None:
        rows = self._rows(
            "select text, prompt_tokens, completion_tokens, finish_reason from responses where key = ?", (key,)
        )
        return Completion(*rows[0], from_cache=True) if rows else None

    def put(self, key: str, answer: Completion) -> None:
        self._rows(
            "insert or replace into responses values (?, ?, ?, ?, ?, ?)",
            (key, answer.text, answer.prompt_tokens, answer.completion_tokens, answer.finish_reason, time.time()),
        )

    def log_call(
        self, purpose: Purpose, llm: ChatModel, answer: Completion, seconds: float, batch: bool = False
    ) -> None:
        """One call; `batch` for one answered through the provider's Batch API (priced at batch rates)."""
        self._rows(
            "insert into calls values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                purpose.essay,
                purpose.stage,
                llm.provider,
                llm.model,
                answer.prompt_tokens,
                answer.completion_tokens,
                seconds,
                int(answer.from_cache),
                answer.cached_tokens,
                int(batch),
            ),
        )

    def recall(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors `model` made before for these text digests (float32 rows, as they were made)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite caps the parameters of one statement
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._rows(f"select key, vector from vectors where model = ? and key in ({marks})", (model, *chunk))
            found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        return found

    def keep(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.transaction():  # one commit for the lot, not a disk sync a row
            self._db.executemany(
                "insert or replace into vectors values (?, ?, ?)",
                [(model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in vectors.items()],
            )

    def mark_written(self, essay: str, version: int) -> None:
        self._rows("insert into written values (?, ?, ?)", (essay, version, time.time()))

    def times_written(self, essay: str, version: int) -> int:
        """How often a version of this number was written: a deleted v003 drafted again is a new sample."""
        return self._rows("select count(*) from written where essay = ? and version = ?", (essay, version))[0][0]

    def recent_calls(self, limit: int) -> list[tuple[float, str, str, str, int, int, int, float, bool]]:
        """The latest calls, oldest first: when, essay, stage, model, tokens in, of them served from the
        server's prompt cache, tokens out, seconds, and whether our cache answered."""
        rows = self._rows(
            "select at, essay, stage, model, prompt_tokens, cached_tokens, completion_tokens, seconds, cache_hit "
            "from calls order by at desc limit ?",
            (limit,),
        )
        return [(*row[:8], bool(row[8])) for row in reversed(rows)]

    def totals(self, essay: str | None = None) -> list[tuple[str, str, int, int, int, int, int, bool]]:
        """Per provider, model and way of sending (direct, or the Batch API): calls sent, cache hits, and the
        tokens of the calls sent: in, of them read from the server's prompt cache, and out."""
        where, args = ("where essay = ?", (essay,)) if essay else ("", ())
        rows = self._rows(
            "select provider, model, sum(1 - cache_hit), sum(cache_hit), "
            "sum(case when cache_hit then 0 else prompt_tokens end), "
            "sum(case when cache_hit then 0 else cached_tokens end), "
            f"sum(case when cache_hit then 0 else completion_tokens end), batch from calls {where} "
            "group by provider, model, batch order by provider, model, batch",
            args,
        )
        return [(*row[:7], bool(row[7])) for row in rows]

    @property
    def connection(self) -> sqlite3.Connection:
        """The sqlite connection itself, for a table of another module (the Batch API's submissions); use it
        while no other thread of the run uses the store."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Everything done inside (put, log_call, other statements) is kept together or not at all."""
        with self._lock:
            self._db.execute("begin immediate")
            try:
                yield self._db
            except BaseException:
                self._db.execute("rollback")
                raise
            self._db.execute("commit")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Modes(MutableMapping[str, str]):
    """The structured-output mode each endpoint and model accepts, and whether an endpoint was seen to report
    prompt tokens read from its cache, kept across runs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getitem__(self, key: str) -> str:
        rows = self._store._rows("select mode from modes where endpoint = ?", (key,))
        if not rows:
            raise KeyError(key)
        return str(rows[0][0])

    def __setitem__(self, key: str, mode: str) -> None:
        self._store._rows("insert or replace into modes values (?, ?)", (key, mode))

    def __delitem__(self, key: str) -> None:
        self._store._rows("delete from modes where endpoint = ?", (key,))

    def __iter__(self) -> Iterator[str]:
        return iter([row[0] for row in self._store._rows("select endpoint from modes")])

    def __len__(self) -> int:
        return int(self._store._rows("select count(*) from modes")[0][0])


def call_key(llm: ChatModel, messages: Messages, options: dict[str, Any]) -> str:
    """The key of one call as a model of the stack receives it (its options carry the purpose)."""
    purpose = options.get("purpose") or Purpose()
    sent = {k: v for k, v in options.items() if k != "purpose"}
    return request_key(llm, messages, sent, purpose.sample)


def request_key(llm: ChatModel, messages: Messages, options: dict[str, Any], sample: str) -> str:
    payload = json.dumps(
        [llm.provider, llm.endpoint, llm.model, [dict(m) for m in messages], options, sample],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class CachingModel(WrappedModel):
    """Answers from the store when the same request was answered before; keeps every new answer."""

    def __init__(self, inner: ChatModel, store: Store) -> None:
        super().__init__(inner)
        self.store = store

    def complete(self, messages: Messages, **options: Any) -> Completion:
        key = call_key(self.inner, messages, options)
        answer = self.store.get(key)
        if answer is None:
            answer = self.inner.complete(messages, **options)
            if answer.text.strip():
                self.store.put(key, answer)
        return answer


class LoggingModel(WrappedModel):
    """Logs every call it is asked, answered by the cache or sent: essay, stage, tokens, time."""

    def __init__(self, inner: ChatModel, log: Callable[[Purpose, ChatModel, Completion, float], None]) -> None:
        super().__init__(inner)
        self.log = log

    def complete(self, messages: Messages, **options: Any) -> Completion:
        started = time.perf_counter()
        answer = self.inner.complete(messages, **options)
        self.log(options.get("purpose") or Purpose(), self.inner, answer, time.perf_counter() - started)
        return answer
