"""Batch: draft every prompt in a folder, sharing one limit on model calls.

An essay whose inputs are unchanged since its latest draft is skipped without a call. A failing
essay fails alone. With the workspace's store, a batch that was interrupted (Ctrl-C, kill -9)
resumes where it stopped: answered calls are not sent again and written versions stay written.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.core.errors import Cancelled, Deferred, EssayError, UsageError
from pipeline.core.progress import Progress
from pipeline.drafting.inputs import Inputs, read_inputs
from pipeline.drafting.record import input_hash
from pipeline.drafting.runner import draft_essay
from pipeline.files.draftfile import parse
from pipeline.files.drafts import essay_dir, list_versions
from pipeline.models.session import Run
from pipeline.plan.planfile import plan_hash
from pipeline.plan.reading import PLAN_NAME


@dataclass(frozen=True)
class EssayOutcome:
    name: str
    status: str  # "drafted", "up to date", "failed", or "pending" (its calls wait on the Batch API)
    version: int | None = None
    calls: int = 0
    tokens: int = 0
    seconds: float = 0.0
    error: str = ""


class BatchProgress:
    """What a batch reports per essay; the CLI shows it live. Every method may be left as it is."""

    def on_stage(self, essay: str, stage: str) -> None: ...

    def on_warning(self, essay: str, message: str) -> None: ...

    def on_done(self, outcome: EssayOutcome) -> None: ...


class _EssayProgress(Progress):
    """Forwards one essay's stage events to the batch display, with the essay's name."""

    def __init__(self, name: str, batch: BatchProgress) -> None:
        self.name, self.batch = name, batch

    def on_warning(self, message: str) -> None:
        self.batch.on_warning(self.name, message)

    def on_sort(self, message: str) -> None:
        self.batch.on_stage(self.name, message.rstrip("…"))

    def on_section(self, section: Any, done: int, total: int) -> None:
        self.batch.on_stage(self.name, f"writing sections {done}/{total}")


def find_prompts(prompts_dir: Path) -> list[Path]:
    if not prompts_dir.is_dir():
        raise UsageError(f"prompts folder not found: {prompts_dir} (pass --prompts DIR)")
    found = sorted(p for p in prompts_dir.glob("*.md") if not p.name.startswith("."))
    if not found:
        raise UsageError(f"no prompts (*.md) in {prompts_dir}")
    return found


def run_batch(
    run: Run, prompts: list[Path], *, force: bool = False, progress: BatchProgress | None = None
) -> list[EssayOutcome]:
    progress = progress or BatchProgress()

    def one(path: Path) -> EssayOutcome:
        outcome = _draft_one(run, path, force, progress)
        progress.on_done(outcome)
        return outcome

    jobs = run.limit_size
    # More essays in flight than call slots, so that one essay's sorting step does not leave slots idle.
    workers = 1 if jobs == 1 else min(len(prompts), jobs * 2)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        return list(pool.map(one, prompts))
    except BaseException:
        run.limit.cancel()  # calls not yet sent stop at once; calls under way finish or time out
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _draft_one(run: Run, path: Path, force: bool, progress: BatchProgress) -> EssayOutcome:
    name = path.stem
    started = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - started

    try:
        progress.on_stage(name, "reading notes")
        essay_run = replace(run, progress=_EssayProgress(name, progress))
        inputs = read_inputs(essay_run, path)
        versions = list_versions(essay_dir(run.workspace.drafts, path, run.workspace.root))
        if versions and not force and up_to_date(versions[-1].path, inputs, run):
            return EssayOutcome(name, "up to date", versions[-1].version, seconds=elapsed())
        result = draft_essay(essay_run, inputs)
    except Cancelled:
        raise
    except Deferred:
        return EssayOutcome(name, "pending", seconds=elapsed())
    except EssayError as exc:
        return EssayOutcome(name, "failed", seconds=elapsed(), error=str(exc))
    except Exception as exc:  # one essay's bug must not stop the others; say what it was
        return EssayOutcome(name, "failed", seconds=elapsed(), error=f"{type(exc).__name__}: {exc}")
    usage = result.usage
    return EssayOutcome(
        name,
        "drafted",
        result.file.version,
        calls=usage.calls,
        tokens=usage.prompt_tokens + usage.completion_tokens,
        seconds=elapsed(),
    )


def up_to_date(latest: Path, inputs: Inputs, run: Run) -> bool:
    """Whether the latest draft was made from these inputs: the same prompt, notes and model, and the plan as it
    is now (a point or a direction the author added to plan.md asks for a new draft as much as a new note)."""
    try:
        meta = parse(latest.read_text(encoding="utf-8"), latest.name).meta
        plan = latest.parent / PLAN_NAME
        followed = plan_hash(plan.read_text(encoding="utf-8")) if plan.is_file() else meta.plan_hash
    except (OSError, UnicodeDecodeError, EssayError):
        return False  # unreadable: draft it again rather than guess
    return meta.input_hash == input_hash(inputs, run) and meta.plan_hash == followed
