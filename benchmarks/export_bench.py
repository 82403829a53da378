"""`python -m benchmarks.export_bench`: `essay export` over many drafts made the way essay makes them, then edited.

Each draft is built with the pipeline's own writers (`render_body`, `add_footnotes`, `flag`) from a fixed seed:
3 to 6 sections of prose that holds wikilinks with and without labels, links to headings, inline code, a fenced
block that quotes the draft's own syntax, flags, an inline note of the author's and one footnote of their own.
Every draft is exported to md and html (`--flags drop`), and the export is checked as a reader would:

- no section marker, flag, `[[`/`]]`, `%%comment%%` or essay frontmatter key left outside code;
- every word of the author's prose is still there, and every code block byte for byte;
- every footnote mark has its definition, all definitions sit at the end, and the HTML numbers them all;

and timed. The largest draft also goes through pandoc, where it is installed. Runs in a few seconds.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from pipeline.export.clean import CleanOptions, clean_draft
from pipeline.export.export import ExportOptions, export_draft
from pipeline.files.draftfile import compose, parse, render_body
from pipeline.files.drafts import DraftFile
from pipeline.files.meta import DraftMeta, SectionMeta
from pipeline.write.grounding import Claim, flag
from pipeline.write.sources import add_footnotes

DRAFTS = 200
_SENTENCE = (
    "the deploy queue kept stalling so i wrote a script that drained it every hour and nobody noticed until the "
    "release train stopped for a week which taught me more about ownership than any review did"
)
_WORDS = _SENTENCE.split(" ")
_CODE_BLOCK = "```md\n<!-- section: not-a-marker -->\n[[kept]] ==kept==^[check: kept] %%kept%%\n```"


def _paragraph(rng: random.Random, index: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(25, 70))]
    extras = [
        f"[[projects/p{index}|the p{index} project]]",
        f"[[daily/2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}]]",
        f"[[notes/heron#rollout plan {index}]]",
        f"`code_{index}()`",
    ]
    for extra in rng.sample(extras, rng.randint(0, len(extras))):
        words.insert(rng.randrange(len(words)), extra)
    return " ".join(words) + "."


def make_draft(rng: random.Random, number: int) -> str:
    sections = []
    for s in range(rng.randint(3, 6)):
        slug = f"part-{s + 1}"
        paragraphs = [_paragraph(rng, number * 100 + s * 10 + p) for p in range(rng.randint(2, 8))]
        prose = "\n\n".join(paragraphs)
        claims = [Claim("name", m.group(), m.start(), m.end()) for m in re.finditer(r"\bnobody\b", prose)][:2]
        prose = flag(prose, claims)
        fragments = [(f"f{i}", f"daily/2025-01-{10 + i}.md", p) for i, p in enumerate(paragraphs)]
        per_paragraph = [[f"f{i}"] for i in range(len(paragraphs))]
        text = add_footnotes(slug, prose, per_paragraph, fragments)
        sections.append((slug, f"Part {s + 1}", text))
    body = render_body(sections)
    # The author's edits: an inline note, a footnote of their own, a private comment, a code block.
    body = body.replace("taught me", "taught me^[a note of mine, see [[projects/p1]]]", 1)
    body += f"\nmy own ending.[^mine] %%not for publishing%%\n\n{_CODE_BLOCK}\n\n[^mine]: written by me.\n"
    meta = DraftMeta(
        title=f"draft {number}",
        created="2026-03-14T09:30:00+00:00",
        sections=tuple(SectionMeta(slug=slug, title=title) for slug, title, _ in sections),
    )
    return compose(meta, body)


def _problems(draft: str, exported: str, html: str) -> list[str]:
    problems = []
    outside_code = exported.replace(_CODE_BLOCK, "")
    for leftover in ("<!-- section:", "==", "^[", "[[", "]]", "%%", "made_by:", "sections:"):
        if leftover in outside_code:
            problems.append(f"left {leftover!r}")
    if _CODE_BLOCK not in exported:
        problems.append("code block changed")
    prose = re.sub(r"^\[\^[^\]]+\]:.*$|<!--.*?-->|\^\[check:[^\]]*\]|%%.*?%%", " ", parse(draft, "x").body, flags=re.M)
    prose = re.sub(
        r"\[\[[^\]|]*\|([^\]]*)\]\]", r"\1", prose.replace(_CODE_BLOCK, "")
    )  # an alias shows, its target not
    words = set(re.findall(r"[a-z]{3,}", prose))
    missing = words - set(re.findall(r"[a-z]{3,}", exported))
    if missing:
        problems.append(f"lost words {sorted(missing)[:5]}")
    refs = set(re.findall(r"\[\^([^\]\s]+)\](?!:)", outside_code))
    defined = re.findall(r"^\[\^([^\]\s]+)\]:", outside_code, re.M)
    if refs != set(defined):
        problems.append(f"marks without definitions {sorted(refs ^ set(defined))[:3]}")
    lines = outside_code.rstrip("\n").splitlines()
    if defined and not all(line.startswith("[^") for line in lines[-len(defined) :]):
        problems.append("definitions not at the end")
    if html.count('class="footnote-item"') != len(defined):
        problems.append("html numbers a different count of footnotes")
    return problems


def main() -> None:
    rng = random.Random(29)
    drafts = [make_draft(rng, n) for n in range(DRAFTS)]
    failures: list[str] = []
    timings = {"md": 0.0, "html": 0.0}
    words = 0
    with TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "notes").mkdir()
        for number, text in enumerate(drafts):
            path = root / "drafts" / f"d{number}" / "v001.md"
            path.parent.mkdir(parents=True)
            path.write_text(text, encoding="utf-8")
            words += len(parse(text, "x").body.split())
            outputs = {}
            for fmt in ("md", "html"):
                out = root / "exports" / f"d{number}.{fmt}"
                started = time.perf_counter()
                export_draft(
                    DraftFile(path, 1),
                    out,
                    fmt,  # type: ignore[arg-type]
                    ExportOptions(flags="drop"),
                    notes_dir=root / "notes",
                    drafts_dir=root / "drafts",
                    record=root / ".essay" / "exports.json",
                )
                timings[fmt] += time.perf_counter() - started
                outputs[fmt] = out.read_text(encoding="utf-8")
            failures += [f"draft {number}: {p}" for p in _problems(text, outputs["md"], outputs["html"])]
        largest = max(range(DRAFTS), key=lambda n: len(drafts[n]))
        docx = "pandoc not installed"
        if shutil.which("pandoc"):
            started = time.perf_counter()
            export_draft(
                DraftFile(root / "drafts" / f"d{largest}" / "v001.md", 1),
                root / "exports" / "largest.docx",
                "docx",
                ExportOptions(flags="drop"),
                notes_dir=root / "notes",
                drafts_dir=root / "drafts",
                record=root / ".essay" / "exports.json",
            )
            docx = f"{time.perf_counter() - started:.2f} s"
    html_only = _html_render_share(drafts[largest])
    print(f"{DRAFTS} drafts, {words:,} words in all, largest {len(drafts[largest].split()):,} words")
    print(f"drafts with a problem: {len({f.split(':')[0] for f in failures})} of {DRAFTS}")
    for failure in failures[:10]:
        print("  ", failure)
    print(f"md: {1000 * timings['md'] / DRAFTS:.1f} ms a draft; html: {1000 * timings['html'] / DRAFTS:.1f} ms a draft")
    print(f"html rendering alone, largest draft: {html_only:.1f} ms; docx of the largest draft (pandoc): {docx}")


def _html_render_share(text: str) -> float:
    clean = clean_draft(parse(text, "x"), "x", CleanOptions(flags="drop"))
    parser = MarkdownIt("commonmark").use(footnote_plugin)
    started = time.perf_counter()
    parser.render(clean.body)
    return 1000 * (time.perf_counter() - started)


if __name__ == "__main__":
    main()
