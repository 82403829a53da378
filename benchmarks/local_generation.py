"""Generation rate on the bundled GGUF: the pipeline's in-process LocalLlama against llama.cpp on its own.

The other side is llama-cpp-python's server, `python -m llama_cpp.server --model PATH`, in a process of
its own with its own defaults (threads, context, batch), sent the same request over HTTP. Same messages
(a section of the example prompt), same max_tokens, temperature 0, llama.cpp's usual repeat penalty.
Tokens/s = the answer's completion tokens / the wall time of the call; nothing is subtracted. The two
sides alternate, after one warm-up call each, and the median of three calls each is reported.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from openai import OpenAI

from pipeline.collect.notes import collect_notes
from pipeline.collect.prompt import parse_prompt
from pipeline.models.providers.local import PROSE_REPEAT_PENALTY, LocalLlama, bundled_model_path
from pipeline.write.expand import section_messages, target_words

ROOT = Path(__file__).resolve().parent.parent
MAX_TOKENS = 256
WARM_UP_TOKENS = 16
ROUNDS = 3
GOAL = 0.9


def run() -> list[tuple[str, str]]:
    prompt = parse_prompt(ROOT / "prompts" / "platform-year.md")
    fragments = collect_notes(ROOT / "notes").fragments[:6]
    messages = section_messages(prompt, prompt.sections[0], fragments, (), target_words(fragments), "")
    path = bundled_model_path()
    local = LocalLlama(path)

    def pipeline_side(max_tokens: int = MAX_TOKENS) -> int:
        return local.complete(messages, max_tokens=max_tokens, temperature=0.0).completion_tokens

    with llama_server(path) as base_url:
        client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0, timeout=300)

        def server_side(max_tokens: int = MAX_TOKENS) -> int:
            answer = client.chat.completions.create(
                model="local",
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=0.0,
                extra_body={"repeat_penalty": PROSE_REPEAT_PENALTY},
            )
            return answer.usage.completion_tokens if answer.usage else 0

        sides: dict[str, Callable[..., int]] = {"pipeline": pipeline_side, "server": server_side}
        for side in sides.values():
            side(WARM_UP_TOKENS)  # warm up: load the model, fill its prompt cache
        rates: dict[str, list[float]] = {name: [] for name in sides}
        tokens: dict[str, list[int]] = {name: [] for name in sides}
        for _ in range(ROUNDS):
            for name, side in sides.items():
                started = time.perf_counter()
                count = side()
                rates[name].append(count / (time.perf_counter() - started))
                tokens[name].append(count)
    threads = f"{local.loaded().n_threads} threads, n_ctx {local.context_window}"
    pipeline_rate, server_rate = statistics.median(rates["pipeline"]), statistics.median(rates["server"])
    ratio = pipeline_rate / server_rate
    verdict = "meets the goal" if ratio >= GOAL else "BELOW GOAL"
    return [
        (
            "local generation: llama.cpp server, own process",
            f"{server_rate:.1f} tokens/s (median of {ROUNDS}; tokens {tokens['server']}; {_server_defaults()})",
        ),
        (
            "local generation: pipeline in-process (LocalLlama)",
            f"{pipeline_rate:.1f} tokens/s (median of {ROUNDS}; tokens {tokens['pipeline']}; {threads})",
        ),
        ("local generation: pipeline / server", f"{ratio:.2f}x (goal: at least {GOAL:.2f}): {verdict}"),
    ]


def _server_defaults() -> str:
    from llama_cpp.server.settings import ModelSettings

    fields = ModelSettings.model_fields
    return f"its defaults: {fields['n_threads'].default} threads, n_ctx {fields['n_ctx'].default}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def llama_server(model: Path, *options: str) -> Iterator[str]:
    """llama-cpp-python's server on the model, in a process of its own, with its defaults but for `options`;
    stopped however the block ends."""
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--port", str(port)]
    command += ["--host", "127.0.0.1", *options]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base_url = f"http://127.0.0.1:{port}/v1"
            _wait_until_up(base_url, process, log)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base_url}/models", timeout=2):
            return
        time.sleep(0.25)
    raise RuntimeError("llama_cpp.server did not answer within 120 s")
