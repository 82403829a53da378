"""The `essay` command: parses options, calls the runner, prints. User errors are one red line."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline import __version__
from pipeline.batch.batch import find_prompts
from pipeline.batch.defer_batch import BatchChoice, run_batch_command
from pipeline.cli import export as cli_export
from pipeline.cli import models as cli_models
from pipeline.cli import review as cli_review
from pipeline.cli import voice as cli_voice
from pipeline.cli.display import BatchDisplay, dry_run_lines, say, show, summary, warn
from pipeline.cli.logs import quiet_libraries
from pipeline.cli.options import (
    BaseUrlOption,
    DeferOption,
    DirectRetryOption,
    DraftsOption,
    ModelOption,
    NoCacheOption,
    NotesOption,
    ProviderOption,
    TargetArgument,
    VerboseOption,
    WorkspaceOption,
    friendly,
    open_for,
)
from pipeline.collect.length import Length
from pipeline.core.errors import EssayError
from pipeline.core.workspace import open_workspace
from pipeline.drafting.dryrun import dry_run
from pipeline.drafting.inputs import read_inputs
from pipeline.drafting.regen import regen_section
from pipeline.drafting.runner import draft_essay, plan_essay
from pipeline.files.history import resolve_target
from pipeline.models.session import RunOptions

app = typer.Typer(
    help="Turn your own notes into a first draft of an essay, in your own voice.\n\n"
    "Drafts are written to drafts/<prompt>/v001.md, v002.md, ... and never overwritten, so edit them freely.\n"
    "By default everything runs on a small model on this machine: no key, no network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@friendly
def draft(
    prompt: Annotated[
        Path, typer.Argument(help="The essay prompt: a markdown file with an instruction and its sections.")
    ],
    notes: NotesOption = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    dry_run_only: Annotated[
        bool, typer.Option("--dry-run", help="Show the sections and what would be sent; call no model.")
    ] = False,
    polish: Annotated[
        bool,
        typer.Option("--polish", help="One more call per join between sections, so each follows from the one before."),
    ] = False,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write a new draft of PROMPT from your notes, as the next version in drafts/."""
    ws = open_workspace([prompt], root=workspace, notes=notes, drafts=drafts)
    with open_for(ws, RunOptions(provider, model, base_url, not no_cache, verbose)) as run:
        inputs = read_inputs(run, prompt)
        if dry_run_only:
            for line in dry_run_lines(dry_run(run, inputs), run.provider, run.settings):
                typer.echo(line)
            return
        say(f"read {inputs.notes.note_count} notes: {len(inputs.fragments)} fragments for the model")
        if notice := cli_models.bundled_notice(run.provider):
            warn(notice)
        result = draft_essay(run, inputs, polish=polish)
    _report_usage(result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens, result.seconds)
    _report_flags(result.flags - result.retold, result.file.path)
    if result.retold:
        warn(
            f"{result.retold} paragraphs tell a story an earlier section tells, marked ==like this== in the draft: "
            "keep one telling"
        )
    _report_length(result.words, inputs.prompt.length)
    typer.echo(str(result.file.path))


@app.command()
@friendly
def plan(
    prompt: Annotated[Path, typer.Argument(help="The essay prompt to plan.")],
    notes: NotesOption = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    send_all: Annotated[
        bool,
        typer.Option("--all", help="Send every fragment to the model, even those clearly unrelated to the prompt."),
    ] = False,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Sort your notes into the prompt's sections and write the plan, drafts/<essay>/plan.md.

    Edit it in any editor: move a list item under another heading to move it, delete it to drop it, add your own
    points. `essay draft` then follows it. Planning again keeps your edits.
    """
    ws = open_workspace([prompt], root=workspace, notes=notes, drafts=drafts)
    with open_for(ws, RunOptions(provider, model, base_url, not no_cache, verbose)) as run:
        inputs = read_inputs(run, prompt)
        if notice := cli_models.bundled_notice(run.provider):
            warn(notice)
        result = plan_essay(run, inputs, send_all=send_all)
    if result.kept_as:
        say(f"your edited plan is kept as {result.kept_as.name}; its placements, points and directions carry over")
    if result.corrections:
        said = (
            f"{result.moved} other item{'' if result.moved == 1 else 's'} moved"
            if result.moved
            else "nothing else moved"
        )
        say(f"sorted again with your {result.corrections} correction{'s' if result.corrections > 1 else ''}: {said}")
    say(
        f"{result.carried} fragments kept their place, {result.sorted_now} sorted now"
        + (f", {result.unrelated} left out as unrelated (--all sends them)" if result.unrelated else "")
    )
    typer.echo(str(result.path))


@app.command()
@friendly
def regen(
    target: TargetArgument,
    section: Annotated[
        str, typer.Option("--section", "-s", help="The section: its number (1 is the first), slug, or title words.")
    ],
    instructions: Annotated[
        str, typer.Option("--instructions", "-i", help='Your direction for it, e.g. "shorter, more concrete".')
    ] = "",
    reassign: Annotated[
        bool, typer.Option("--reassign", help="Sort the notes into sections again instead of reusing the last sort.")
    ] = False,
    notes: NotesOption = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write one section again and save the result as the next version.

    The latest version is read as it is on disk now, with your edits: the other sections stay as you left them.

    Earlier versions are never touched.
    """
    ws = open_workspace([target], root=workspace, notes=notes, drafts=drafts)
    found = resolve_target(target, ws.drafts, ws.root)
    with open_for(ws, RunOptions(provider, model, base_url, not no_cache, verbose)) as run:
        result = regen_section(run, found, section, instructions=instructions, reassign=reassign)
    if result.replaced_edits:
        warn(f"your edits to '{result.title}' are replaced in this version; they stay in {result.base.path.name}")
    _report_usage(result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.seconds)
    typer.echo(str(result.file.path))


@app.command()
@friendly
def batch(
    prompts: Annotated[
        Path | None, typer.Option("--prompts", help="The folder of prompts to draft, every *.md in it.")
    ] = None,
    notes: NotesOption = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Model calls at once, across all essays (default: 1 local, 4 HTTP)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Draft every essay, even those already up to date.")] = False,
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
    defer: DeferOption = False,
    direct_retry: DirectRetryOption = False,
    dry_run_only: Annotated[
        bool, typer.Option("--dry-run", help="With --defer: show what would be submitted; send nothing.")
    ] = False,
) -> None:
    """Draft every prompt in a folder. Essays whose prompt, notes and model are unchanged since their
    latest draft are skipped; a failing essay does not stop the others.

    Interrupt it at any time: run it again and it finishes the rest without sending answered calls again.

    With --defer the calls go through the provider's Batch API (half the price): it submits and returns at once;
    run it again to collect the answers and go on, until every draft is written.
    """
    ws = open_workspace([], root=workspace, notes=notes, drafts=drafts, prompts=prompts)
    paths = find_prompts(ws.prompts)
    options = RunOptions(provider, model, base_url, not no_cache, verbose, jobs)
    choice = BatchChoice(force, defer, direct_retry, dry_run_only, cache=not no_cache)
    with open_for(ws, options) as run, BatchDisplay() as display:
        result = run_batch_command(run, paths, choice, display, say)
    if dry_run_only:
        typer.echo("\n".join(result.closing))
        return
    outcomes = result.outcomes
    show(summary(outcomes))
    for line in result.closing:
        typer.echo(line)
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        typer.secho(f"error: {outcome.name}: {outcome.error}", fg=typer.colors.RED, err=True)
    if failed:
        raise typer.Exit(1)


def _report_flags(flags: int, path: Path) -> None:
    if flags:
        warn(
            f"{flags} claims need checking: names, numbers or quotes in none of your notes, marked ==like this== "
            f"in the draft; `essay check {path}` lists them"
        )


def _report_length(words: int, asked: Length | None) -> None:
    say(f"{words:,} words" + (f"; the prompt asks for {asked.asked}" if asked else ""))


def _report_usage(calls: int, tokens_in: int, tokens_out: int, seconds: float) -> None:
    say(f"{calls} calls, {tokens_in} tokens in, {tokens_out} out, {seconds:.1f}s")


cli_review.register(app)
cli_voice.register(app)

cli_export.register(app)

cli_models.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"essay {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Turn your own notes into a first draft of an essay, in your own voice."""
    quiet_libraries()


def run() -> None:
    """Console entry point: user errors become one red line and an exit code, never a traceback."""
    # What is imported lives until exit: out of the collector's sight, no pass walks it again, and leaving
    # takes a writer's terminal back ~0.2 s sooner.
    gc.freeze()
    try:
        app()
    except EssayError as exc:  # raised before a command started (an option's callback)
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
