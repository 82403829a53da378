"""What a run reports as it goes; the CLI prints it. Every method may be left as it is (cf. STORM's callback)."""

from __future__ import annotations

from typing import Any


class Progress:
    def on_warning(self, message: str) -> None: ...

    def on_info(self, message: str) -> None: ...

    def on_sort(self, message: str) -> None: ...

    def on_section(self, section: Any, done: int, total: int) -> None: ...
