"""Privacy: which notes may leave the machine, and a guard that holds the line for every path.

Private notes (frontmatter `private`, or a `[notes] private` glob) go to the in-process model, and to
an HTTP endpoint only when essay.toml lists it under `[privacy] trusted`. The stages never see a
withheld note; the guard, the outermost layer of the model stack, checks every request anyway, so a
caller that forgets to filter (a library user, a new code path, a batch file) fails instead of leaking.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from pipeline.core.errors import PrivacyError
from pipeline.models.llm import ChatModel, Completion, Messages, WrappedModel

_PROBE_CHARS = 48  # enough of a note's text to recognise it, short enough to survive a preview cut


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _probe(text: str) -> str:
    """The start of a note's text, past a list marker: a plan holds a bullet as its item without the `- `."""
    return re.sub(r"\A(?:[-*+]|\d+[.)])\s+", "", _squeezed(text))[:_PROBE_CHARS]


class PrivacyGuard(WrappedModel):
    """Refuses any request that carries the text of a private note, unless the endpoint is trusted."""

    def __init__(self, inner: ChatModel, *, trusted: bool) -> None:
        super().__init__(inner)
        self.enforcing = inner.sends_over_http and not trusted
        self._probes: dict[str, str] = {}  # probe text -> the note it comes from
        self._lock = threading.Lock()

    def protect(self, texts: Iterable[tuple[str, str]]) -> None:
        """(note path, text) of private material that must not leave for this endpoint."""
        with self._lock:
            for path, text in texts:
                probe = _probe(text)
                if len(probe) >= 12:  # a word or two is no evidence of a note
                    self._probes[probe] = path

    def private_source(self, text: str) -> str | None:
        """The private note whose text `text` holds, when it may not go to this endpoint; else None. The stages
        ask first, so a public note quoting a private one, or a private item pasted into the plan, is named and
        left out rather than refused below."""
        if not self.enforcing or not self._probes:
            return None
        sent = _squeezed(text)
        with self._lock:
            return next((path for probe, path in self._probes.items() if probe in sent), None)

    def complete(self, messages: Messages, **options: Any) -> Completion:
        leaked = self.private_source("\n".join(m["content"] for m in messages))
        if leaked:
            raise PrivacyError(
                f"refused to send the text of private note {leaked} to {self.endpoint}, which is not trusted "
                "(nothing was sent): another note, the prompt or the plan holds that text too; remove it there, "
                "or list the endpoint under [privacy] trusted in essay.toml"
            )
        return self.inner.complete(messages, **options)
