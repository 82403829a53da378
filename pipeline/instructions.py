"""Stage instructions: template files shipped in pipeline/templates, rendered with langchain-core.

Templates are mustache, so the JSON examples they show need no escaping; values are inserted with
triple braces, so a note's text arrives as the writer wrote it.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

from langchain_core.prompts import ChatPromptTemplate

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


@cache
def _source(name: str) -> str:
    return resources.files("pipeline").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _template(stage: str) -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages(
        [("system", _source(f"{stage}.system.md")), ("human", _source(f"{stage}.user.md"))],
        template_format="mustache",
    )


def render(stage: str, **values: Any) -> list[dict[str, str]]:
    """The chat messages for one stage call, as plain role/content dicts."""
    messages = _template(stage).format_messages(**values)
    return [{"role": _ROLES[m.type], "content": str(m.content).strip()} for m in messages]


def templates_hash() -> str:
    """A hash of every stage template, so a draft records which instructions made it."""
    digest = hashlib.sha256()
    for stage in ("assign", "expand"):
        for part in ("system", "user"):
            digest.update(_source(f"{stage}.{part}.md").encode())
    return digest.hexdigest()[:16]
