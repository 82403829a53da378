"""The workspace: the folder that holds essay.toml and .essay/, found as git finds its repository.

From the prompt's (or the draft's) location upward, then from the notes and drafts folders, then from
the current folder, the first folder with an `essay.toml` or a `.essay/` is the workspace. Its
settings and state apply wherever the command is run from, so a private glob or a redaction list is
never dropped because of where the writer happened to stand. `--workspace DIR` names it outright.
Without any marker the current folder is the workspace, as on a first run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import CONFIG_NAME, Settings, load_settings
from pipeline.core.errors import UsageError

STATE_NAME = ".essay"


@dataclass(frozen=True)
class Workspace:
    root: Path
    notes: Path
    drafts: Path
    prompts: Path
    settings: Settings

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_NAME

    @property
    def temp_dir(self) -> Path:
        """Where a draft is written before it takes its name: never in drafts/, so a killed run leaves nothing."""
        return self.state_dir / "tmp"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.sqlite"

    def shown(self) -> str | None:
        """A line naming the workspace, when it is not the folder the command runs in."""
        if self.root.resolve() == Path.cwd().resolve():
            return None
        return f"workspace: {self.root}"


def find_root(near: Sequence[Path], cwd: Path | None = None) -> Path:
    """The nearest folder holding essay.toml or .essay/, above any of `near` (then the current folder)."""
    cwd = cwd or Path.cwd()
    for start in [*near, cwd]:
        here = start.expanduser().resolve()
        if not here.is_dir():
            here = here.parent
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file() or (folder / STATE_NAME).exists():
                return folder
    return cwd


def open_workspace(
    near: Sequence[Path] = (),
    *,
    root: Path | None = None,
    notes: Path | None = None,
    drafts: Path | None = None,
    prompts: Path | None = None,
) -> Workspace:
    """The workspace for a command: `root` if given, else found from `near`; folders not given are the
    workspace's own notes/, drafts/ and prompts/."""
    if root is not None and not root.is_dir():
        raise UsageError(f"workspace folder not found: {root}")
    found = root if root is not None else find_root([p for p in (*near, notes, drafts, prompts) if p is not None])
    if found.resolve() == Path.cwd().resolve():
        found = Path(".")  # paths as the writer typed them: drafts/x/v001.md, not /home/.../drafts/x/v001.md
    return Workspace(
        root=found,
        notes=notes if notes is not None else found / "notes",
        drafts=drafts if drafts is not None else found / "drafts",
        prompts=prompts if prompts is not None else found / "prompts",
        settings=load_settings(found),
    )
