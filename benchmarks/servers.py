"""A fake OpenAI-compatible chat server for the benchmarks, run in its own process.

Three modes, each behaving like the real servers it stands for:
    parallel   a hosted API: any number of calls at once, each 0.3 s to the first token + 8 ms an output token
    hosted     the same, caching prompts as OpenAI does: a prompt's first 1,024+ tokens, in steps of 128, are
               reported as `cached_tokens` when an answered call (one that finished) began with them; the
               others take 0.05 ms each to read (20,000 tokens a second), the cached ones nothing
    one-slot   llama.cpp's server with one slot: one call at a time (the rest queue, first come first served);
               the prompt prefix shared with the previous call is reused, so a call costs
               2 ms x (prompt tokens past that shared prefix) + 10 ms x output tokens. Like llama-cpp-python's
               server, it answers a `json_schema` response_format with HTTP 500 and takes `json_object`.
Prose answers are exactly `max_tokens` tokens long; structured answers are valid JSON for the schema.
Every answer reports `usage` (with `prompt_tokens_details.cached_tokens`); GET /stats returns one record a call.

Run: `python benchmarks/servers.py parallel [SCALE]` prints the port, then serves, each call taking SCALE times
its simulated time (default 1). `FakeServer("one-slot")` does that in a subprocess and stops it when the `with`
block ends.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import wordfreq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, it still finds tests/

from tests.loopback import LoopbackServer, QuietHandler

MODES = ("parallel", "one-slot", "hosted")
FIRST_TOKEN, PER_TOKEN = 0.3, 0.008  # parallel: seconds to the first token, and per output token
HOSTED_READ = 0.00005  # hosted: seconds per prompt token not in its cache
CACHE_FROM, CACHE_STEP = 1024, 128  # hosted: the shortest prefix cached, and the steps it grows by
PREFILL, DECODE = 0.002, 0.010  # one-slot: seconds per prompt token not reused, and per output token
_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")  # a word or a run of punctuation, with the spaces before it
_WORDS = [
    "the",
    "queue",
    "was",
    "slow",
    "so",
    "i",
    "wrote",
    "a",
    "runbook",
    "and",
    "asked",
    "the",
    "team",
    "about",
    "the",
    "deploy",
    "before",
    "lunch",
]


def tokenize(text: str) -> list[str]:
    """A deterministic stand-in for a BPE tokenizer: about one token a word, ` 12,` in a list is two."""
    return _TOKEN.findall(text)


def prompt_tokens(messages: list[dict[str, Any]]) -> list[str]:
    """The prompt as a chat model reads it: the messages in a ChatML template, then the assistant's turn."""
    chat = "".join(f"<|im_start|>{m['role']}\n{m.get('content') or ''}<|im_end|>\n" for m in messages)
    return tokenize(chat + "<|im_start|>assistant\n")


def prose(count: int, seed: int = 0, words: list[str] | None = None) -> str:
    """Exactly `count` tokens of lowercase prose, in sentences of twelve tokens, ending on a full stop, drawn from
    `words` (what the request asks about, as a model writes about its own section) or a fixed list."""
    vocabulary = words or _WORDS
    tokens: list[str] = []
    for i in range(count):
        if tokens and tokens[-1] != "." and (i % 12 == 11 or i == count - 1):
            tokens.append(".")
        else:
            tokens.append((" " if tokens else "") + vocabulary[(i + seed) % len(vocabulary)])
    return "".join(tokens)


def _request_words(body: dict[str, Any]) -> list[str]:
    """Words of its own for each request (a sample of everyday English picked by the request's last message): two
    sections of a draft then write about different things, as a model does, rather than one paragraph twice,
    which essay's check for a story told twice would rightly catch and have written again."""
    last = (body.get("messages") or [{}])[-1].get("content") or ""
    pool = [w for w in wordfreq.top_n_list("en", 6000)[1000:] if w.isalpha() and len(w) >= 4]
    return random.Random(hashlib.sha256(last.encode()).digest()).sample(pool, 60)


def json_answer(schema: dict[str, Any] | None) -> str:
    """A valid sorting answer for the schema, like a model's: each fragment listed once, under one of the
    sections whose list may hold it, in turn; under "0" only where no section may."""
    if not schema or not schema.get("properties"):
        return "{}"
    lists = {key: spec.get("items", {}).get("enum", []) for key, spec in schema["properties"].items()}
    answer: dict[str, list[int]] = {key: [] for key in lists}
    for turn, number in enumerate(sorted({n for ids in lists.values() for n in ids})):
        options = [key for key, ids in lists.items() if key != "0" and number in ids] or ["0"]
        answer[options[turn % len(options)]].append(number)
    return json.dumps(answer)


def _schema_from_text(user: str) -> dict[str, Any] | None:
    """With no response_format, a sorting request is recognised by its numbered fragment list."""
    ids = [int(n) for n in re.findall(r"^\[(\d+)\]", user, re.M)]
    if not ids or "goes in exactly one list" not in user:  # the writing call shows [fN] ids, to be cited
        return None
    sections = len(re.findall(r"^[1-9]\d*\. ", user, re.M))
    items = {"type": "array", "items": {"type": "integer", "enum": ids}}
    return {"properties": {str(n): items for n in [*range(1, sections + 1), 0]}}


def _answer_text(body: dict[str, Any], seed: int) -> tuple[str, bool]:
    """The answer's text, and whether the request was a structured one."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return json_answer(fmt.get("json_schema", {}).get("schema")), True
    if fmt.get("type") == "json_object":
        return json_answer(fmt.get("schema")), True
    user = next((m.get("content") or "" for m in body["messages"] if m["role"] == "user"), "")
    schema = _schema_from_text(user)
    if schema is not None:
        return json_answer(schema), True
    return prose(int(body.get("max_tokens") or 256), seed, _request_words(body)), False


class _State:
    def __init__(self, mode: str, scale: float = 1.0) -> None:
        self.mode = mode
        self.scale = scale  # real seconds a simulated second takes
        self.answered: set[str] = set()  # hosted: digests of the cacheable prefixes of answered prompts
        self.started = time.monotonic()
        self.stats: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.slot = threading.Condition()
        self.next_ticket = 0  # one-slot: tickets are served in the order they were taken
        self.serving = 0
        self.previous: list[str] = []  # one-slot: the previous call's prompt, still in the slot's cache

    def now(self) -> float:
        return round(time.monotonic() - self.started, 4)

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        arrived = self.now()
        fmt = body.get("response_format") or {}
        if self.mode == "one-slot" and fmt.get("type") == "json_schema":
            with self.lock:
                self.stats.append({"status": 500, "arrived": arrived, "finished": self.now()})
            message = "1 validation error: response_format.type Input should be 'text' or 'json_object'"
            return 500, {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        with self.lock:
            seed = len(self.stats)
        text, structured = _answer_text(body, seed)
        prompt, output = prompt_tokens(body["messages"]), len(tokenize(text))
        started, cached, busy = self._serve(prompt, output)
        opening = str(body["messages"][0].get("content") or "") if body["messages"] else ""
        record = {
            "status": 200,
            "structured": structured,
            "opening": hashlib.sha256(opening.encode()).hexdigest()[:16],  # calls that open alike share it
            "prompt_tokens": len(prompt),
            "cached_tokens": cached,
            "completion_tokens": output,
            "busy": round(busy, 4),
            "arrived": arrived,
            "started": started,
            "finished": self.now(),
        }
        with self.lock:
            self.stats.append(record)
        usage = {
            "prompt_tokens": len(prompt),
            "completion_tokens": output,
            "total_tokens": len(prompt) + output,
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        finish = "stop" if structured else "length"
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        return 200, {
            "id": f"chatcmpl-{seed}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [choice],
            "usage": usage,
        }

    def _serve(self, prompt: list[str], output: int) -> tuple[float, int, float]:
        """Sleep as long as the call takes; returns when it started, cached prompt tokens, and its busy time."""
        if self.mode == "parallel":
            busy = FIRST_TOKEN + PER_TOKEN * output
            started = self.now()
            time.sleep(busy * self.scale)
            return started, 0, busy
        if self.mode == "hosted":
            prefixes = _prefixes(prompt)
            with self.lock:
                cached = max((n for n, digest in prefixes if digest in self.answered), default=0)
            busy = FIRST_TOKEN + HOSTED_READ * (len(prompt) - cached) + PER_TOKEN * output
            started = self.now()
            time.sleep(busy * self.scale)
            with self.lock:  # only now, answered, may it serve later calls: calls sent at once hit nothing
                self.answered.update(digest for _, digest in prefixes)
            return started, cached, busy
        with self.slot:
            ticket = self.next_ticket
            self.next_ticket += 1
            self.slot.wait_for(lambda: self.serving == ticket)
        try:
            started = self.now()
            cached = _common_prefix(self.previous, prompt)
            busy = PREFILL * (len(prompt) - cached) + DECODE * output
            time.sleep(busy * self.scale)
            self.previous = prompt
            return started, cached, busy
        finally:
            with self.slot:
                self.serving += 1
                self.slot.notify_all()


def _prefixes(prompt: list[str]) -> list[tuple[int, str]]:
    """Each prefix a hosted API may cache (1,024 tokens, then every 128 more), with a digest of its tokens."""
    digest = hashlib.sha256()
    found: list[tuple[int, str]] = []
    done = 0
    for end in range(CACHE_FROM, len(prompt) + 1, CACHE_STEP):
        digest.update("\x00".join(prompt[done:end]).encode())
        digest.update(b"\x00")
        done = end
        found.append((end, digest.copy().hexdigest()))
    return found


def _common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _handler(state: _State) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.send_json(*state.answer(self.read_json()))

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/stats"):
                with state.lock:
                    self.send_json(200, {"mode": state.mode, "calls": list(state.stats)})
            else:
                self.send_json(200, {"object": "list", "data": [{"id": "bench", "object": "model"}]})

    return Handler


class FakeServer:
    """The fake server in a subprocess of its own: `with FakeServer("parallel") as s: s.base_url, s.stats()`."""

    def __init__(self, mode: str, scale: float = 1.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.scale = scale
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeServer:
        self._process = subprocess.Popen(
            [sys.executable, __file__, self.mode, str(self.scale)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.__exit__()
            raise RuntimeError(f"the fake server did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def stats(self) -> list[dict[str, Any]]:
        """One record a call answered so far (rejected calls have status 500 and no tokens)."""
        with urllib.request.urlopen(f"{self.base_url}/stats", timeout=10) as response:
            return list(json.load(response)["calls"])


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "parallel"
    if mode not in MODES:
        raise SystemExit(f"usage: servers.py {{{','.join(MODES)}}} [SCALE]")
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    server = LoopbackServer(_handler(_State(mode, scale)))
    print(server.port, flush=True)
    server.httpd.serve_forever()  # in this, the process's own thread: the process is the server


if __name__ == "__main__":
    main()
