"""What the command shows on a terminal: progress lines for one essay, a live view for a batch."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

import typer
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.batch import BatchProgress, EssayOutcome
from pipeline.expand import SectionDraft
from pipeline.notes import Notes
from pipeline.runner import Progress


def say(message: str) -> None:
    typer.echo(message, err=True)


def warn(message: str) -> None:
    typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)


class TerminalProgress(Progress):
    """One essay's progress on stderr, so stdout carries only the draft's path."""

    def on_warning(self, message: str) -> None:
        warn(message)

    def on_collected(self, notes: Notes, sent: int) -> None:
        say(f"read {notes.note_count} notes: {sent} fragments for the model")

    def on_assign_batch(self, number: int, total: int) -> None:
        suffix = f" (batch {number} of {total})" if total > 1 else ""
        say(f"sorting fragments into sections{suffix}…")

    def on_section(self, section: SectionDraft, done: int, total: int) -> None:
        state = "written" if section.generated else "no notes, left for you"
        say(f"[{done}/{total}] {section.title.lower()}: {state}")


class BatchDisplay(BatchProgress):
    """A live row per essay on a terminal; plain lines, one per change, when stderr is not one."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self._rows: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._view = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[essay]}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
        )

    def __enter__(self) -> BatchDisplay:
        if self.live:
            self._view.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self.live:
            self._view.stop()

    def on_stage(self, essay: str, stage: str) -> None:
        if not self.live:
            self.console.print(f"{essay}: {stage}", highlight=False)
            return
        with self._lock:
            if essay not in self._rows:
                self._rows[essay] = self._view.add_task(stage, essay=essay, total=None)
            else:
                self._view.update(self._rows[essay], description=stage)

    def on_warning(self, essay: str, message: str) -> None:
        self.console.print(f"[yellow]warning: {essay}: {message}", highlight=False, markup=True)

    def on_done(self, outcome: EssayOutcome) -> None:
        text = outcome.status + (f" v{outcome.version:03d}" if outcome.version else "")
        if not self.live:
            self.console.print(f"{outcome.name}: {text}", highlight=False)
            return
        with self._lock:
            row = self._rows.get(outcome.name) or self._view.add_task(text, essay=outcome.name, total=None)
            self._view.update(row, description=text, total=1, completed=1)


def summary(outcomes: Sequence[EssayOutcome]) -> Table:
    table = Table(title="batch", title_justify="left")
    for column in ("essay", "status", "version", "calls", "tokens", "time"):
        table.add_column(column, justify="right" if column in ("calls", "tokens", "time") else "left")
    for o in outcomes:
        status = o.status if not o.error else f"failed: {_first_clause(o.error)}"
        version = f"v{o.version:03d}" if o.version else "-"
        table.add_row(o.name, status, version, str(o.calls), str(o.tokens), f"{o.seconds:.1f}s")
    return table


def _first_clause(message: str, limit: int = 48) -> str:
    """The gist of an error for a table cell; the whole message is printed below the table."""
    head = message.splitlines()[0].split(";")[0].split(":")[0]
    return head if len(head) <= limit else head[: limit - 1] + "…"
