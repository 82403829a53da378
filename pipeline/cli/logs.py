"""The terminal is essay's own: libraries' log lines (httpx's `INFO:httpx2:HTTP Request: …`, a library that calls
`logging.basicConfig` on import) appear only with `--verbose`, and then named by their logger."""

from __future__ import annotations

import logging
import sys

_ours: logging.Handler | None = None


def quiet_libraries() -> None:
    """Before any command: a handler of essay's on the root logger, so a library's `basicConfig` finds one and
    does nothing, and one that ran already loses its stderr handler."""
    _use(logging.NullHandler(), logging.WARNING)


def show_library_logs() -> None:
    """`--verbose`: libraries' lines on stderr, from INFO up, each starting with its logger's name."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    _use(handler, logging.INFO)


def _use(handler: logging.Handler, level: int) -> None:
    global _ours
    root = logging.getLogger()
    for old in list(root.handlers):
        # basicConfig's handler is a plain StreamHandler; a test framework's capture handlers (subclasses) stay.
        if old is _ours or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _ours = handler
