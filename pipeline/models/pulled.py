"""Models pulled with `essay models pull`: GGUF files in essay's cache, each with a manifest beside it.

    <cache>/essay/models/<name>.gguf    the model, moved into place only once complete and verified
    <cache>/essay/models/<name>.json    where it came from, its sha256 and size (written just before the move)
    <cache>/essay/models/.partial/      downloads under way: <name>.gguf.part and what it is expected to be

A model is listed only when both files are there, so a pull cut short at any moment lists nothing.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.core.errors import UsageError

PULLED_CONTEXT = 8_192  # the window a pulled model runs at unless essay.toml sets one (the catalog's memory is for it)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def cache_root() -> Path:
    """essay's cache folder: $XDG_CACHE_HOME/essay (an absolute path only, as the XDG spec says), else ~/.cache/essay.
    The same folder the sorting models are unpacked into (pipeline/embeddings/weights.py)."""
    configured = os.environ.get("XDG_CACHE_HOME", "")
    if configured and Path(configured).is_absolute():
        return Path(configured) / "essay"
    return Path.home() / ".cache" / "essay"


def models_dir() -> Path:
    return cache_root() / "models"


@dataclass(frozen=True)
class PulledModel:
    name: str
    repo: str  # OWNER/REPO on the Hub
    file: str  # the file in that repository
    revision: str  # the commit it was downloaded at
    sha256: str
    size: int  # bytes
    context_length: int | None = None  # tokens the model was trained for, where the catalog says

    @property
    def path(self) -> Path:
        return models_dir() / f"{self.name}.gguf"

    def window(self, configured: int | None) -> int:
        return configured or min(self.context_length or PULLED_CONTEXT, PULLED_CONTEXT)

    @property
    def source(self) -> str:
        return f"hf:{self.repo}/{self.file}"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"'{name}' cannot name a model: use lowercase letters, digits, '.', '_' and '-'")
    return name


def pulled_models() -> list[PulledModel]:
    """Every complete, installed model, by name."""
    folder = models_dir()
    found = []
    for manifest in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        model = _read(manifest)
        if model is not None and model.path.is_file():
            found.append(model)
    return found


def find_pulled(name: str) -> PulledModel | None:
    if not _NAME.match(name):
        return None
    manifest = models_dir() / f"{name}.json"
    model = _read(manifest) if manifest.is_file() else None
    return model if model is not None and model.path.is_file() else None


def best_pulled() -> PulledModel | None:
    """The default when none is configured: the largest pulled model (a bigger model writes better prose)."""
    models = pulled_models()
    return max(models, key=lambda m: m.size) if models else None


def install(model: PulledModel, verified_file: Path) -> PulledModel:
    """Put a verified download in place: the manifest first, then the file by one rename, so the model is listed
    only when whole."""
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".manifest-", delete=False, encoding="utf-8") as f:
        json.dump(asdict(model), f, indent=2)
    os.replace(f.name, folder / f"{model.name}.json")
    os.replace(verified_file, model.path)
    return model


def remove(name: str) -> PulledModel:
    model = find_pulled(name)
    if model is None:
        known = ", ".join(m.name for m in pulled_models()) or "none"
        raise UsageError(f"no pulled model named '{name}' (pulled: {known}); `essay models` lists them")
    model.path.unlink()  # unlisted from this moment on
    (models_dir() / f"{name}.json").unlink(missing_ok=True)
    return model


def _read(manifest: Path) -> PulledModel | None:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return PulledModel(**data)
    except (OSError, ValueError, TypeError):  # a damaged manifest: that model is not listed, nothing crashes
        return None
