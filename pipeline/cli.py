"""The `essay` command: parses options, calls the runner, prints. User errors are one red line."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer

from pipeline import __version__
from pipeline.batch import find_prompts, run_batch
from pipeline.cache import Store
from pipeline.config import Settings, load_settings, with_options
from pipeline.display import (
    BatchDisplay,
    TerminalProgress,
    calls_table,
    cost_table,
    dry_run_lines,
    say,
    show,
    summary,
    version_lines,
    warn,
)
from pipeline.errors import EssayError, UsageError
from pipeline.history import describe_versions, diff_versions, resolve_target
from pipeline.llm import ChatModel, SharedLimit
from pipeline.providers import make_model
from pipeline.regen import regen_section
from pipeline.runner import draft_essay, dry_run, read_inputs

app = typer.Typer(
    help="Turn your own notes into a first draft of an essay, in your own voice.\n\n"
    "Drafts are written to drafts/<prompt>/v001.md, v002.md, ... and never overwritten, so edit them freely.\n"
    "By default everything runs on a small model on this machine: no key, no network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

NotesOption = Annotated[Path, typer.Option("--notes", help="Your notes folder (markdown, Obsidian vaults welcome).")]
DraftsOption = Annotated[Path, typer.Option("--drafts", help="Where drafts are written, one folder per prompt.")]
ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider", help="local (the default: llama.cpp on this machine) or openai (any OpenAI-compatible endpoint)."
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="For local: a .gguf file. For openai: the model name the endpoint serves."),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url", help="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (implies --provider openai)."
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", help="Show the model's own log lines.")]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Send every call, even one answered before (answers are kept in .essay/).")
]
STATE_DIR = Path(".essay")  # the workspace's own state: answered calls, the call log, temp files
TargetArgument = Annotated[
    Path,
    typer.Argument(help="The prompt file, its drafts folder (drafts/NAME) or one draft file (drafts/NAME/v002.md)."),
]


@app.command()
def draft(
    prompt: Annotated[
        Path, typer.Argument(help="The essay prompt: a markdown file with an instruction and its sections.")
    ],
    notes: NotesOption = Path("notes"),
    drafts: DraftsOption = Path("drafts"),
    provider: ProviderOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    dry_run_only: Annotated[
        bool, typer.Option("--dry-run", help="Show the sections and what would be sent; call no model.")
    ] = False,
    no_cache: NoCacheOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write a new draft of PROMPT from your notes, as the next version in drafts/."""
    settings, llm = _model(provider, model, base_url, verbose)
    progress = TerminalProgress()
    inputs = read_inputs(prompt, notes, drafts, settings, llm, progress)
    if dry_run_only:
        for line in dry_run_lines(dry_run(inputs, llm), llm, settings):
            typer.echo(line)
        return
    progress.on_collected(inputs.notes, len(inputs.fragments))
    with _open_store(no_cache) as store:
        result = draft_essay(inputs, drafts, llm, settings, progress, store=store, temp_dir=STATE_DIR / "tmp")
    _report_usage(result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.seconds)
    typer.echo(str(result.file.path))


@app.command()
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
    notes: NotesOption = Path("notes"),
    drafts: DraftsOption = Path("drafts"),
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
    found = resolve_target(target, drafts)
    settings, llm = _model(provider, model, base_url, verbose)
    with _open_store(no_cache) as store:
        result = regen_section(
            found,
            section,
            notes,
            drafts,
            llm,
            settings,
            instructions=instructions,
            reassign=reassign,
            progress=TerminalProgress(),
            store=store,
            temp_dir=STATE_DIR / "tmp",
        )
    if result.replaced_edits:
        warn(f"your edits to '{result.title}' are replaced in this version; they stay in {result.base.path.name}")
    _report_usage(result.usage.calls, result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.seconds)
    typer.echo(str(result.file.path))


@app.command()
def batch(
    prompts: Annotated[
        Path, typer.Option("--prompts", help="The folder of prompts to draft, every *.md in it.")
    ] = Path("prompts"),
    notes: NotesOption = Path("notes"),
    drafts: DraftsOption = Path("drafts"),
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
) -> None:
    """Draft every prompt in a folder. Essays whose prompt, notes and model are unchanged since their
    latest draft are skipped; a failing essay does not stop the others.

    Interrupt it at any time: run it again and it finishes the rest without sending answered calls again.
    """
    settings, llm = _model(provider, model, base_url, verbose)
    limit = jobs or (1 if settings.provider == "local" else settings.concurrency)
    shared = SharedLimit(llm, limit)
    paths = find_prompts(prompts)
    try:
        with _open_store(no_cache) as store, BatchDisplay() as display:
            outcomes = run_batch(
                paths,
                notes,
                drafts,
                shared,
                settings,
                jobs=limit,
                force=force,
                store=store,
                temp_dir=STATE_DIR / "tmp",
                progress=display,
            )
    except KeyboardInterrupt:
        typer.secho(
            "interrupted: finished drafts are kept; run `essay batch` again to finish the rest",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(130) from None
    show(summary(outcomes))
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        typer.secho(f"error: {outcome.name}: {outcome.error}", fg=typer.colors.RED, err=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def versions(target: TargetArgument, drafts: DraftsOption = Path("drafts")) -> None:
    """List an essay's versions: when and how each was made, and whether you have edited it since."""
    for line in version_lines(describe_versions(resolve_target(target, drafts))):
        typer.echo(line)


@app.command()
def diff(
    target: TargetArgument,
    old: Annotated[str | None, typer.Argument(help="The older version (default: the one before the latest).")] = None,
    new: Annotated[str | None, typer.Argument(help="The newer version (default: the latest).")] = None,
    drafts: DraftsOption = Path("drafts"),
) -> None:
    """Show what changed in the text between two versions, as a unified diff."""
    text = diff_versions(resolve_target(target, drafts), old, new)
    typer.echo(text if text else "the two versions are identical", nl=not text.endswith("\n"))


@app.command()
def log(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many of the latest calls to show.")] = 20,
) -> None:
    """Show the latest model calls: essay, stage, model, tokens, time, and whether the cache answered."""
    with _existing_store() as store:
        show(calls_table(store.recent_calls(limit)))


@app.command()
def cost(
    target: Annotated[
        Path | None, typer.Argument(help="An essay (its prompt file or drafts folder); all essays if left out.")
    ] = None,
    drafts: DraftsOption = Path("drafts"),
) -> None:
    """Total the tokens sent and, where the model's price is known or set in essay.toml, the money."""
    essay = resolve_target(target, drafts).folder.name if target else None
    settings = load_settings(Path.cwd())
    with _existing_store() as store:
        table, unpriced = cost_table(store.totals(essay), settings.prices)
    show(table)
    if unpriced:
        say(f'no price known for {", ".join(unpriced)}: set [prices."MODEL"] input and output in essay.toml')


def _existing_store() -> Store:
    path = STATE_DIR / "state.sqlite"
    if not path.is_file():
        raise UsageError("no calls logged here yet: run `essay draft` in this folder first")
    return Store(path)


def _open_store(no_cache: bool) -> AbstractContextManager[Store | None]:
    return nullcontext() if no_cache else Store(STATE_DIR / "state.sqlite")


def _model(provider: str | None, model: str | None, base_url: str | None, verbose: bool) -> tuple[Settings, ChatModel]:
    settings = with_options(load_settings(Path.cwd()), provider=provider, model=model, base_url=base_url)
    return settings, make_model(settings, verbose=verbose)


def _report_usage(calls: int, tokens_in: int, tokens_out: int, seconds: float) -> None:
    say(f"{calls} calls, {tokens_in} tokens in, {tokens_out} out, {seconds:.1f}s")


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


def run() -> None:
    """Console entry point: user errors become one red line and an exit code, never a traceback."""
    try:
        app()
    except EssayError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
