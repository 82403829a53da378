"""Rendering a clean draft: one self-contained HTML file (markdown-it-py and its footnote plugin, the styles
inline, no fonts, scripts or anything else fetched), or a Word file by pandoc when it is installed."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from pipeline.core.errors import UsageError
from pipeline.export.clean import CleanDraft

NO_PANDOC = (
    "a Word file needs pandoc, which is not installed: `apt-get install pandoc` (or `brew install pandoc`, or "
    "pandoc.org/installing), or `pip install 'essay[docx]'`; then run this again"
)
PANDOC_SECONDS = 120
_OWN_TITLE = re.compile(r"\s*# ")

# System fonts only: a published essay opens offline and tells no font server who read it.
_STYLE = """
  :root { color-scheme: light dark; }
  body { margin: 0; padding: 3rem 1.25rem 5rem; font: 1.125rem/1.65 Georgia, "Iowan Old Style", "Times New Roman",
    serif; color: #1f2328; background: #fdfdfc; }
  article { max-width: 38rem; margin: 0 auto; }
  h1, h2, h3, h4 { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.25; }
  h1 { font-size: 2rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.35rem; margin-top: 2.5rem; }
  .date { color: #656d76; margin: 0 0 2.5rem; font-family: system-ui, sans-serif; font-size: .95rem; }
  a { color: #0b57a4; }
  img { max-width: 100%; height: auto; }
  blockquote { margin: 1.5rem 0; padding-left: 1rem; border-left: 3px solid #d0d7de; color: #4d5561; }
  code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
  pre { overflow-x: auto; padding: .75rem 1rem; background: #f3f4f6; border-radius: 4px; }
  table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; }
  mark { background: #fff3a3; }
  .footnotes-sep { margin-top: 3rem; border: 0; border-top: 1px solid #d0d7de; }
  .footnotes { font-size: .9rem; color: #4d5561; }
  .footnote-ref a { text-decoration: none; }
  @media (prefers-color-scheme: dark) {
    body { color: #e6e6e6; background: #16181c; } a { color: #7db3ff; } pre { background: #23262d; }
    .date, .footnotes, blockquote { color: #a8b0ba; } mark { background: #665c1e; color: inherit; }
  }
"""


def render_html(draft: CleanDraft) -> str:
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(footnote_plugin).use(tasklists_plugin)
    title = html.escape(draft.title or "untitled")
    when = html.escape(draft.date)
    date = f'<p class="date"><time datetime="{when}">{when}</time></p>\n' if draft.date else ""
    heading = "" if _OWN_TITLE.match(draft.body) else f"<h1>{title}</h1>\n"  # the author gave it one of their own
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<article>\n"
        f"<header>\n{heading}{date}</header>\n"
        f"{parser.render(draft.body)}</article>\n</body>\n</html>\n"
    )


def pandoc_path() -> str | None:
    """pandoc on the PATH, or the binary the `docx` extra (pypandoc-binary) ships."""
    found = shutil.which("pandoc")
    if found:
        return found
    try:
        import pypandoc  # type: ignore[import-not-found]

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        return None


def render_docx(draft: CleanDraft, into: Path) -> None:
    """Write the Word file to `into` (a temp file the caller moves into place)."""
    pandoc = pandoc_path()
    if pandoc is None:
        raise UsageError(NO_PANDOC)
    try:
        done = subprocess.run(
            [pandoc, "--from", "commonmark_x", "--to", "docx", "--output", str(into)],
            input=draft.markdown(),
            capture_output=True,
            text=True,
            timeout=PANDOC_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"pandoc could not run ({exc}): check `{pandoc} --version`, then run this again") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(f"pandoc could not make the Word file: {reason}")
