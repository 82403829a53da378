"""`essay batch --defer`: the essays' calls go through the provider's Batch API, round by round.

Each run first collects the batches that have ended (answers go into the cache under the keys direct calls use),
then runs the essays with the deferring model at the bottom of the stack: an essay whose calls are all answered is
written, the others stop as pending, and the calls they still need go out as the next batch. So the sort goes in one
round, the sections in the next, and the draft is written in the third. A plain `essay batch` collects too, before
it sends anything directly. Calls an ended batch did not answer go into a new batch, or directly with --direct-retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openai

from pipeline.batch.batch import BatchProgress, EssayOutcome, run_batch
from pipeline.batch.batch_api import BatchLine, BatchOutcome, Submission, collect, submit, to_jsonl
from pipeline.batch.deferred import MAX_FAILURES, DeferringModel, DeferState, Kept, Ledger, Settled
from pipeline.core.errors import LLMError, UsageError
from pipeline.core.locks import holding
from pipeline.models.session import Run, RunOptions, build_run

MAX_LINES = 50_000  # OpenAI's limits on one batch file: 50,000 requests, 200 MB
MAX_BYTES = 150_000_000
Say = Callable[[str], None]


@dataclass(frozen=True)
class BatchChoice:
    """How `essay batch` runs: its options beyond the run's own."""

    force: bool = False
    defer: bool = False
    direct_retry: bool = False  # with defer: what an ended batch did not answer is sent directly
    dry_run: bool = False  # with defer: show what would be submitted, send nothing
    cache: bool = True


@dataclass
class BatchResult:
    outcomes: list[EssayOutcome]
    closing: list[str] = field(default_factory=list)  # what is pending, and how to go on


def run_batch_command(
    run: Run, prompts: list[Path], choice: BatchChoice, progress: BatchProgress, say: Say
) -> BatchResult:
    if not choice.defer and (choice.direct_retry or choice.dry_run):
        raise UsageError("--direct-retry and --dry-run go with --defer: `essay batch --defer --dry-run`")
    client = getattr(run.provider, "client", None) if run.provider.provider == "openai" else None
    if client is None and choice.defer:
        raise UsageError(
            f"--defer needs a Batch API, which the {run.provider.provider} provider has none of: "
            "use --provider openai or --base-url, or run without --defer"
        )
    if client is None:
        return BatchResult(run_batch(run, prompts, force=choice.force, progress=progress))
    if choice.defer and not choice.cache:
        raise UsageError("--defer keeps the Batch API's answers in the cache: run it without --no-cache")
    client = client.with_options(max_retries=3)  # batch requests are few and cheap to repeat
    ledger = Ledger(run.store)
    if choice.dry_run:
        from pipeline.batch.defer_preview import preview

        return BatchResult([], preview(run, ledger, prompts, choice.force))
    # One run at a time collects, submits and drafts from the ledger: a second would collect the same batches
    # (and find them gone) and write the same essays again.
    with holding(run.workspace.state_dir, "batch", "running `essay batch` in this workspace"):
        return _rounds(run, prompts, choice, progress, say, ledger, client)


def _rounds(
    run: Run, prompts: list[Path], choice: BatchChoice, progress: BatchProgress, say: Say, ledger: Ledger,
    client: openai.OpenAI,
) -> BatchResult:  # fmt: skip
    endpoint = run.provider.endpoint
    retry = "are sent directly now" if choice.direct_retry or not choice.defer else "go into a new batch"
    if choice.defer:
        _resume(run, ledger, client)
    _collect(run, ledger, client, say, retry)
    ledger.prune()
    if not choice.defer:
        return BatchResult(run_batch(run, prompts, force=choice.force, progress=progress))
    in_flight = ledger.in_flight()
    missing = {k.custom_id: k for k in ledger.calls("where endpoint = ?", endpoint) if k.custom_id not in in_flight}
    deferring = DeferringModel(run.provider, DeferState(in_flight, missing, choice.direct_retry))
    deferred_run = build_run(run.workspace, deferring, run.store, RunOptions(jobs=run.limit_size), run.progress)
    outcomes = run_batch(deferred_run, prompts, force=choice.force, progress=progress)
    ledger.give_another_chance(deferring.gave_up)
    ledger.forget(deferring.split)
    submitted = _submit(ledger, client, list(deferring.kept.values()))
    return BatchResult(outcomes, _closing(ledger, endpoint, outcomes, submitted))


def _resume(run: Run, ledger: Ledger, client: openai.OpenAI) -> None:
    """Finish a submission a kill cut short (its intent recorded, no batch yet): the same lines, never twice."""
    for sub, calls in ledger.pending(run.provider.endpoint):
        if sub.batch_id:
            continue
        lines = [k.line() for k in calls]
        if digest(lines) != sub.digest or any(run.store.get(k.custom_id) for k in calls):
            ledger.record.mark_collected(sub.key)  # answered meanwhile, or kept again since: its calls go anew
            continue
        submit(client, lines, ledger.record)


def _collect(run: Run, ledger: Ledger, client: openai.OpenAI, say: Say, retry: str) -> None:
    """Every batch of this endpoint that has ended: answers into the cache, and a line on what became of it."""
    for sub, calls in ledger.pending(run.provider.endpoint):
        if not sub.batch_id:
            continue
        outcome = _outcome(client, sub, [k.custom_id for k in calls])
        if outcome.status == "in_progress":
            say(f"batch {sub.batch_id}: still running at the provider ({len(calls)} calls)")
            continue
        settled = ledger.settle(sub, outcome, run.provider)
        for line in _settled_lines(sub, outcome.status, settled, retry):
            say(line)


def _outcome(client: openai.OpenAI, sub: Submission, expected: list[str]) -> BatchOutcome:
    try:
        return collect(client, sub.batch_id or "", expected=expected)
    except LLMError as exc:
        if not isinstance(exc.__cause__, openai.NotFoundError):
            raise
        gone = "the provider no longer has this batch (404)"
        return BatchOutcome(sub.batch_id or "", "gone", errors=dict.fromkeys(expected, gone))


def _settled_lines(sub: Submission, status: str, settled: Settled, retry: str) -> list[str]:
    lines = [f"batch {sub.batch_id} {status}: {settled.answered} of {sub.requests} answers collected"]
    if settled.unrun:
        reason = settled.unrun[0].error or "no reason given"
        lines.append(f"batch {sub.batch_id}: {len(settled.unrun)} calls were not run ({reason}): they {retry}")
    for call in settled.errors:
        then = f"they {retry}".replace("they are", "it is").replace("they go", "it goes")
        if call.failures >= MAX_FAILURES and "new batch" in retry:
            then = f"it failed {call.failures} times, so {call.essay} fails this run; the next run tries again"
        lines.append(f"{call.essay}: a {call.stage} call failed in batch {sub.batch_id} ({call.error}): {then}")
    return lines


def digest(lines: Sequence[BatchLine]) -> str:
    """The digest batch_api.submit records a batch file under: the same lines, the same digest."""
    return hashlib.sha256(to_jsonl(lines)).hexdigest()[:32]


def _submit(ledger: Ledger, client: openai.OpenAI, kept: list[Kept]) -> list[tuple[str, int]]:
    """The kept calls as batch files (one, unless it would pass the Batch API's limits): (batch id, calls) each."""
    submitted = []
    for chunk in _chunks(sorted(kept, key=lambda k: k.custom_id)):
        lines = [k.line() for k in chunk]
        ledger.keep(chunk, digest(lines))  # noted before anything is uploaded: a rerun finds it
        submitted.append((submit(client, lines, ledger.record), len(lines)))
    return submitted


def _chunks(kept: list[Kept]) -> list[list[Kept]]:
    chunks: list[list[Kept]] = []
    size = 0
    for call in kept:
        length = len(to_jsonl([call.line()]))
        if not chunks or len(chunks[-1]) >= MAX_LINES or size + length > MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(call)
        size += length
    return chunks


def _closing(
    ledger: Ledger, endpoint: str, outcomes: list[EssayOutcome], submitted: list[tuple[str, int]]
) -> list[str]:
    lines = [f"submitted batch {batch_id}: {count} calls" for batch_id, count in submitted]
    waiting = [o.name for o in outcomes if o.status == "pending"]
    subs = [
        s for s in ledger.record.pending() if s.batch_id and (calls := ledger.of(s)) and calls[0].endpoint == endpoint
    ]
    if waiting:
        lines.append(
            f"pending: {len(waiting)} essays ({', '.join(waiting)}) wait on {len(subs)} batches "
            f"({sum(s.requests for s in subs)} calls) at {endpoint}; run `essay batch --defer` again to collect "
            "them and go on (the provider answers within 24 hours, often within minutes)"
        )
    elif subs:
        lines.append(f"{len(subs)} batches still running at {endpoint}: `essay batch --defer` collects them")
    else:
        lines.append(f"nothing pending: no batch waits at {endpoint}")
    return lines
