"""`essay export`: a finished draft leaves as clean markdown or one HTML file, compared with expected files in
tests/data/export/; the drafts' versions are never touched, and a rerun replaces only essay's own export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.export import render
from pipeline.write.expand import EMPTY_SECTION_NOTE
from tests.conftest import BULLET_PROMPT, essay, write

DATA = Path(__file__).parent / "data" / "export"
FLAG_LINE = (
    "error: drafts/garden/v002.md still has 1 flagged claim: \"priya raman\" in 'Then the people.'. Check each "
    "against your notes and delete its ==marks== and ^[check: ...] note, or export with --flags drop to keep the "
    "text and drop the marks\n"
)


@pytest.fixture
def garden(tmp_path: Path) -> Path:
    """A workspace whose essay has two versions; v002 is the draft the author finished editing."""
    write(tmp_path / "essay.toml", "")
    write(tmp_path / "prompts" / "garden.md", BULLET_PROMPT)
    notes = tmp_path / "notes"
    write(notes / "2025-04-02.md", "turned the beds with ines\n")
    write(notes / "2025-06-19.md", "first harvest\n")
    write(notes / "projects" / "beds.md", "# beds\n\n## spring plan\n\nraised beds\n\n## rollout\n\ntwo a week\n")
    write(notes / "content" / "ladder of abstraction.md", "up and down\n")
    write(notes / "attachments" / "peas.png", (DATA / "peas.png").read_bytes())  # a 4x4 green picture
    folder = tmp_path / "drafts" / "garden"
    write(folder / "v001.md", (DATA / "draft.md").read_text(encoding="utf-8").replace("version: 2", "version: 1"))
    shutil.copyfile(DATA / "draft.md", folder / "v002.md")
    return tmp_path


def _drafts(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "drafts" / "garden").iterdir())}


def test_md_export_drops_markers_flags_and_brackets_and_keeps_the_authors_edits(garden: Path) -> None:
    before = _drafts(garden)
    ran = essay("export", "drafts/garden", "--flags", "drop", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "exports/garden.md\n"
    assert "dropped the marks of 1 flagged claim; its text is kept\n" in ran.stderr
    assert "2 footnotes name your notes, which may be private: --sources drop leaves them out\n" in ran.stderr
    exported = (garden / "exports" / "garden.md").read_text(encoding="utf-8")
    assert exported == (DATA / "expected.md").read_text(encoding="utf-8")
    outside_code = exported.split("```text")[0] + exported.split("```\n", 1)[1]
    for leftover in ("<!-- section:", "==", "^[check", "[[", "]]", "%%", "made_by", "text_hash"):
        assert leftover not in outside_code, leftover
    assert _drafts(garden) == before  # the versions are read, never written


def test_a_flag_left_in_the_draft_stops_the_export_and_names_it(garden: Path) -> None:
    ran = essay("export", "drafts/garden/v002.md", cwd=garden)
    assert ran.returncode == 1
    assert ran.stderr == FLAG_LINE
    assert not (garden / "exports").exists()


def test_the_draft_without_flags_exports_without_being_asked(garden: Path) -> None:
    draft = garden / "drafts" / "garden" / "v002.md"
    draft.write_text(draft.read_text().replace("==priya raman==^[check: not in your notes]", "priya"))
    ran = essay("export", "prompts/garden.md", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert "tomás brought his kids, and priya ran the seed swap." in (garden / "exports" / "garden.md").read_text()


def test_html_export_matches_the_expected_file(garden: Path) -> None:
    ran = essay("export", "drafts/garden", "--to", "html", "--flags", "drop", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "exports/garden.html\n"
    page = (garden / "exports" / "garden.html").read_text(encoding="utf-8")
    assert page == (DATA / "expected.html").read_text(encoding="utf-8")
    for fetched in ("<script", "<link", "@import", "http://", "//fonts"):
        assert fetched not in page  # one file that opens offline; the only URL is the author's own link
    assert page.count("https://") == 1
    assert page.count('<img src="data:image/png;base64,') == 1  # the embedded picture travels inside the page


def test_sources_drop_removes_the_footnotes_that_link_notes_and_keeps_the_authors(garden: Path) -> None:
    ran = essay("export", "drafts/garden", "--flags", "drop", "--sources", "drop", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert "dropped 2 footnotes that linked your notes\n" in ran.stderr
    exported = (garden / "exports" / "garden.md").read_text(encoding="utf-8")
    assert "nothing happens.\n" in exported
    assert "seed swap.\n" in exported
    assert "2025-04-02" not in exported
    assert exported.endswith(
        "[^note-1]: they ate them straight off the vine.\n[^mine]: this one i wrote, with a link in it.\n"
    )


def test_relative_links_point_from_the_export_to_the_notes(garden: Path) -> None:
    out = garden / "site" / "content" / "garden.md"
    ran = essay("export", "drafts/garden", "--flags", "drop", "--links", "relative", "--out", str(out), cwd=garden)
    assert ran.returncode == 0, ran.stderr
    text = out.read_text(encoding="utf-8")
    assert "[ladder of abstraction](../../notes/content/ladder%20of%20abstraction.md) in soil" in text
    assert "see [projects/beds > spring plan](../../notes/projects/beds.md#spring-plan) too." in text
    assert "![peas](../../notes/attachments/peas.png)" in text  # a bare name, found where Obsidian finds it
    assert "[^then-the-people-1]: [2025-06-19](../../notes/2025-06-19.md)\n" in text
    assert "[[not a link]]" in text  # code stays as written


def test_a_rerun_replaces_its_own_export_but_not_one_the_writer_edited(garden: Path) -> None:
    assert essay("export", "drafts/garden", "--flags", "drop", cwd=garden).returncode == 0
    again = essay("export", "drafts/garden", "--flags", "drop", cwd=garden)
    assert again.returncode == 0, again.stderr
    exported = garden / "exports" / "garden.md"
    assert [p.name for p in exported.parent.iterdir()] == ["garden.md"]  # no temp file left beside it
    exported.write_text(exported.read_text() + "\na line i added for the blog\n")
    refused = essay("export", "drafts/garden", "--flags", "drop", cwd=garden)
    assert refused.returncode == 2
    assert refused.stderr == (
        "error: exports/garden.md has changed since essay exported it: nothing was replaced; pass --force to "
        "replace it, or choose another --out\n"
    )
    assert exported.read_text().endswith("a line i added for the blog\n")
    forced = essay("export", "drafts/garden", "--flags", "drop", "--force", cwd=garden)
    assert forced.returncode == 0
    assert exported.read_text() == (DATA / "expected.md").read_text()


def test_a_file_essay_did_not_write_is_never_replaced(garden: Path) -> None:
    mine = write(garden / "blog" / "garden.md", "my own post\n")
    ran = essay("export", "drafts/garden", "--flags", "drop", "--out", "blog", cwd=garden)
    assert ran.returncode == 2
    assert ran.stderr == (
        "error: blog/garden.md was not written by essay export: nothing was replaced; pass --force to replace it, "
        "or choose another --out\n"
    )
    assert mine.read_text() == "my own post\n"


def test_a_draft_version_is_never_a_target(garden: Path) -> None:
    before = _drafts(garden)
    ran = essay("export", "drafts/garden", "--flags", "drop", "--out", "drafts/garden/v001.md", "--force", cwd=garden)
    assert ran.returncode == 2
    assert ran.stderr == (
        "error: drafts/garden/v001.md is one of your drafts or plans, which essay never replaces: choose another "
        "--out\n"
    )
    assert _drafts(garden) == before


def test_the_format_follows_the_out_file_and_must_agree_with_to(garden: Path) -> None:
    ran = essay("export", "drafts/garden", "--flags", "drop", "--out", "page.html", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert (garden / "page.html").read_text().startswith("<!doctype html>")
    clash = essay("export", "drafts/garden", "--to", "md", "--out", "page.html", cwd=garden)
    assert clash.returncode == 2
    assert clash.stderr == "error: --out page.html ends in .html but --to is md: drop one, or make them agree\n"


def test_docx_without_pandoc_says_how_to_get_it(garden: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "pandoc_path", lambda: None)
    ran = essay("export", "drafts/garden", "--to", "docx", "--flags", "drop", cwd=garden)
    assert ran.returncode == 2
    assert ran.stderr == (
        "error: a Word file needs pandoc, which is not installed: `apt-get install pandoc` (or `brew install "
        "pandoc`, or pandoc.org/installing), or `pip install 'essay[docx]'`; then run this again\n"
    )
    assert not (garden / "exports" / "garden.docx").exists()


def test_a_section_left_for_the_author_to_write_is_pointed_out(garden: Path) -> None:
    draft = garden / "drafts" / "garden" / "v002.md"
    text = draft.read_text()
    start = text.index("tomás brought")
    draft.write_text(text[:start] + EMPTY_SECTION_NOTE + "\n")
    ran = essay("export", "drafts/garden", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    assert "warning: 1 section still holds essay's 'write it yourself' note: write it first\n" in ran.stderr
