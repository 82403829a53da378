"""`essay voice`: learn the author's habits from how they edited earlier drafts, into voice.md."""

from __future__ import annotations

import typer

from pipeline.cli.display import say
from pipeline.cli.options import DraftsOption, WorkspaceOption, friendly
from pipeline.core.workspace import open_workspace
from pipeline.voice.mine import MIN_SEEN
from pipeline.voice.voicefile import learn_voice


def register(app: typer.Typer) -> None:
    app.command()(voice)


@friendly
def voice(drafts: DraftsOption = None, workspace: WorkspaceOption = None) -> None:
    """Learn from your edits: compare every section the model wrote with what you made of it, and keep the
    habits that recur (words you cut or replace, openings and closings you delete, shorter sentences) as rules
    in voice.md, which every draft then follows. Your own lines and deletions in voice.md are kept."""
    ws = open_workspace([], root=workspace, drafts=drafts)
    if line := ws.shown():
        say(line)
    pairs, rebuilt = learn_voice(ws.root, ws.drafts, ws.state_dir)
    if pairs.unknown:
        say(
            f"{pairs.unknown} edited sections were written before essay kept what it generated, "
            "so they cannot be compared"
        )
    if not pairs.edited:
        say(f"no edited sections in {ws.drafts} yet: edit a draft, then run `essay voice` again")
    else:
        total = len(pairs.edited) + pairs.unedited
        say(f"compared {len(pairs.edited)} sections you edited (of {total} the model wrote)")
    for mark, lines in (("+", rebuilt.added), ("~", rebuilt.updated), ("-", rebuilt.dropped)):
        for rule in lines:
            typer.echo(f"{mark} {rule.removeprefix('- ')}")
    kept = []
    if rebuilt.own:
        kept.append(f"{rebuilt.own} of your own rules kept")
    if rebuilt.deleted:
        kept.append(f"{rebuilt.deleted} you deleted left out")
    counts = f"{len(rebuilt.added)} added, {len(rebuilt.updated)} updated, {len(rebuilt.dropped)} no longer seen"
    if not rebuilt.path.is_file():
        say(f"no habit seen {MIN_SEEN} times yet, so no {rebuilt.path} written")
        return
    state = "written" if rebuilt.changed else "unchanged"
    say(f"{rebuilt.path} {state}: {counts}" + "".join(f"; {k}" for k in kept))
