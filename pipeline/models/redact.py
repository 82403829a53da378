"""Redaction: names and codenames listed in essay.toml never reach an HTTP endpoint as written.

Each listed term is swapped for a placeholder (`Redacted-3`) in what is sent, and the placeholder
is swapped back in what returns, so the draft reads as the author wrote the notes. A term is
matched inside longer words and identifiers too (`kestrels`, `kestrel_v2`, `KestrelOps`): a
redaction that misses a form leaks it, one that catches too much costs only a placeholder. When the
text itself already holds something that looks like a placeholder, another word is used, so the
author's own text is never mistaken for one on the way back.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Sequence
from typing import Any

from pipeline.models.llm import ChatModel, Completion, Messages, WrappedModel

_WORDS = ("Redacted", "Withheld", "Masked", "Elided", "Hidden")


class RedactingModel(WrappedModel):
    def __init__(self, inner: ChatModel, terms: Sequence[str]) -> None:
        super().__init__(inner)
        # Longest first, so "dana scully" is one term rather than "dana" and a stray surname.
        self.terms = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        self._numbers = {term.lower(): n for n, term in enumerate(self.terms, start=1)}
        alternatives = "|".join(re.escape(t) for t in self.terms)
        self._pattern = re.compile(f"(?:{alternatives})", re.I) if self.terms else None

    def placeholder_word(self, texts: Sequence[str]) -> str:
        """The first placeholder word that occurs nowhere in what is about to be sent."""
        joined = "\n".join(texts).lower()
        for word in _WORDS:
            if f"{word.lower()}-" not in joined:
                return word
        return f"Redacted{zlib.crc32(joined.encode()) % 10_000}"

    def redact(self, text: str, word: str = "Redacted") -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: f"{word}-{self._numbers[m[0].lower()]}", text)

    def restore(self, text: str, word: str = "Redacted") -> str:
        def original(match: re.Match[str]) -> str:
            number = int(match[1])
            return self.terms[number - 1] if 1 <= number <= len(self.terms) else match[0]

        return re.sub(rf"{re.escape(word)}-(\d+)", original, text, flags=re.I)

    def complete(self, messages: Messages, **options: Any) -> Completion:
        word = self.placeholder_word([m["content"] for m in messages])
        sent = [{**m, "content": self.redact(m["content"], word)} for m in messages]
        reply = self.inner.complete(sent, **options)
        return dataclasses.replace(reply, text=self.restore(reply.text, word))
