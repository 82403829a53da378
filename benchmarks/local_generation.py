"""Generation speed on the bundled model: through the pipeline against raw llama.cpp, side by side.

Both sides use the same loaded model, the same messages (a real section of the example prompt),
the same max_tokens and temperature, alternating so that machine noise hits both alike.
Pipeline = expand_section through LocalLlama and MeteredModel, with template rendering and clean-up.
Raw = Llama.create_chat_completion on the same messages.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from pipeline.expand import expand_section, section_messages, target_words
from pipeline.llm import MeteredModel
from pipeline.notes import collect_notes
from pipeline.prompt import parse_prompt
from pipeline.providers.local import PROSE_REPEAT_PENALTY, LocalLlama

ROOT = Path(__file__).resolve().parent.parent


def run(rounds: int = 3) -> list[tuple[str, str]]:
    prompt = parse_prompt(ROOT / "prompts" / "platform-year.md")
    section = prompt.sections[0]
    fragments = collect_notes(ROOT / "notes").fragments[:6]
    local = LocalLlama()
    llama = local.loaded()
    words = target_words(fragments)
    messages = section_messages(prompt, section, fragments, (), words, "")
    max_tokens = words * 2 + 64

    def pipeline_side() -> tuple[int, float]:
        metered = MeteredModel(local)
        started = time.perf_counter()
        expand_section(prompt, section, fragments, metered)
        return metered.usage.completion_tokens, time.perf_counter() - started

    def raw_side() -> tuple[int, float]:
        started = time.perf_counter()
        out = llama.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=0.7, repeat_penalty=PROSE_REPEAT_PENALTY
        )
        return out["usage"]["completion_tokens"], time.perf_counter() - started

    raw_side()  # warm up: load, and put the shared prompt prefix in llama.cpp's cache for both sides
    rates: dict[str, list[float]] = {"pipeline": [], "raw": []}
    tokens: dict[str, list[int]] = {"pipeline": [], "raw": []}
    for _ in range(rounds):
        for name, side in (("pipeline", pipeline_side), ("raw", raw_side)):
            count, seconds = side()
            rates[name].append(count / seconds)
            tokens[name].append(count)
    pipeline_rate = statistics.median(rates["pipeline"])
    raw_rate = statistics.median(rates["raw"])
    return [
        (
            "local generation: raw llama.cpp",
            f"{raw_rate:.1f} tokens/s (median of {rounds}, {sum(tokens['raw'])} tokens)",
        ),
        (
            "local generation: through the pipeline",
            f"{pipeline_rate:.1f} tokens/s (median of {rounds}, {sum(tokens['pipeline'])} tokens)",
        ),
        ("pipeline / raw", f"{pipeline_rate / raw_rate:.2f} (goal: at least 0.90)"),
    ]
