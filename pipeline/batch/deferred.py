"""Deferred calls: the bottom layer of the model stack for `essay batch --defer`, and the ledger of what it kept.

The deferring model takes the place of the provider, so every request it sees has passed the privacy guard and
redaction exactly as a direct call would. A call the cache could not answer is kept (its request body, its key:
the cache's own key, so a collected answer is a cache hit next time) and its essay stops as pending. The ledger, a
table of the workspace's sqlite, holds the kept calls until their batch is collected; the Batch API's submissions
(batch_api.SubmissionRecord) sit in the same file.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.batch.batch_api import BatchLine, BatchOutcome, Submission, SubmissionRecord
from pipeline.core.errors import ContextTooLong, Deferred, LLMError
from pipeline.models.cache import Store, call_key
from pipeline.models.llm import ChatModel, Completion, Messages, Purpose, WrappedModel

MAX_FAILURES = 2  # a call the Batch API refused this often fails its essay for this run (the next run tries again)
_TABLE = """create table if not exists deferred_calls (
    custom_id text primary key, endpoint text not null, essay text not null, stage text not null,
    body text not null, digest text, failures integer not null default 0, error text, failed_in text,
    created real not null)"""
_COLUMNS = "custom_id, endpoint, essay, stage, body, digest, failures, error"


@dataclass(frozen=True)
class Kept:
    """One call kept for the Batch API: what it is for and the request it is."""

    custom_id: str
    endpoint: str
    essay: str
    stage: str
    body: dict[str, Any]
    digest: str | None = None  # the batch file it went into
    failures: int = 0  # times the Batch API answered it with an error
    error: str | None = None  # why the last batch it was in did not answer it

    def line(self) -> BatchLine:
        return BatchLine(self.custom_id, self.body)


@dataclass
class Settled:
    """What collecting one ended batch did."""

    answered: int = 0
    unrun: list[Kept] = field(default_factory=list)  # not run: the batch expired, was cancelled or failed
    errors: list[Kept] = field(default_factory=list)  # run, and answered with an error


class Ledger:
    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as db:
            db.execute(_TABLE)
        self.record = SubmissionRecord(store.connection)

    def calls(self, where: str = "", *args: Any) -> list[Kept]:
        with self.store.transaction() as db:
            rows = db.execute(f"select {_COLUMNS} from deferred_calls {where} order by custom_id", args).fetchall()
        return [Kept(*row[:4], json.loads(row[4]), *row[5:]) for row in rows]  # type: ignore[arg-type]

    def of(self, sub: Submission) -> list[Kept]:
        return self.calls("where digest = ?", sub.digest)

    def pending(self, endpoint: str) -> list[tuple[Submission, list[Kept]]]:
        """The submissions to this endpoint not yet collected, oldest first, with their calls."""
        found = [(sub, self.of(sub)) for sub in self.record.pending()]
        return [(sub, calls) for sub, calls in found if calls and calls[0].endpoint == endpoint]

    def in_flight(self) -> set[str]:
        """Calls in a submission not yet collected: never kept again, never sent."""
        digests = {sub.digest for sub in self.record.pending()}
        return {k.custom_id for k in self.calls() if k.digest in digests}

    def keep(self, calls: Iterable[Kept], digest: str) -> None:
        """Note the calls as going into the batch file of this digest, before anything is uploaded."""
        with self.store.transaction() as db:
            for k in calls:
                db.execute(
                    "insert into deferred_calls (custom_id, endpoint, essay, stage, body, digest, created) "
                    "values (?, ?, ?, ?, ?, ?, ?) on conflict (custom_id) do update set digest = excluded.digest, "
                    "body = excluded.body, essay = excluded.essay, stage = excluded.stage",
                    (k.custom_id, k.endpoint, k.essay, k.stage, json.dumps(k.body), digest, time.time()),
                )

    def settle(self, sub: Submission, outcome: BatchOutcome, llm: ChatModel) -> Settled:
        """An ended batch: answers into the cache (the same keys a direct call uses) and the call log, priced as
        batch calls; the rest noted with why. Collecting the same batch again after a kill changes nothing."""
        kept = {k.custom_id: k for k in self.of(sub)}
        settled = Settled()
        counts = int(outcome.status == "completed")  # an expired or cancelled batch's errors are not the call's
        learner = _learner(llm)
        with self.store.transaction() as db:
            for custom_id, answer in outcome.answers.items():
                call = kept.pop(custom_id, None)
                if call is not None and not answer.text.strip() and learner is not None:
                    learner.learn_from_batch(call.body, answer=answer)  # cut off while it thought: room next time
                if call is None or not answer.text.strip():
                    continue  # settled before, or empty: an empty answer is asked again
                if self.store.get(custom_id) is None:  # a direct call may have answered it meanwhile
                    self.store.put(custom_id, answer)
                self.store.log_call(Purpose(call.essay, call.stage), llm, answer, 0.0, batch=True)
                db.execute("delete from deferred_calls where custom_id = ?", (custom_id,))
                settled.answered += 1
            for custom_id, call in kept.items():
                reason = outcome.errors.get(custom_id, "its answer was empty")
                # A parameter the model refused by name is left out of the call's next body: not the call's failure.
                fails = counts and not (learner is not None and learner.learn_from_batch(call.body, reason))
                db.execute(
                    "update deferred_calls set failures = failures + ?, error = ?, failed_in = ? "
                    "where custom_id = ? and failed_in is not ?",
                    (int(fails), reason, outcome.batch_id, custom_id, outcome.batch_id),
                )
                bucket = settled.errors if fails else settled.unrun
                bucket.append(Kept(**{**call.__dict__, "failures": call.failures + int(fails), "error": reason}))
        self.record.mark_collected(sub.key)
        return settled

    def prune(self) -> None:
        """Calls answered since (directly, by a plain run or --direct-retry) and in no batch still running."""
        pending = [sub.digest for sub in self.record.pending()]
        marks = ", ".join("?" * len(pending))
        with self.store.transaction() as db:
            db.execute(
                "delete from deferred_calls where custom_id in (select key from responses) "
                f"and (digest is null or digest not in ({marks}))",
                pending,
            )

    def forget(self, custom_ids: Iterable[str]) -> None:
        with self.store.transaction() as db:
            db.executemany("delete from deferred_calls where custom_id = ?", [(i,) for i in custom_ids])

    def give_another_chance(self, custom_ids: Iterable[str]) -> None:
        with self.store.transaction() as db:
            db.executemany("update deferred_calls set failures = 0 where custom_id = ?", [(i,) for i in custom_ids])


@dataclass
class DeferState:
    """What the deferring model knows before the essays run."""

    in_flight: set[str]  # in a batch that is still running
    missing: dict[str, Kept]  # an ended batch did not answer them
    direct: bool = False  # send the missing ones directly (--direct-retry) rather than in a new batch


class DeferringModel(WrappedModel):
    """The provider's place in the stack for `--defer`: keeps each call it is asked and raises Deferred."""

    def __init__(self, inner: Any, state: DeferState) -> None:
        super().__init__(inner)
        self.state = state
        self.kept: dict[str, Kept] = {}
        self.gave_up: set[str] = set()  # failed too often: their essays fail this run
        self.split: set[str] = set()  # too long for the model: the stage splits them into smaller calls
        self._lock = threading.Lock()

    def complete(self, messages: Messages, **options: Any) -> Completion:
        key = call_key(self, messages, options)
        if key in self.state.in_flight:
            raise Deferred(f"call {key[:12]} waits in a batch")
        missing = self.state.missing.get(key)
        if missing is not None and self.state.direct:
            return self.inner.complete(messages, **options)
        if missing is not None and _overflows(missing.error):
            with self._lock:
                self.split.add(key)
            raise ContextTooLong(f"the request does not fit {self.model}'s context window")
        if missing is not None and missing.failures >= MAX_FAILURES:
            with self._lock:
                self.gave_up.add(key)
            raise LLMError(
                f"the Batch API refused one of its calls {missing.failures} times ({missing.error}): run again to "
                "try once more, or add --direct-retry to send it directly"
            )
        purpose = options.get("purpose") or Purpose()
        body = self.inner.batch_body(messages, **options)
        with self._lock:
            self.kept[key] = Kept(key, self.endpoint, purpose.essay, purpose.stage, body)
        raise Deferred(f"call {key[:12]} kept for the Batch API")


def _learner(llm: Any) -> Any:
    """The provider under the model stack's layers, if it learns from Batch API lines (OpenAI's does)."""
    while llm is not None and not hasattr(llm, "learn_from_batch"):
        llm = getattr(llm, "inner", None)
    return llm


def _overflows(error: str | None) -> bool:
    text = (error or "").lower()
    return "context_length_exceeded" in text or "maximum context length" in text or "context window" in text
