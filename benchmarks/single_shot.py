"""essay against what a writer would do instead: paste every note and the prompt into one chat.

Both sides run in one process against the same loopback server, which takes a time to first token
plus a time per output token for each answer, and both ask for the same total length of prose.
(a) a draft's wall time and prompt tokens against the single-shot call;
(b) a second draft of the unchanged prompt (the sort is reused from the cache) and a resumed one.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic import make_vault
from pipeline.cache import Store
from pipeline.config import Settings
from pipeline.expand import target_words
from pipeline.providers.openai_chat import OpenAIChat
from pipeline.runner import draft_essay, read_inputs
from tests.fake_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
TTFT, PER_TOKEN = 0.3, 0.01  # seconds: a hosted model's first token, then 100 tokens/s


def run() -> list[tuple[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        example, synthetic = Path(tmp, "example"), Path(tmp, "synthetic")
        for folder in ("prompts", "notes"):
            shutil.copytree(ROOT / folder, example / folder)
        shutil.copytree(ROOT / "prompts", synthetic / "prompts")
        make_vault(synthetic / "notes", 60)
        for label, workspace in (("the example notes", example), ("60 synthetic daily notes", synthetic)):
            rows += [(f"{name} ({label})", value) for name, value in _compare(workspace)]
    return rows


def _compare(workspace: Path) -> list[tuple[str, str]]:
    prompt_path, notes, drafts = workspace / "prompts" / "platform-year.md", workspace / "notes", workspace / "drafts"
    with FakeOpenAIServer(latency=TTFT, per_token=PER_TOKEN, fill=0.75) as server:
        model = OpenAIChat(model="bench", base_url=server.base_url, api_key="not-needed")
        settings = Settings(provider="openai")
        inputs = read_inputs(prompt_path, notes, drafts, settings, model)
        with Store(workspace / ".essay" / "state.sqlite") as store:
            started = time.perf_counter()
            first = draft_essay(inputs, drafts, model, settings, store=store)
            draft_wall = time.perf_counter() - started
            sorting_calls = len(server.requests) - sum(1 for ids in first.plan.sections.values() if ids)

            sent = len(server.requests)
            started = time.perf_counter()
            draft_essay(inputs, drafts, model, settings, store=store)
            second_wall = time.perf_counter() - started
            second_sorting = sum(1 for r in server.requests[sent:] if "response_format" in r)

        essay_tokens = sum(
            target_words([f for f in inputs.fragments if f.id in ids]) * 2 + 64
            for ids in first.plan.sections.values()
            if ids
        )
        started = time.perf_counter()
        single = model.complete(_single_shot_messages(prompt_path, inputs.fragments), max_tokens=essay_tokens)
        single_wall = time.perf_counter() - started

    draft_prompt = first.usage.prompt_tokens
    return [
        ("draft wall, pipeline", f"{draft_wall:.2f}s ({first.usage.calls} calls, {sorting_calls} to sort)"),
        ("draft wall, single-shot", f"{single_wall:.2f}s (1 call, {single.completion_tokens} tokens out)"),
        ("draft wall ratio", f"{draft_wall / single_wall:.2f} (goal: at most 0.60)"),
        (
            "prompt tokens, pipeline / single-shot",
            f"{draft_prompt} / {single.prompt_tokens} = {draft_prompt / single.prompt_tokens:.2f} (goal: at most 2.50)",
        ),
        ("second draft of it", f"{second_wall:.2f}s, {second_sorting} sorting calls (goal: 0)"),
    ]


def _single_shot_messages(prompt_path: Path, fragments) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    notes = "\n\n".join(f"## {f.title}\n{f.text}" for f in fragments)
    return [
        {"role": "system", "content": "You write essays in the author's own voice: lowercase, casual, first person."},
        {"role": "user", "content": f"{prompt_path.read_text()}\n\nMy notes:\n\n{notes}\n\nWrite the whole essay."},
    ]
