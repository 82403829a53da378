from pathlib import Path

from pipeline.core.text import lowercase_prose
from pipeline.write.sources import (
    add_footnotes,
    attribute,
    paragraph_spans,
    short_ids,
    sourced_share,
    split_citations,
    unresolved_links,
)

FRAGMENTS = [
    ("a1b2c3d4e5", "daily/2026-01-12.md", "priya walked me through the deploy queue, she has owned it for three years"),
    ("f6e5d4c3b2", "projects/heron.md", "## rollout\nheron goes to payments first, then everyone else"),
    ("0123456789", "projects/heron.md", "open question: who approves a rollback of a shared library?"),
    ("9876543210", "ideas/on-call.md", "on-call taught me to write things down before i forget them"),
]


def make_vault(root: Path) -> Path:
    notes = root / "notes"
    for _, path, text in FRAGMENTS:
        (notes / path).parent.mkdir(parents=True, exist_ok=True)
        with (notes / path).open("a", encoding="utf-8") as f:
            f.write(text + "\n\n")
    return notes


def test_citations_are_removed_and_invented_ids_dropped():
    aliases = short_ids([fid for fid, _, _ in FRAGMENTS])
    raw = "Priya showed me the queue. [f1]\n\nHeron ships to payments first [f2, f17].\n\nNo source here [sic]."
    prose, cited = split_citations(raw, list(aliases))
    assert prose == "Priya showed me the queue.\n\nHeron ships to payments first.\n\nNo source here [sic]."
    assert cited == [["f1"], ["f2"], []]


def test_a_citation_on_its_own_line_belongs_to_the_paragraph_above():
    prose, cited = split_citations("One paragraph.\n\n[f2]\n\nTwo paragraph. [F1]", ["f1", "f2"])
    assert prose == "One paragraph.\n\nTwo paragraph."
    assert cited == [["f2"], ["f1"]]


def test_every_prose_paragraph_gets_a_source_and_links_resolve(tmp_path):
    notes = make_vault(tmp_path)
    aliases = short_ids([fid for fid, _, _ in FRAGMENTS])
    raw = (
        "### The queue\n\n"
        "Priya walked me through the deploy queue in my first week. [f1]\n\n"
        "Heron went to payments first, and only then to everyone else.\n\n"
        "- who approves a rollback of a shared library?\n- nobody knew [f99]\n\n"
        "Something with no words in common at all."
    )
    prose, cited = split_citations(raw, list(aliases))
    sources = attribute(prose, FRAGMENTS, [[aliases[i] for i in ids] for ids in cited])
    drafted = add_footnotes("platform-year", prose, sources, FRAGMENTS, notes)

    assert sourced_share(drafted) == 1.0
    assert unresolved_links(drafted, notes) == []
    assert "first week.[^platform-year-1]" in drafted
    assert "[^platform-year-1]: [[daily/2026-01-12]]" in drafted
    assert "[^platform-year-2]: [[projects/heron#rollout]]" in drafted
    assert "- nobody knew[^platform-year-3]" in drafted  # a list gets its footnote after its last item
    assert "### The queue\n" in drafted  # headings get none
    assert drafted.count("[^platform-year-4]") == 2  # the unmatched paragraph points at all the section's notes
    # the note's first fragment sits under "## rollout", so the link goes there
    last = "[^platform-year-4]: [[daily/2026-01-12]], [[projects/heron#rollout]], [[ideas/on-call]]\n"
    assert lowercase_prose(drafted).endswith(last)


def test_pluggable_similarity_decides_for_uncited_paragraphs():
    prose = "A paragraph."
    sources = attribute(prose, FRAGMENTS, [[]], similarity=lambda p, texts: [0.1, 0.2, 0.9, 0.3])
    assert sources == [["0123456789"]]


def test_labels_are_unique_across_sections_and_rerunning_is_byte_stable():
    one = add_footnotes("growth", "Priya again.", [["a1b2c3d4e5"]], FRAGMENTS)
    two = add_footnotes("system", "Priya again.", [["a1b2c3d4e5"]], FRAGMENTS)
    assert "[^growth-1]" in one and "[^system-1]" in two
    assert add_footnotes("growth", one, [["a1b2c3d4e5"]], FRAGMENTS) == one


def test_broken_links_are_reported(tmp_path):
    notes = make_vault(tmp_path)
    draft = (
        "Text.[^s-1]\n\n[^s-1]: [[daily/2026-01-12]], [[gone/note]], [[projects/heron#no such heading]], [[on-call]]\n"
    )
    assert unresolved_links(draft, notes) == ["[[gone/note]]", "[[projects/heron#no such heading]]"]
    assert sourced_share("One.[^s-1]\n\nTwo.\n\n[^s-1]: [[x]]") == 0.5


def test_paragraph_spans_keep_code_blocks_whole():
    prose = "A.\n\n```\nx\n\ny\n```\n\nB."
    assert [prose[s:e] for s, e in paragraph_spans(prose)] == ["A.", "```\nx\n\ny\n```", "B."]
