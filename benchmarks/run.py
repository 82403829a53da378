"""Run the benchmarks and print one table: `python benchmarks/run.py [NAME ...]`.

Names: single-shot, single-shot-llama, local, large-vault, batch, sort, large-plan, voice (all of them when none is
given).
Never part of the tests.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    batch_concurrency,
    large_plan,
    large_vault,
    local_generation,
    single_shot,
    single_shot_llama,
    sort_bench,
    voice_eval,
)

BENCHMARKS: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "single-shot": single_shot.run,
    "single-shot-llama": single_shot_llama.run,
    "local": local_generation.run,
    "large-vault": large_vault.run,
    "batch": batch_concurrency.run,
    "sort": sort_bench.run,
    "large-plan": large_plan.run,
    "voice": voice_eval.run,
}


def machine() -> str:
    """Cores, CPU model and load: ratios are measured side by side, but other work on the machine moves them."""
    model = platform.processor() or "unknown CPU"
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.is_file():
        for line in with_cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {model}, load average {load}"


def main() -> None:
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    print(machine())
    print(f"python {platform.python_version()}, {platform.system()} {platform.release()}\n", flush=True)
    started = time.perf_counter()
    rows: list[tuple[str, str]] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += BENCHMARKS[name]()
    rows.append(("all of the above", f"{time.perf_counter() - started:.0f}s"))
    print("| benchmark | result |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
