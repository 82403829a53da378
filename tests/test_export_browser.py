"""The HTML export opened in a real headless browser (Debian's chromium): it renders, as one file, with the
footnotes at the end of the page. The screenshot stays in the test's tmp folder; its path is printed (`-rP`)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import essay
from tests.test_export import garden  # noqa: F401  (the fixture)

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium here: `apt-get install chromium` (.ci/run does)")
BROWSER_SECONDS = 120


class _Outline(HTMLParser):
    """The rendered page's elements in order, as (depth, tag, attributes), to tell what comes last."""

    _VOID = frozenset({"br", "hr", "img", "meta", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[int, str, dict[str, str]]] = []
        self.text: list[str] = []  # what the reader sees, code blocks and styles left out
        self._depth = 0
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((self._depth, tag, {k: v or "" for k, v in attrs}))
        if tag not in self._VOID:
            self._depth += 1
        self._in_code += tag in ("pre", "style")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._VOID:
            self._depth -= 1
        self._in_code -= tag in ("pre", "style")

    def handle_data(self, data: str) -> None:
        if not self._in_code:
            self.text.append(data)


def _browser(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(BROWSER),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_SECONDS, check=True)


def test_the_html_export_renders_in_a_browser_with_the_footnotes_at_the_end(garden: Path, tmp_path: Path) -> None:  # noqa: F811
    ran = essay("export", "drafts/garden", "--to", "html", "--flags", "drop", cwd=garden)
    assert ran.returncode == 0, ran.stderr
    page = garden / ran.stdout.strip()
    assert sorted(p.name for p in page.parent.iterdir()) == ["garden.html"]  # one file, nothing beside it

    shot = tmp_path / "garden.png"
    _browser(f"--screenshot={shot}", "--window-size=1000,2000", page.as_uri(), profile=tmp_path / "profile")
    print(f"screenshot of the HTML export: {shot}")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1000, 2000)
    assert len(png) > 20_000  # a blank page compresses to a few kilobytes; text does not

    dom = _browser("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    outline = _Outline()
    outline.feed(dom)
    article_depth = next(d for d, tag, _ in outline.elements if tag == "article")
    children = [(tag, attrs) for d, tag, attrs in outline.elements if d == article_depth + 1]
    assert children[0][0] == "header"
    assert children[-1] == ("section", {"class": "footnotes"})  # the footnotes close the essay
    items = [
        attrs["id"] for _, tag, attrs in outline.elements if tag == "li" and "footnote-item" in attrs.get("class", "")
    ]
    refs = [
        attrs["href"] for _, tag, attrs in outline.elements if tag == "a" and attrs.get("id", "").startswith("fnref")
    ]
    assert items == ["fn1", "fn2", "fn3", "fn4"]
    assert refs == ["#fn1", "#fn2", "#fn3", "#fn4"]  # every mark in the text reaches its footnote
    shown = "".join(outline.text)
    assert "priya raman ran the seed swap." in shown
    for leftover in ("[[", "]]", "==", "^[", "<!--", "%%"):
        assert leftover not in shown, leftover
