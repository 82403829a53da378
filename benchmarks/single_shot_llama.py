"""essay against one big call on a real server: llama-cpp-python's, on the bundled GGUF, in a process of its own.

The fake servers of `single_shot` model a server's timing; this runs the real thing on this machine's CPU.
(a) `essay draft` through the CLI, as a subprocess, on a synthetic vault small enough for the bundled model's
    8,192-token window (the server is on loopback, so every call opens with the same notes: essay's default);
(b) one call with the same notes and prompt that asks for as many output tokens as all of (a)'s calls produced,
    and cannot stop sooner: the end-of-text tokens are banned, so both sides generate the same number of tokens.
The server answers one call at a time and reuses the prompt prefix a call shares with the one before, as
llama.cpp does. A 135M model writes poor essays; what this measures is time.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from openai import OpenAI

from benchmarks.local_generation import llama_server
from benchmarks.single_shot import GOALS, PROMPT, ROOT, draft_wall, single_shot_messages
from benchmarks.synthetic import make_vault
from pipeline.models.providers.local import bundled_model_path

NOTES = 8  # about 60 fragments: the notes, a section's answer and the sort's fit in 8,192 tokens
WINDOW = 8192  # the bundled model's trained context
END_OF_TEXT = (0, 2)  # SmolLM2's <|endoftext|> and <|im_end|>
_USAGE = re.compile(r"(\d+) calls, ([\d,]+) tokens in, ([\d,]+) out")


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "prompts").mkdir()
        shutil.copy(ROOT / PROMPT, workspace / PROMPT)
        make_vault(workspace / "notes", NOTES)
        (workspace / "essay.toml").write_text(f"[llm]\ncontext_window = {WINDOW}\n", encoding="utf-8")
        model = bundled_model_path()
        with llama_server(model, "--n_ctx", str(WINDOW)) as base_url:
            wall, _, stderr = draft_wall(workspace, base_url)
        usage = _USAGE.search(stderr)
        if usage is None:
            raise SystemExit(f"essay draft printed no usage line:\n{stderr[-2000:]}")
        calls, sent, out = int(usage[1]), int(usage[2].replace(",", "")), int(usage[3].replace(",", ""))
        with llama_server(model, "--n_ctx", str(WINDOW)) as base_url:
            single_wall, single_in, single_out = _one_call(single_shot_messages(workspace), base_url, out)
    goal, moonshot = GOALS["one-slot"]
    ratio = wall / single_wall
    mark = "meets the moonshot" if ratio <= moonshot else "meets the goal" if ratio <= goal else "ABOVE GOAL"
    label = "single-shot [llama-cpp-python server, bundled model]"
    return [
        (f"{label} pipeline: essay draft (CLI)", f"{wall:.1f}s, {calls} calls, {sent:,} tokens in, {out:,} out"),
        (
            f"{label} one call, same notes, same output",
            f"{single_wall:.1f}s, {single_in:,} tokens in, {single_out:,} out",
        ),
        (f"{label} wall, pipeline / one call", f"{ratio:.2f}x (goal: at most {goal:.2f}): {mark}"),
    ]


def _one_call(messages: list[dict[str, str]], base_url: str, max_tokens: int) -> tuple[float, int, int]:
    client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0, timeout=1200)
    started = time.perf_counter()
    answer = client.chat.completions.create(
        model="bench",
        messages=messages,  # type: ignore[arg-type]
        max_tokens=max_tokens,
        temperature=0.7,
        logit_bias={str(token): -100 for token in END_OF_TEXT},
    )
    wall = time.perf_counter() - started
    usage = answer.usage
    return wall, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0
