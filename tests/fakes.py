"""A fake chat model to pass into the stages, in the spirit of simonw/llm's MockModel.

Queue answers with `enqueue(...)`; with none queued it answers sensibly by itself: a complete
assignment for a schema request, a paragraph of mixed-case prose for a section. Every call is
kept in `history` so tests can assert on what the stages sent.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from pipeline.models.llm import Completion, Messages, Purpose

PROSE = (
    "I learned that the queue is the org chart. See [The Guide [v2]](https://Example.com/Guide_Path) "
    "and [[Projects/Heron|Heron]], then run `Heron.Rollback()`."
)


@dataclass
class Call:
    messages: list[dict[str, str]]
    schema: dict[str, Any] | None
    max_tokens: int
    purpose: Purpose | None = None

    @property
    def user(self) -> str:
        return next(m["content"] for m in self.messages if m["role"] == "user")

    @property
    def system(self) -> str:
        return next(m["content"] for m in self.messages if m["role"] == "system")


class FakeLLM:
    provider = "fake"
    model = "fake-model"
    sends_over_http = False
    endpoint = "fake"
    can_sort = True

    def __init__(self, *, context_window: int = 8192) -> None:
        self.context_window = context_window
        self.history: list[Call] = []
        self._queue: list[str] = []
        self._lock = threading.Lock()

    def enqueue(self, *answers: str) -> FakeLLM:
        self._queue.extend(answers)
        return self

    def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.7,
        purpose: Purpose | None = None,
    ) -> Completion:
        call = Call([dict(m) for m in messages], schema, max_tokens, purpose)
        with self._lock:
            self.history.append(call)
            text = self._queue.pop(0) if self._queue else default_answer(call.user, schema)
        return Completion(
            text,
            prompt_tokens=sum(len(m["content"]) for m in call.messages) // 4,
            completion_tokens=len(text) // 4,
            finish_reason="stop",
        )


# What `--provider fake` answers with in CLI tests: the last FakeLLM made, so a test can inspect its calls.
made: list[FakeLLM] = []


def fake_provider(settings: Any, options: Any) -> FakeLLM:
    """A registered provider for in-process CLI tests: `essay draft P --provider fake`."""
    llm = FakeLLM()
    made.append(llm)
    return llm


def default_answer(user: str, schema: dict[str, Any] | None) -> str:
    if schema is not None:
        return sorting_answer(schema)
    title = re.search(r'write the section "(.+?)"', user)
    about = f"This part is about {title[1].lower() if title else 'something'}."
    # The first section tells the fake's story and the others only say what they are about: a draft telling
    # one story in every section is rightly flagged as telling it again (pipeline/write/once.py).
    return f"{PROSE}\n\n{about}" if _first_section(user, title[1] if title else None) else about


def _first_section(user: str, title: str | None) -> bool:
    listed = re.search(r"^its sections: (.+?)\.$", user, re.M)
    if title and listed:
        return listed[1].split("; ")[0] == title
    numbered = re.search(r"^write section (\d+), ", user, re.M)
    return numbered is None or numbered[1] == "1"


def sorting_answer(schema: dict[str, Any]) -> str:
    """A complete answer for a sorting schema: each fragment in one of the sections it may go to, the one
    with the fewest so far (a spread over every section that may take any), and only in "0" where no
    section may take it."""
    lists = {key: spec["items"]["enum"] for key, spec in schema["properties"].items()}
    answer: dict[str, list[int]] = {key: [] for key in lists}
    for number in sorted({n for ids in lists.values() for n in ids}):
        options = [key for key, ids in lists.items() if key != "0" and number in ids] or ["0"]
        answer[min(options, key=lambda key: len(answer[key]))].append(number)
    return json.dumps(answer)
