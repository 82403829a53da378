"""`essay export --to docx` through pandoc, where pandoc is installed (.ci/run installs Debian's): the Word file
holds the essay's words, its footnotes as Word footnotes, its picture, and none of the draft's marks."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from pipeline.export.render import pandoc_path
from tests.conftest import essay
from tests.test_export import garden  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(pandoc_path() is None, reason="no pandoc here: `apt-get install pandoc` (.ci/run does)")


def _text(xml: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", xml)).replace("&gt;", ">")


def test_the_word_file_holds_the_essay_with_its_footnotes(garden: Path) -> None:  # noqa: F811
    ran = essay("export", "drafts/garden", "--to", "docx", "--flags", "drop", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "exports/garden.docx\n"
    with zipfile.ZipFile(garden / "exports" / "garden.docx") as docx:
        body = _text(docx.read("word/document.xml").decode())
        footnotes = _text(docx.read("word/footnotes.xml").decode())
        title = docx.read("docProps/core.xml").decode()
        pictures = [n for n in docx.namelist() if n.startswith("word/media/")]
    assert "<dc:title>what running a community garden taught me</dc:title>" in title
    assert "tomás brought his kids, and priya raman ran the seed swap." in body
    assert "ladder of abstraction in soil. see projects/beds > spring plan too." in body
    for leftover in ("section: start", "==", "^[check", "[^", "made_by"):
        assert leftover not in body, leftover
    for note in ("2025-04-02, projects/beds > rollout", "they ate them straight off the vine.", "with a link in it."):
        assert note in footnotes
    assert len(pictures) == 1  # the embedded image, carried inside the file
    assert [p.name for p in (garden / "exports").iterdir()] == ["garden.docx"]
