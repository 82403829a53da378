"""`essay models` on this machine: a pull of the bundled SmolLM2 GGUF (98 MB) from a loopback stand-in for the Hub,
the same pull killed (kill -9) half-way and resumed, and how long listing takes with no model server running and
with a (loopback) Ollama. About 30 s on 2 cores.

Run: `.venv/bin/python benchmarks/models_pull.py`
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.catalog.discover import available_models  # noqa: E402
from pipeline.core.config import Settings  # noqa: E402
from pipeline.models.providers.local import bundled_model_path  # noqa: E402
from tests.hub_server import FakeHub  # noqa: E402
from tests.ollama_server import FakeOllama  # noqa: E402

GGUF = bundled_model_path()
SPEC = f"hf:bench/SmolLM2/{GGUF.name}"
NAME = GGUF.stem.lower()


def _pull(env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "models", "pull", SPEC], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - started


def main() -> None:
    size = GGUF.stat().st_size
    with tempfile.TemporaryDirectory() as cache, FakeHub({f"bench/SmolLM2/{GGUF.name}": GGUF}) as hub:
        env = os.environ | {"HF_ENDPOINT": hub.url, "XDG_CACHE_HOME": cache}
        whole = _pull(env)
        print(f"pull, {size / 1e6:.1f} MB over loopback, sha256 checked: {whole:.2f} s ({size / 1e6 / whole:.0f} MB/s)")
        models = Path(cache) / "essay" / "models"
        (models / f"{NAME}.gguf").unlink()
        (models / f"{NAME}.json").unlink()
        hub.throttle = 0.002
        part = models / ".partial" / f"{NAME}.gguf.part"
        pulling = subprocess.Popen([sys.executable, "-m", "pipeline", "models", "pull", SPEC], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        while not (part.is_file() and part.stat().st_size >= size // 2):
            time.sleep(0.02)
        os.kill(pulling.pid, signal.SIGKILL)
        pulling.wait()
        kept = part.stat().st_size
        hub.throttle, before = 0.0, hub.served
        resumed = _pull(env)
        fetched = hub.served - before
        print(
            f"killed at {kept / size:.0%}; the next pull fetched {fetched / 1e6:.1f} of {size / 1e6:.1f} MB "
            f"({fetched / size:.0%}) in {resumed:.2f} s"
        )
    settings = Settings()
    os.environ["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens there
    quiet = [_timed(lambda: available_models(settings)) for _ in range(5)]
    with FakeOllama() as server:
        os.environ["OLLAMA_HOST"] = server.host
        with_ollama = [_timed(lambda: available_models(settings)) for _ in range(5)]
    print(f"listing, no model server running: median {statistics.median(quiet) * 1000:.0f} ms over 5")
    print(f"listing, a loopback Ollama with 2 models: median {statistics.median(with_ollama) * 1000:.0f} ms over 5")


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
