"""Run every benchmark and print one table: `python benchmarks/run.py`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import batch_concurrency, large_vault, local_generation, single_shot

BENCHMARKS = {
    "single-shot": single_shot.run,
    "large-vault": large_vault.run,
    "batch": batch_concurrency.run,
    "local": local_generation.run,
}


def main() -> None:
    """Every benchmark, or those named: `python benchmarks/run.py batch`."""
    names = sys.argv[1:] or list(BENCHMARKS)
    rows = [row for name in names for row in BENCHMARKS[name]()]
    width = max(len(name) for name, _ in rows)
    print(f"{'benchmark'.ljust(width)}  result")
    print(f"{'-' * width}  ------")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
