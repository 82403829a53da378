"""Run every benchmark and print one table: `python benchmarks/run.py`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import local_generation


def main() -> None:
    rows = local_generation.run()
    width = max(len(name) for name, _ in rows)
    print(f"{'benchmark'.ljust(width)}  result")
    print(f"{'-' * width}  ------")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
