"""What the commands share: their options, and the wrapper that turns user errors into one line."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pipeline.cli.display import TerminalProgress, say
from pipeline.cli.logs import show_library_logs
from pipeline.core.errors import EssayError
from pipeline.core.workspace import Workspace
from pipeline.models.session import Run, RunOptions, open_run

NotesOption = Annotated[
    Path | None,
    typer.Option(
        "--notes", help="Your notes folder, markdown (Obsidian vaults welcome). Default: the workspace's notes/."
    ),
]
DraftsOption = Annotated[
    Path | None,
    typer.Option("--drafts", help="Where drafts go, one folder per prompt. Default: the workspace's drafts/."),
]
WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="The folder with essay.toml and .essay/. Default: found upward from the prompt, as git finds its repo.",
    ),
]
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
VerboseOption = Annotated[
    bool, typer.Option("--verbose", help="Show the log lines of the model and the libraries (HTTP requests).")
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Send every call, even one answered before (answers are kept in .essay/).")
]
DeferOption = Annotated[
    bool,
    typer.Option(
        "--defer",
        help="Send the calls through the provider's Batch API (half the price, answered within 24 hours): submit "
        "and return; run it again to collect the answers and go on.",
    ),
]
DirectRetryOption = Annotated[
    bool,
    typer.Option(
        "--direct-retry",
        help="With --defer: send calls a batch did not answer (failed lines, expired or cancelled batches) "
        "directly, rather than in a new batch.",
    ),
]
TargetArgument = Annotated[
    Path,
    typer.Argument(help="The prompt file, its drafts folder (drafts/NAME) or one draft file (drafts/NAME/v002.md)."),
]


F = TypeVar("F", bound=Callable[..., Any])


def friendly(command: F) -> F:
    """User errors become one red line and their exit code; Ctrl-C says what was kept. No tracebacks."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except EssayError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.secho(
                "interrupted: nothing half-written was left; finished drafts are kept, and answered calls are "
                "reused when you run it again",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def open_for(workspace: Workspace, options: RunOptions) -> Run:
    if options.verbose:
        show_library_logs()
    if line := workspace.shown():
        say(line)
    return open_run(workspace, options, TerminalProgress())
