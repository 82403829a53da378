"""What the command shows on a terminal: progress lines for one essay, a live view for a batch."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.batch.batch import BatchProgress, EssayOutcome
from pipeline.core.config import Settings
from pipeline.core.progress import Progress
from pipeline.drafting.dryrun import DryRun
from pipeline.files.history import VersionInfo
from pipeline.models import prices
from pipeline.models.llm import ChatModel
from pipeline.write.expand import SectionDraft


def say(message: str) -> None:
    typer.echo(message, err=True)


def show(table: Table) -> None:
    """A table on stdout; piped into a file or another program, it is not cut to 80 columns."""
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)


def warn(message: str) -> None:
    typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)


class TerminalProgress(Progress):
    """One essay's progress on stderr, so stdout carries only the draft's path."""

    def on_warning(self, message: str) -> None:
        warn(message)

    def on_info(self, message: str) -> None:
        say(message)

    def on_sort(self, message: str) -> None:
        say(message)

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
            self.console.print(f"{essay}: {stage}", highlight=False, soft_wrap=True)
            return
        with self._lock:
            if essay not in self._rows:
                self._rows[essay] = self._view.add_task(stage, essay=essay, total=None)
            else:
                self._view.update(self._rows[essay], description=stage)

    def on_warning(self, essay: str, message: str) -> None:
        self.console.print(
            f"[yellow]warning: {escape(essay)}: {escape(message)}", highlight=False, markup=True, soft_wrap=True
        )

    def on_done(self, outcome: EssayOutcome) -> None:
        text = outcome.status + (f" v{outcome.version:03d}" if outcome.version else "")
        if not self.live:
            self.console.print(f"{outcome.name}: {text}", highlight=False, soft_wrap=True)
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


def dry_run_lines(report: DryRun, llm: ChatModel, settings: Settings) -> list[str]:
    """What `draft --dry-run` prints: the sections, the calls and tokens, and which notes would leave."""
    inputs = report.inputs
    sections = inputs.prompt.sections
    lines = [f"prompt: {inputs.prompt.title} ({inputs.prompt.path})"]
    lines += [f"  {number}. {s.title}  [{s.slug}]" for number, s in enumerate(sections, start=1)]
    lines += [
        f"notes: {inputs.notes.note_count} read, {len(inputs.fragments)} fragments would go to the model",
        *(f"left out: {count} fragments: {reason}" for reason, count in inputs.left_out),
        f"calls: {report.calls} ({report.batches} to sort fragments, {len(sections)} to write sections)",
        f"tokens (estimate, as if the notes split evenly across sections): "
        f"~{report.prompt_tokens} in, ~{report.output_tokens} out",
    ]
    if not llm.sends_over_http:
        lines.append(f"nothing leaves this machine: {llm.model} runs in this process")
    else:
        leaving = report.sending or list(dict.fromkeys(f.note_path for f in inputs.fragments))
        redacted = f", with {len(settings.redact)} term(s) redacted" if settings.redact else ""
        if report.may_send is not None:
            lines.append(
                f"at most {report.may_send} of the {len(inputs.fragments)} fragments would be sent to {llm.endpoint}"
                f"{redacted}: the sort's shortlist, which ranking picks when it runs (`essay plan --all` sends all); "
                f"they come from these {len(leaving)} notes:"
            )
        else:
            what = "what the plan places, from " if report.sending is not None else ""
            lines.append(f"{what}these {len(leaving)} notes would be sent to {llm.endpoint}{redacted}:")
        lines += [f"  {path}" for path in leaving]
    lines += [f"private, kept on this machine: {path}" for path in inputs.withheld_private]
    lines += [f"outside the prompt's filter: {path}" for path in inputs.filtered_out]
    return lines


def version_lines(infos: Sequence[VersionInfo]) -> list[str]:
    made_width = max(len(i.made_by) for i in infos)
    model_width = max(len(i.model) for i in infos)
    edited = {True: "edited since", False: "as written", None: "unknown"}
    return [
        f"v{i.version:03d}  {i.created}  {i.made_by:<{made_width}}  {i.model:<{model_width}}  {edited[i.edited]}"
        for i in infos
    ]


def calls_table(calls: Sequence[tuple[float, str, str, str, int, int, int, float, bool]]) -> Table:
    right = ("in", "cached", "out", "seconds")
    table = _table("when", "essay", "stage", "model", "in", "cached", "out", "seconds", "cache", right=right)
    for at, essay, stage, model, tokens_in, cached, tokens_out, seconds, hit in calls:
        when = dt.datetime.fromtimestamp(at).strftime("%m-%d %H:%M:%S")
        numbers = (str(tokens_in), str(cached), str(tokens_out), f"{seconds:.2f}")
        table.add_row(when, essay, stage, model, *numbers, "hit" if hit else "")
    return table


def cost_table(
    totals: Sequence[tuple[str, str, int, int, int, int, int, bool]],
    configured: Mapping[str, tuple[float, float, float]],
) -> tuple[Table, list[str]]:
    """The table, and the models whose price is not known; calls through a Batch API have a row of their own.
    Prompt tokens the server read from its prompt cache are priced at the model's cached rate."""
    columns = ("provider", "model", "calls sent", "cache hits", "tokens in", "of them cached", "tokens out", "cost")
    table = _table(*columns, right=columns[2:])
    unpriced = []
    for provider, model, sent, hits, tokens_in, cached, tokens_out, batch in totals:
        dollars = prices.cost(provider, model, tokens_in, tokens_out, configured, batch, cached)
        if dollars is None and model not in unpriced:
            unpriced.append(model)
        shown = "?" if dollars is None else f"${dollars:.4f}"
        label = f"{model} (batch)" if batch else model
        row = (str(sent), str(hits), str(tokens_in), str(cached), str(tokens_out), shown)
        table.add_row(provider, label, *row)
    return table, unpriced


def _table(*columns: str, right: Sequence[str]) -> Table:
    table = Table(box=None)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
    return table
