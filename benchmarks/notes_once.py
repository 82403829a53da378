"""Issue 27: the notes are read once, on every server. `essay draft` against one big call, at four vault sizes.

For 150, 250, 350 and 500 fragments (synthetic daily notes, benchmarks/synthetic.py, and the example prompt
prompts/platform-year.md) and two servers (benchmarks/servers.py):
    one-slot  one call at a time, reusing the prompt prefix it shares with the previous call (llama.cpp's server);
    hosted    calls side by side, reporting as `cached_tokens` (and reading for free) only a prefix of 1,024+
              tokens of a call it has already answered, as OpenAI does. Its workspace says `slots = 4`, so only
              knowing that the endpoint caches gives it the shared opening: its state holds that the endpoint
              was seen to report cached tokens, as a workspace that drafted against it once does. It is run
              as gpt-4o-mini (whose cached rate, half its list rate, makes essay send each call its own notes:
              `prices.sharing_pays`) and as gpt-5-mini (a tenth: essay shares the opening).
(a) `essay draft` through the CLI, as a subprocess (real openai SDK over HTTP, --no-cache, fresh workspace);
(b) one call holding every note in full and the prompt, with max_tokens = all output tokens (a)'s calls produced.
Each side on a fresh server process; both walls timed by this process, (a)'s with the CLI's start-up. Both sides
get the model's window of 128k tokens (gpt-4o-mini's), as the one big call needs more than 16k. Reported: the
wall ratio, the prompt tokens the server had to read (not reused or cached), and the dollars at a named model's
list and cached prices (`pipeline/models/prices.py`). The servers run at SCALE of their simulated time, both
sides alike, to keep the run to a few minutes; the CLI's start-up is not scaled, so it weighs SCALE^-1 times
more than against a real server: the server's span, from the first call's arrival to the last answer, is
reported beside the wall, with the CLI's own time before and after it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.servers import FakeServer
from benchmarks.single_shot import _one_call, draft_wall, single_shot_messages
from benchmarks.synthetic import make_vault
from pipeline.collect.notes import collect_notes
from pipeline.models.cache import Store
from pipeline.models.prices import KNOWN

ROOT = Path(__file__).resolve().parent.parent
PROMPT = Path("prompts") / "platform-year.md"
SIZES = (150, 250, 350, 500)
# The servers, and the model each is priced as: on the hosted server, essay shares the opening only where the
# sections' cached openings cost less than their own notes would (`prices.sharing_pays`): at gpt-5-mini, not at
# gpt-4o-mini, whose cached rate is half its list rate.
RUNS = (("one-slot", "bench"), ("hosted", "gpt-4o-mini"), ("hosted", "gpt-5-mini"))
SCALE = 0.25
WINDOW = 131_072
GOALS = {"one-slot": (1.0, 0.9), "hosted": (0.5, 0.35)}  # wall ratio: goal, moonshot
COST_GOAL = (1.0, 0.7)


UNSEEN = ROOT / "benchmarks" / "sortset5"  # the newest vault labeled blind: 257 fragments of one author's notes
UNSEEN_PROMPT = Path("prompts") / "capsize.md"
UNSEEN_SIZE = 270
NO_CLIFF_SIZE, NO_CLIFF_WINDOW = 350, 8192  # notes that do not fit one opening of that window


def run(sizes: tuple[int, ...] = SIZES, *, unseen: bool = True) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for size in sizes:
        for mode, model in RUNS:
            rows += _compare(size, mode, model)
    for mode, model in RUNS if unseen else ():
        rows += _compare(UNSEEN_SIZE, mode, model, unseen=True)
    if unseen:  # no cliff: a window the notes do not fit, nor does the one call (the fake server does not mind)
        rows += _compare(NO_CLIFF_SIZE, "one-slot", "bench", window=NO_CLIFF_WINDOW)
    return rows


def _unseen_vault(notes: Path, size: int) -> None:
    """The unseen vault, grown to `size` fragments with synthetic daily notes of another year."""
    shutil.copytree(UNSEEN / "notes", notes)
    for count in range(1, 50):
        extra = notes.parent / f"extra-{count}"
        make_vault(extra, count, seed=11)
        if len(collect_notes(notes).fragments) + len(collect_notes(extra).fragments) >= size:
            shutil.copytree(extra / "daily", notes / "daily-extra")
            return
        shutil.rmtree(extra)


def notes_for(fragments: int) -> int:
    """The fewest synthetic daily notes that make at least this many fragments."""
    with tempfile.TemporaryDirectory() as tmp:
        for count in range(fragments // 8, fragments):
            folder = Path(tmp) / str(count)
            make_vault(folder, count)
            if len(collect_notes(folder).fragments) >= fragments:
                return count
    raise ValueError(f"no vault of fewer than {fragments} notes makes {fragments} fragments")


def _compare(size: int, mode: str, model: str, *, unseen: bool = False, window: int = WINDOW) -> list[tuple[str, str]]:
    prompt = UNSEEN_PROMPT if unseen else PROMPT
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "prompts").mkdir()
        shutil.copy((UNSEEN if unseen else ROOT) / prompt, workspace / prompt)
        if unseen:
            _unseen_vault(workspace / "notes", size)
        else:
            make_vault(workspace / "notes", notes_for(size))
        count = len(collect_notes(workspace / "notes").fragments)
        slots = "slots = 4\n" if mode == "hosted" else ""
        (workspace / "essay.toml").write_text(f"[llm]\ncontext_window = {window}\n{slots}", encoding="utf-8")
        with FakeServer(mode, SCALE) as server:
            if mode == "hosted":
                _seen_caching(workspace, server.base_url)
            ready = time.perf_counter()
            wall, launched, _ = draft_wall(workspace, server.base_url, model, prompt)
            calls = [c for c in server.stats() if c["status"] == 200]
        offset = launched - ready  # the server's clock starts at `ready`
        first = min(c["arrived"] for c in calls) - offset  # the CLI's own start-up, before any call
        span = max(c["finished"] for c in calls) - min(c["arrived"] for c in calls)
        out = sum(c["completion_tokens"] for c in calls)
        with FakeServer(mode, SCALE) as server:
            big_wall = _one_call(single_shot_messages(workspace, prompt), server.base_url, out)
            big = server.stats()[-1]
    shared = len({c["opening"] for c in calls}) == 1
    vault = "the unseen vault (sortset5) grown to " if unseen else ""
    small = f", a {window // 1024}k window" if window != WINDOW else ""
    label = f"notes-once [{vault}{count} fragments{small}, {mode}{f', {model}' if mode == 'hosted' else ''}]"
    read = sum(c["prompt_tokens"] - c["cached_tokens"] for c in calls)
    big_read = big["prompt_tokens"] - big["cached_tokens"]
    sent = sum(c["prompt_tokens"] for c in calls)
    sorts = sum(1 for c in calls if c["structured"])
    goal, moonshot = GOALS[mode]
    rows = [
        (
            f"{label} pipeline / one call",
            f"{wall:.1f}s / {big_wall:.1f}s at {SCALE}x time: {len(calls)} calls ({sorts} to sort), "
            f"{sent:,} tokens sent, {out:,} out, {'one shared opening' if shared else 'each call its own notes'}; "
            f"one call {big['prompt_tokens']:,} in",
        ),
        (f"{label} wall, pipeline / one call", _verdict(wall / big_wall, goal, moonshot)),
        (
            f"{label} server's span (first call to last answer) / one call",
            f"{span / big_wall:.2f}x; the CLI's own time: {first:.1f}s before the first call, "
            f"{wall - first - span:.1f}s after the last answer",
        ),
        (
            f"{label} prompt tokens the server read, pipeline / one call",
            f"{read:,} / {big_read:,} = {read / big_read:.2f}x",
        ),
    ]
    if mode == "hosted":
        ours, theirs = _dollars(calls, model), _dollars([big], model)
        price = "/".join(f"{p:g}" for p in KNOWN[model])
        rows.append(
            (
                f"{label} dollars at {model}'s prices (${price} per M in/out/cached)",
                _verdict(ours / theirs, *COST_GOAL, f"${ours:.4f} / ${theirs:.4f} = "),
            )
        )
    return rows


def _seen_caching(workspace: Path, base_url: str) -> None:
    """What a workspace that drafted against this endpoint before knows: it reports cached prompt tokens."""
    (workspace / ".essay").mkdir(exist_ok=True)
    with Store(workspace / ".essay" / "state.sqlite") as store:
        store.modes[f"{base_url.rstrip('/')} prompt cache"] = "yes"


def _dollars(calls: list[dict[str, Any]], model: str) -> float:
    price_in, price_out, price_cached = KNOWN[model]
    total = 0.0
    for c in calls:
        total += (c["prompt_tokens"] - c["cached_tokens"]) * price_in + c["cached_tokens"] * price_cached
        total += c["completion_tokens"] * price_out
    return total / 1_000_000


def _verdict(ratio: float, goal: float, moonshot: float, prefix: str = "") -> str:
    mark = "meets the moonshot" if ratio <= moonshot else "meets the goal" if ratio <= goal else "ABOVE GOAL"
    return f"{prefix}{ratio:.2f}x (goal: at most {goal:.2f}, moonshot {moonshot:.2f}): {mark}"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    # `python -m benchmarks.notes_once [SIZE ...]`: those sizes only; `unseen`: the unseen vault only.
    asked = sys.argv[1:]
    chosen = tuple(int(a) for a in asked if a != "unseen")
    for name, value in run(chosen if asked else SIZES, unseen="unseen" in asked or not asked):
        print(f"| {name} | {value} |")
