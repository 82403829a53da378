from pathlib import Path

from pipeline.collect.notes import MAX_NOTE_CHARS, collect_notes
from tests.conftest import write


def test_collect_skips_dot_folders_templates_and_non_markdown(workspace: Path) -> None:
    notes = collect_notes(workspace / "notes")
    paths = {f.note_path for f in notes.fragments}
    assert paths == {"2025-04-02.md", "2025-06-19.md", "people.md", "links.md", "groceries.md"}
    assert notes.note_count == 5
    assert notes.warnings == ()


def test_fragments_are_single_thoughts_with_their_heading_as_context(workspace: Path) -> None:
    notes = collect_notes(workspace / "notes")
    daily = [f.text for f in notes.fragments if f.note_path == "2025-04-02.md"]
    assert daily == [
        "turned the beds with ines. the clay is worse than we thought #garden",
        "- bought 12 bags of compost",
        "- the tomatoes went in too early",
    ]
    people = [(f.text, f.context) for f in notes.fragments if f.note_path == "people.md"]
    assert people == [
        ("marguerite has watered every tuesday since march. see [[people/marguerite|marguerite]]", "# who comes")
    ]


def test_embed_stays_with_its_paragraph_and_links_are_intact(workspace: Path) -> None:
    notes = collect_notes(workspace / "notes")
    harvest = [f.text for f in notes.fragments if f.note_path == "2025-06-19.md"]
    assert harvest == [
        "first harvest. tomás brought his kids and they ate the peas straight off the vine\n![[peas.png]]"
    ]
    links = [f.text for f in notes.fragments if f.note_path == "links.md"]
    assert links[0] == "read [the soil guide [2nd ed]](https://example.org/Soil_Guide) before autumn"
    assert links[1] == "```\nWATER = 2 * Days\n```"


def test_fragment_ids_are_stable_and_change_only_with_their_text(workspace: Path) -> None:
    first = collect_notes(workspace / "notes")
    again = collect_notes(workspace / "notes")
    assert [f.id for f in first.fragments] == [f.id for f in again.fragments]
    note = workspace / "notes" / "2025-04-02.md"
    note.write_text(note.read_text().replace("12 bags", "14 bags"))
    changed = collect_notes(workspace / "notes")
    before = {f.id for f in first.fragments}
    after = {f.id for f in changed.fragments}
    assert len(before - after) == 1 and len(after - before) == 1


def test_title_date_and_tags(workspace: Path) -> None:
    notes = collect_notes(workspace / "notes")
    by_path = {f.note_path: f for f in notes.fragments}
    assert by_path["2025-04-02.md"].date == "2025-04-02"
    assert by_path["2025-04-02.md"].tags == ("garden",)
    assert by_path["2025-06-19.md"].date == "2025-06-19"  # from the daily note's file name
    assert by_path["2025-06-19.md"].title == "2025-06-19"
    assert by_path["people.md"].tags == ("garden", "people")
    assert by_path["groceries.md"].date is None


def test_unquoted_frontmatter_date_is_text(tmp_path: Path) -> None:
    write(tmp_path / "idea.md", "---\ntitle: idea\ncreated: 2025-05-06\n---\n\nsome text\n")
    [fragment] = collect_notes(tmp_path).fragments
    assert fragment.date == "2025-05-06"


def test_bad_files_warn_and_the_rest_is_collected(tmp_path: Path) -> None:
    write(tmp_path / "broken-yaml.md", "---\ntitle: [unclosed\n---\n\nthe body survives\n")
    write(tmp_path / "latin1.md", "caf\xe9 notes".encode("latin-1"))
    write(tmp_path / "binary.md", b"\x00\x01\x02garbage")
    write(tmp_path / "empty.md", "")
    write(tmp_path / "huge.md", ("a pasted log line that goes on and on\n\n" * 12_000))
    write(tmp_path / "fine.md", "a normal note\n")
    notes = collect_notes(tmp_path)
    by_file = {w.split(":")[0]: w for w in notes.warnings}
    assert set(by_file) == {"broken-yaml.md", "latin1.md", "binary.md", "empty.md", "huge.md"}
    assert "not valid YAML" in by_file["broken-yaml.md"]
    assert "UTF-8" in by_file["latin1.md"]
    assert "binary" in by_file["binary.md"] and "skipped" in by_file["binary.md"]
    assert "empty" in by_file["empty.md"]
    assert "too long" in by_file["huge.md"]
    texts = {f.note_path: f.text for f in notes.fragments}
    assert texts["broken-yaml.md"] == "the body survives"
    assert texts["latin1.md"] == "caf\ufffd notes"
    assert "binary.md" not in texts and "empty.md" not in texts
    huge = sum(len(f.text) for f in notes.fragments if f.note_path == "huge.md")
    assert 0 < huge <= MAX_NOTE_CHARS


def test_bom_does_not_hide_frontmatter(tmp_path: Path) -> None:
    write(tmp_path / "bom.md", "\ufeff---\ntitle: with bom\n---\n\nbody\n")
    [fragment] = collect_notes(tmp_path).fragments
    assert fragment.title == "with bom" and fragment.text == "body"


def test_ignore_globs_private_notes_and_voice_samples(tmp_path: Path) -> None:
    write(tmp_path / "archive" / "old.md", "old stuff\n")
    write(tmp_path / "journal" / "salary.md", "the raise conversation\n")
    write(tmp_path / "secret.md", "---\nprivate: true\n---\n\ncodename falcon\n")
    write(tmp_path / "essay.md", "---\nvoice: true\n---\n\ni write like this, mostly lowercase.\n")
    notes = collect_notes(tmp_path, ignore=("archive/*",), private_globs=("journal/*",))
    private = {f.note_path: f.private for f in notes.fragments}
    assert private == {"journal/salary.md": True, "secret.md": True, "essay.md": False}
    assert [v.text for v in notes.voice_samples] == ["i write like this, mostly lowercase."]


def test_the_tags_of_a_line_of_tags_stay_with_the_notes_fragments(tmp_path: Path) -> None:
    (tmp_path / "2026-08-11.md").write_text("- sat in the shop for an hour\n- visited dad\n\n#dad #shop\n")
    fragments = collect_notes(tmp_path).fragments
    assert [f.text for f in fragments] == ["- sat in the shop for an hour", "- visited dad"]
    assert all(set(f.tags) == {"dad", "shop"} for f in fragments)
