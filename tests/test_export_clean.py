"""The cleaner on the shapes a writer's edits take: code kept byte for byte, Obsidian's table aliases, links to a
heading of the same note, multi-line footnotes, inline notes holding links, private %%comments%%, many flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.errors import DraftError
from pipeline.export.clean import CleanOptions, clean_draft
from pipeline.export.links import RelativeLinks, convert_links
from pipeline.export.render import render_html
from pipeline.files.draftfile import parse
from tests.conftest import write

HEADER = (
    "---\ntitle: on compost\ncreated: '2026-02-01T08:00:00+00:00'\nsections:\n- slug: in\n  title: what goes in\n---\n"
)


def _clean(body: str, **options: object) -> str:
    return clean_draft(parse(HEADER + body, "v001.md"), "drafts/compost/v001.md", CleanOptions(**options)).body  # type: ignore[arg-type]


def test_code_is_kept_byte_for_byte() -> None:
    body = (
        "<!-- section: in -->\n## what goes in\n\nuse `[[raw]]` and `==x==^[check: not in your notes]` here.\n\n"
        "    ```md\n    [^a]: [[not a footnote]]\n    %%kept%%\n\n\n\n    end\n    ```\n"
    )
    assert _clean(body) == (
        "## what goes in\n\nuse `[[raw]]` and `==x==^[check: not in your notes]` here.\n\n"
        "    ```md\n    [^a]: [[not a footnote]]\n    %%kept%%\n\n\n\n    end\n    ```\n"
    )


def test_table_aliases_same_note_headings_and_block_links_become_labels() -> None:
    table = "| bin | note |\n| --- | --- |\n| green | [[notes/greens\\|greens]] |\n"
    body = table + "\nsee [[#what goes in]] and [[pile#^b1]].\n"
    assert _clean(body) == "| bin | note |\n| --- | --- |\n| green | greens |\n\nsee what goes in and pile.\n"


def test_a_heading_of_the_same_note_is_an_anchor_when_links_are_relative(tmp_path: Path) -> None:
    write(tmp_path / "notes" / "2025.06.19.md", "a daily note named with dots\n")
    href = RelativeLinks(tmp_path / "notes", tmp_path / "out")
    text = convert_links("[[#What Goes In?]] and [[2025.06.19|that day]], [[gone]]", href)
    assert text == "[What Goes In?](#what-goes-in) and [that day](../notes/2025.06.19.md), [gone](../notes/gone.md)"
    assert href.missing == ["gone"]


def test_multi_line_footnotes_and_inline_notes_with_links_move_to_the_end() -> None:
    body = (
        "<!-- section: in -->\n## what goes in\n\ngreens.[^long] browns.^[see [the guide](https://example.org/a) "
        "and [[pile]]]\n\n[^long]: first line\n    second line, indented\n\n    a second paragraph of it\n\n"
        "the end.\n"
    )
    assert _clean(body) == (
        "## what goes in\n\ngreens.[^long] browns.[^note-1]\n\nthe end.\n\n"
        "[^long]: first line\n    second line, indented\n\n    a second paragraph of it\n"
        "[^note-1]: see [the guide](https://example.org/a) and pile\n"
    )


def test_comments_are_private_and_never_exported() -> None:
    body = "<!-- section: in -->\n## what goes in\n\ncoffee grounds.%%ask dana about the pay band%% eggshells.\n"
    body += "\n%%\nall\nof this\n%%\n\n<!-- todo: is the heron launch public yet? -->\nnot yet.<!-- ok -->\n"
    body += "<!-- a --> kept\n<!-- b -->\n"
    assert _clean(body) == "## what goes in\n\ncoffee grounds. eggshells.\n\nnot yet.\n kept\n"


def test_a_flag_whose_highlight_the_author_removed_still_stops_the_export() -> None:
    body = "<!-- section: in -->\n## what goes in\n\nit took 40 minutes^[check: not in your notes] to turn.\n"
    with pytest.raises(DraftError, match=r"still has 1 flagged claim: \"it took 40 minutes\" in 'what goes in'"):
        _clean(body)
    assert _clean(body, flags="drop") == "## what goes in\n\nit took 40 minutes to turn.\n"


def test_many_flags_are_named_up_to_ten_and_counted_beyond() -> None:
    claims = " ".join(f"=={n} bags==^[check: not in your notes]" for n in range(12))
    with pytest.raises(DraftError) as raised:
        _clean(f"<!-- section: in -->\n## what goes in\n\n{claims}\n")
    message = str(raised.value)
    assert '"9 bags"' in message and '"10 bags"' not in message
    assert "and 2 more (`essay check drafts/compost/v001.md` lists them all)" in message


def test_a_title_the_author_wrote_is_the_pages_only_heading() -> None:
    page = render_html(
        clean_draft(parse(HEADER + "\n# compost, at last\n\nit works.\n", "v001.md"), "v", CleanOptions())
    )
    assert page.count("<h1>") == 1 and "<h1>compost, at last</h1>" in page
    assert "<title>on compost</title>" in page and '<time datetime="2026-02-01">' in page


def test_callouts_and_highlights_render_for_html_and_stay_for_quartz() -> None:
    body = "> [!warning] mind the rats\n> keep the lid on.\n\n> [!tip]\n> ==browns== and greens, `==code==`.\n"
    assert _clean(body) == body
    assert _clean(body, rendered=True) == (
        "> **mind the rats**\n> keep the lid on.\n\n> **Tip**\n> <mark>browns</mark> and greens, `==code==`.\n"
    )
