"""Locks in .essay/locks/: two runs that would write the same essay, or two `essay batch` runs sharing one Batch API
ledger, never work at once. The second is told at once that another run holds it, rather than waiting unseen or
writing an essay twice. An OS lock (flock) on a file: a run killed at any moment releases it with its process,
so no stale lock is ever left to clean up.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from pipeline.core.errors import StateError


@contextlib.contextmanager
def holding(state_dir: Path, name: str, what: str) -> Iterator[None]:
    """Hold the lock `name` for the block, or raise at once naming the run (`what`: what it is doing) that has it."""
    folder = state_dir / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(
            f"cannot take a lock in {folder} ({exc.strerror}): check that the folder is writable"
        ) from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
            who = f"another essay run (pid {holder})" if holder.isdigit() else "another essay run"
            raise StateError(f"{who} is {what}: wait for it to finish, then run again") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def essay_lock_name(folder: Path) -> str:
    """One lock per essay folder, wherever --drafts puts it: its name, and a digest of where it is."""
    where = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:8]
    return f"essay-{folder.name[:60]}-{where}"
