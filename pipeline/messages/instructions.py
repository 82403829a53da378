"""Stage instructions: template files shipped in pipeline/messages/templates, rendered with langchain-core.

Templates are mustache, so the JSON examples they show need no escaping; values are inserted with
triple braces, so a note's text arrives as the writer wrote it. Only langchain-core's mustache module is
imported: its prompt classes would add most of a second to every command's start.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

from langchain_core.utils import mustache

_ROLES = ("system", "user")


@cache
def _source(name: str) -> str:
    return resources.files("pipeline.messages").joinpath("templates", name).read_text(encoding="utf-8")


def render(stage: str, **values: Any) -> list[dict[str, str]]:
    """The chat messages for one stage call, as plain role/content dicts."""
    return [
        {"role": role, "content": mustache.render(_source(f"{stage}.{role}.md"), values).strip()} for role in _ROLES
    ]


def render_message(role: str, template: str, **values: Any) -> dict[str, str]:
    """One chat message from one template (pipeline/messages/templates/<template>.md)."""
    return {"role": role, "content": mustache.render(_source(f"{template}.md"), values).strip()}


_SHARED = ("shared.system", "shared.sort", "shared.write")  # the layout of `slots.shares_prefix`


def templates_hash(*, shared: bool = False) -> str:
    """A hash of the stage templates a draft uses, so it records which instructions made it: the shared
    layout's only with `shared`, so a change to them re-drafts nothing for drafts in the other layout."""
    digest = hashlib.sha256()
    for stage in ("assign", "expand"):
        for part in ("system", "user"):
            digest.update(_source(f"{stage}.{part}.md").encode())
    for name in _SHARED if shared else ():
        digest.update(_source(f"{name}.md").encode())
    return digest.hexdigest()[:16]
