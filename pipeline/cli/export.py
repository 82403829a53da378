"""`essay export`: a finished draft as clean markdown, one HTML file, or a Word file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from pipeline.cli.display import say, warn
from pipeline.cli.options import DraftsOption, NotesOption, TargetArgument, WorkspaceOption, friendly
from pipeline.core.workspace import open_workspace
from pipeline.export.export import ExportOptions, choose_format, export_draft, target_path
from pipeline.files.history import resolve_target


def register(app: typer.Typer) -> None:
    app.command(name="export")(export)


@friendly
def export(
    target: TargetArgument,
    to: Annotated[
        Literal["md", "html", "docx"] | None,
        typer.Option("--to", help="md (CommonMark and footnotes), html (one self-contained file) or docx (pandoc)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The file to write, or a folder to write it into. Default: exports/<essay>.<ext>."),
    ] = None,
    sources: Annotated[
        Literal["keep", "drop"],
        typer.Option("--sources", help="keep the footnotes that link your notes, or drop them (your own stay)."),
    ] = "keep",
    flags: Annotated[
        Literal["refuse", "drop"],
        typer.Option("--flags", help="refuse to export while flags are left (listing them), or drop the marks."),
    ] = "refuse",
    links: Annotated[
        Literal["label", "relative"],
        typer.Option("--links", help="A \\[\\[wikilink]] becomes its label, or a relative link to the note."),
    ] = "label",
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file at --out that essay did not write, or that was edited.")
    ] = False,
    notes: NotesOption = None,
    drafts: DraftsOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Export a draft (the latest version, or the one named) to publish: no section markers, flags, essay
    frontmatter or \\[\\[wikilinks]]; footnotes as standard ones at the end. The draft itself is never changed."""
    ws = open_workspace([target], root=workspace, notes=notes, drafts=drafts)
    if line := ws.shown():
        say(line)
    found = resolve_target(target, ws.drafts, ws.root)
    draft = found.chosen or found.versions[-1]
    fmt = choose_format(to, out)
    path = target_path(out, ws.root / "exports", found.folder.name, fmt)
    options = ExportOptions(sources, flags, links, force)
    done = export_draft(
        draft, path, fmt, options, notes_dir=ws.notes, drafts_dir=ws.drafts, record=ws.state_dir / "exports.json"
    )
    clean = done.draft
    if clean.flags_dropped:
        its = "their" if clean.flags_dropped > 1 else "its"
        say(f"dropped the marks of {_count(clean.flags_dropped, 'flagged claim')}; {its} text is kept")
    if clean.sources_dropped:
        say(f"dropped {_count(clean.sources_dropped, 'footnote')} that linked your notes")
    if clean.sources_kept:
        names = "names" if clean.sources_kept == 1 else "name"
        private = "which may be private: --sources drop leaves them out"
        say(f"{_count(clean.sources_kept, 'footnote')} {names} your notes, {private}")
    if clean.placeholders:
        hold, it = ("holds", "it") if clean.placeholders == 1 else ("hold", "them")
        warn(f"{_count(clean.placeholders, 'section')} still {hold} essay's 'write it yourself' note: write {it} first")
    if done.missing_links:
        shown = ", ".join(f"[[{t}]]" for t in done.missing_links[:5])
        more = f" and {len(done.missing_links) - 5} more" if len(done.missing_links) > 5 else ""
        reach = "reaches" if len(done.missing_links) == 1 else "reach"
        warn(f"{_count(len(done.missing_links), 'link')} {reach} no file in {ws.notes}: {shown}{more}")
    if path.resolve().is_relative_to(ws.notes.resolve()):
        warn(f"{path} is inside your notes folder: the next `essay plan` reads it as a note")
    typer.echo(str(path))
    say(f"exported {draft.path} as {fmt}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
