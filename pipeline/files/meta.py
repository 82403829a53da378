"""Typed frontmatter of a draft: what made it, from which notes, and hashes to tell later edits.

Loaded with validation, so a hand-edited value of the wrong type (`fragments: 7`) is one clear error,
not a traceback. Keys the author adds (Obsidian `tags:`, `aliases:`) are kept as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.core.errors import DraftError


class SectionMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    slug: str
    title: str = ""
    notes: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    text_hash: str | None = None
    flags: int = 0  # claims the grounding check flagged when it was written


class DraftMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    title: str = ""
    prompt: str = ""  # relative to the workspace
    version: int = 0
    parent: int | None = None
    created: str = ""
    made_by: str = "draft"
    regenerated: str | None = None
    instructions: str | None = None
    provider: str = ""
    model: str = ""
    input_hash: str | None = None
    notes_hash: str | None = None
    plan_hash: str | None = None  # the plan the draft followed
    voice_hash: str | None = None  # the voice.md its sections were written with
    calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    unused_fragments: int = 0
    body_hash: str | None = None
    sections: tuple[SectionMeta, ...] = ()

    def section(self, slug: str) -> SectionMeta | None:
        return next((s for s in self.sections if s.slug == slug), None)

    def section_titles(self) -> list[tuple[str, str]]:
        """(slug, title) of each section the draft was written with, in order."""
        return [(s.slug, s.title or s.slug) for s in self.sections]

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data.setdefault("parent", None)
        return data


def load_meta(data: dict[str, Any], name: str) -> DraftMeta:
    try:
        return DraftMeta.model_validate(_dates_as_text(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise DraftError(
            f"{name}: frontmatter '{where}' is not valid ({error['msg'].lower()}); fix it by comparing "
            "with an earlier version"
        ) from None


def _dates_as_text(data: dict[str, Any]) -> dict[str, Any]:
    """YAML reads an unquoted timestamp as a datetime; the frontmatter keeps it as text."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
