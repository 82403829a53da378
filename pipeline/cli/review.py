"""Commands that read what is there: check a draft, list versions, diff two, the call log, the cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.display import calls_table, cost_table, say, show, version_lines, warn
from pipeline.cli.options import DraftsOption, NotesOption, TargetArgument, WorkspaceOption, friendly
from pipeline.core.errors import UsageError
from pipeline.core.workspace import Workspace, open_workspace
from pipeline.drafting.check import check_draft
from pipeline.files.history import describe_versions, diff_versions, resolve_target
from pipeline.models.cache import Store


def register(app: typer.Typer) -> None:
    for command in (check, versions, diff, log, cost):
        app.command()(command)


@friendly
def check(
    target: TargetArgument,
    notes: NotesOption = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Check a draft as it is on disk now: print each name, number, date, sum or quote that none of its notes
    holds, with its section. Exits 1 if there are any, 0 if none."""
    ws = _workspace([target], root=workspace, notes=notes, drafts=drafts)
    found = resolve_target(target, ws.drafts, ws.root)
    draft_file = found.chosen or found.versions[-1]
    claims = check_draft(draft_file, ws.notes, ws.root)
    for claim in claims:
        typer.echo(f"{claim.section}: {claim.kind}: {claim.text}")
    if claims:
        twice = sum(c.kind == "told twice" for c in claims)
        if len(claims) > twice:
            say(
                f"{len(claims) - twice} claims in {draft_file.path} are in none of their notes: check them, "
                "then delete the marks"
            )
        if twice:
            say(f"{twice} paragraphs in {draft_file.path} tell a story told before: keep one telling, delete the marks")
        raise typer.Exit(1)
    say(f"{draft_file.path}: every name, number and quote checked is in the notes")


@friendly
def versions(target: TargetArgument, drafts: DraftsOption = None, workspace: WorkspaceOption = None) -> None:
    """List an essay's versions: when and how each was made, and whether you have edited it since."""
    ws = _workspace([target], root=workspace, drafts=drafts)
    for line in version_lines(describe_versions(resolve_target(target, ws.drafts, ws.root))):
        typer.echo(line)


@friendly
def diff(
    target: TargetArgument,
    old: Annotated[str | None, typer.Argument(help="The older version (default: the one before the latest).")] = None,
    new: Annotated[str | None, typer.Argument(help="The newer version (default: the latest).")] = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Show what changed in the text between two versions, as a unified diff."""
    ws = _workspace([target], root=workspace, drafts=drafts)
    text = diff_versions(resolve_target(target, ws.drafts, ws.root), old, new)
    typer.echo(text if text else "the two versions are identical", nl=not text.endswith("\n"))


@friendly
def log(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many of the latest calls to show.")] = 20,
    workspace: WorkspaceOption = None,
) -> None:
    """Show the latest model calls: essay, stage, model, tokens, time, and whether the cache answered."""
    ws = _workspace([], root=workspace)
    with _existing_store(ws) as store:
        show(calls_table(store.recent_calls(limit)))


@friendly
def cost(
    target: Annotated[
        Path | None, typer.Argument(help="An essay (its prompt file or drafts folder); all essays if left out.")
    ] = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Total the tokens sent and, where the model's price is known or set in essay.toml, the money."""
    ws = _workspace([target] if target else [], root=workspace, drafts=drafts)
    essay = resolve_target(target, ws.drafts, ws.root).folder.name if target else None
    with _existing_store(ws) as store:
        table, unpriced = cost_table(store.totals(essay), ws.settings.prices)
    show(table)
    if unpriced:
        say(f'no price known for {", ".join(unpriced)}: set [prices."MODEL"] input and output in essay.toml')


def _workspace(near: list[Path], **options: Path | None) -> Workspace:
    ws = open_workspace(near, **options)
    if line := ws.shown():
        say(line)
    return ws


def _existing_store(ws: Workspace) -> Store:
    if not ws.state_file.is_file():
        raise UsageError(f"no calls logged in {ws.root} yet: run `essay draft` there first")
    store = Store(ws.state_file)
    if store.recovered:
        warn(store.recovered)
    return store
