"""Redaction: names and codenames listed in essay.toml never reach an HTTP endpoint as written.

Each listed term is swapped for a placeholder (`Redacted-3`) in what is sent, and the placeholder
is swapped back in what returns, so the draft reads as the author wrote the notes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from pipeline.llm import ChatModel, Completion, Messages, WrappedModel

_PLACEHOLDER = re.compile(r"\bredacted-(\d+)\b", re.I)


class RedactingModel(WrappedModel):
    def __init__(self, inner: ChatModel, terms: Sequence[str]) -> None:
        super().__init__(inner)
        # Longest first, so "dana scully" is one term rather than "dana" and a stray surname.
        self.terms = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        self._numbers = {term.lower(): n for n, term in enumerate(self.terms, start=1)}
        alternatives = "|".join(re.escape(t) for t in self.terms)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I) if self.terms else None

    def redact(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: f"Redacted-{self._numbers[m[0].lower()]}", text)

    def restore(self, text: str) -> str:
        def original(match: re.Match[str]) -> str:
            number = int(match[1])
            return self.terms[number - 1] if 1 <= number <= len(self.terms) else match[0]

        return _PLACEHOLDER.sub(original, text)

    def complete(self, messages: Messages, **options: Any) -> Completion:
        sent = [{**m, "content": self.redact(m["content"])} for m in messages]
        reply = self.inner.complete(sent, **options)
        return dataclasses.replace(reply, text=self.restore(reply.text))
