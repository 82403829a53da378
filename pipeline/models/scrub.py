"""No API key is stored or written: anything in an answer that could be one is removed before it goes further.

A misconfigured proxy or a hostile endpoint may echo the key it was sent, or another secret, inside an answer.
The configured key is matched in any case (the draft is lowercased), and so are the shapes of common keys:
OpenAI's `sk-…` and `sk-proj-…`, Hugging Face's `hf_…`, GitHub's `ghp_…` (and its other prefixes), AWS access
key ids `AKIA…`, and `Bearer` tokens. The scrub sits right above the provider, so the cache, the log, the
stages and the draft only ever see the scrubbed text, and the Batch API's answers pass the same function.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from pipeline.models.llm import ChatModel, Completion, Messages, WrappedModel

REMOVED = "[key removed]"
# A configured key shorter than this is a placeholder ("not-needed", "x"), not a secret: matching it would
# mangle ordinary prose.
_SHORTEST_KEY = 8
_KEY_SHAPES = re.compile(
    r"""
    \b(?:
        sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{16,}   # OpenAI, Anthropic
      | hf_[A-Za-z0-9]{20,}                                  # Hugging Face
      | gh[pousr]_[A-Za-z0-9]{20,}                           # GitHub tokens
      | github_pat_[A-Za-z0-9_]{20,}                         # GitHub fine-grained tokens
      | (?:AKIA|ASIA)[0-9A-Z]{16}                            # AWS access key ids
      | xox[abprs]-[A-Za-z0-9-]{10,}                         # Slack
    )\b
    | \bBearer\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}  # a bearer token (a digit: not a word)
    """,
    re.X | re.I,
)


class KeyScrubber:
    """Removes the configured keys (in any case) and anything shaped like a common key from a text."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.keys = sorted({k for k in keys if k and len(k) >= _SHORTEST_KEY}, key=len, reverse=True)
        alternatives = "|".join(re.escape(k) for k in self.keys)
        self._configured = re.compile(alternatives, re.I) if alternatives else None

    def __call__(self, text: str) -> str:
        if self._configured is not None:
            text = self._configured.sub(REMOVED, text)
        return _KEY_SHAPES.sub(REMOVED, text)


class ScrubbingModel(WrappedModel):
    """Every answer of the wrapped model, with anything that could be an API key removed."""

    def __init__(self, inner: ChatModel, scrub: KeyScrubber) -> None:
        super().__init__(inner)
        self.scrub = scrub

    def complete(self, messages: Messages, **options: Any) -> Completion:
        answer = self.inner.complete(messages, **options)
        return dataclasses.replace(answer, text=self.scrub(answer.text))
