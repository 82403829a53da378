"""Sources per paragraph: the notes each paragraph drew on, as Obsidian footnotes that link back to them.

The writing call asks the model to end each paragraph with the ids of the fragments it used, in square brackets:
`... took 25 minutes. [f3]` or `[f3, f7]` (the instruction is in templates/expand.system.md). `split_citations`
takes those marks out of the prose, keeping only ids that were offered; a paragraph left without one is matched
to its fragments by similarity.
`add_footnotes` then writes one footnote per paragraph, `[^growth-2]`, defined at the end of the section as
`[^growth-2]: [[daily/2026-01-12]], [[projects/heron#rollout]]`. Labels carry the section's slug, so they are unique
in the whole draft and every section holds its own definitions: regenerating one section leaves the others as
they are, byte for byte.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

SourceFragment = tuple[str, str, str]  # (fragment id, note path relative to the notes folder, text)
Similarity = Callable[[str, Sequence[str]], Sequence[float]]

_ID_SHAPE = re.compile(r"f\d+|[0-9a-f]{8,}(?:-\d+)?", re.I)  # our short ids, and notes.py's digests
_CITATION = re.compile(r"[ \t]*(?<![\[!^\]])\[\s*([\w-]+(?:\s*[,;]\s*[\w-]+)*)\s*\](?![(\[:])")
_CODE = re.compile(r"^(```|~~~).*?(?:^\1[^\n]*$|\Z)|(`+)[^`].*?\2", re.S | re.M)
_FENCE_LINE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_COMMENT_LINE = re.compile(r"^\s*<!--.*-->\s*$")
FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\](?!:)")
_FOOTNOTE_DEF = re.compile(r"^\[\^([^\]\s]+)\]:(.*)$", re.M)
_WIKILINK = re.compile(r"\[\[([^\]|#]*)(?:#([^\]|]*))?(?:\|[^\]]*)?\]\]")
_STOPWORD_TEXT = (
    "the and for that this with was were are but not you your have has had from they them their there what when "
    "which who would could should about into out just like more most some than then too very also its it's i'm "
    "my me our we us all any one two can did does don't i've been being will how why where here"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def short_ids(fragment_ids: Sequence[str]) -> dict[str, str]:
    """Ids a small model can copy without mistakes, `f1`, `f2`, ..., mapped to the real fragment ids."""
    return {f"f{i}": fragment_id for i, fragment_id in enumerate(fragment_ids, 1)}


def paragraph_spans(prose: str) -> list[tuple[int, int]]:
    """(start, end) of each block of the prose: text between blank lines, a fenced code block kept whole."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    in_fence = False
    position = 0
    for line in prose.splitlines(keepends=True):
        if _FENCE_LINE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if start is not None:
                spans.append((start, position))
                start = None
        elif start is None:
            start = position
        position += len(line)
    if start is not None:
        spans.append((start, position))
    return [(s, s + len(prose[s:e].rstrip())) for s, e in spans]


def paragraph_kind(block: str) -> str:
    """ "prose" (paragraphs, lists, quotes) or what a footnote must not be added to: heading, code, table, ..."""
    # A draft's section marker sits on its own line above the heading: it is not text of the block.
    lines = [line for line in block.splitlines() if line.strip() and not _COMMENT_LINE.match(line)]
    first = "\n".join(lines).lstrip()
    if first.startswith(("```", "~~~")):
        return "code"
    if not lines or (first.startswith("<!--") and block.rstrip().endswith("-->")):
        return "comment"
    if _FOOTNOTE_DEF.match(first):
        return "footnote"
    if all(_HEADING.match(line) for line in lines):
        return "heading"
    if all(line.lstrip().startswith("|") for line in lines):
        return "table"
    if re.fullmatch(r"\s*(?:-{3,}|\*{3,}|_{3,})\s*", block) or first.startswith("---\n"):
        return "rule"
    return "prose"


def split_citations(raw: str, known_ids: Sequence[str]) -> tuple[str, list[list[str]]]:
    """The prose without citation marks, and per paragraph of it the cited ids that are in `known_ids`.

    Ids match case-insensitively and come back spelled as in `known_ids`; invented ones are dropped. A citation
    left alone on its own paragraph belongs to the paragraph before it.
    """
    known = {i.lower(): i for i in known_ids}
    pieces: list[str] = []
    cited: list[list[str]] = []
    pending: list[str] = []  # ids from a citation-only paragraph at the very top
    position = 0
    for start, end in paragraph_spans(raw):
        block, ids = _take_citations(raw[start:end], known)
        if not block.strip():  # drop the paragraph and the blank lines before it
            target = cited[-1] if cited else pending
            target.extend(i for i in ids if i not in target)
            position = end
            continue
        pieces += [raw[position:start], block]
        cited.append(list(dict.fromkeys(pending + ids)))
        pending = []
        position = end
    pieces.append(raw[position:])
    return "".join(pieces), cited


def _take_citations(block: str, known: dict[str, str]) -> tuple[str, list[str]]:
    masked = _CODE.sub(lambda m: " " * len(m.group()), block)
    ids: list[str] = []
    cuts: list[tuple[int, int]] = []
    for match in _CITATION.finditer(masked):
        tokens = [t for t in re.split(r"[\s,;]+", match.group(1)) if t]
        if not all(t.lower() in known or _ID_SHAPE.fullmatch(t) for t in tokens):
            continue  # "[sic]", "[x]": brackets that are prose, not citations
        cuts.append(match.span())
        ids += [known[t.lower()] for t in tokens if t.lower() in known and known[t.lower()] not in ids]
    for start, end in reversed(cuts):
        block = block[:start] + block[end:]
    return block, ids


def _content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())
    return {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words if len(w) > 2 and w not in _STOPWORDS}


def lexical_similarity(paragraph: str, texts: Sequence[str]) -> list[float]:
    """Word overlap weighted by rarity among the fragments (a weighted Jaccard): the fallback without embeddings."""
    bags = [_content_words(t) for t in texts]
    words = _content_words(paragraph)
    idf = {w: math.log(1 + len(bags) / (1 + sum(w in bag for bag in bags))) for w in words.union(*bags)}
    return [sum(idf[w] for w in words & bag) / (sum(idf[w] for w in words | bag) or 1.0) for bag in bags]


def attribute(
    prose: str,
    fragments: Sequence[SourceFragment],
    cited: Sequence[Sequence[str]],
    similarity: Similarity | None = None,
) -> list[list[str]]:
    """Sources per paragraph: the cited ids, or for a prose paragraph citing none, the most similar fragments,
    or when nothing is similar at all, one fragment from each of the section's notes."""
    texts = [text for _, _, text in fragments]
    result: list[list[str]] = []
    for index, (start, end) in enumerate(paragraph_spans(prose)):
        ids = list(cited[index]) if index < len(cited) else []
        block = prose[start:end]
        if not ids and fragments and paragraph_kind(block) == "prose":
            scores = list((similarity or lexical_similarity)(block, texts))
            best = max(scores, default=0.0)
            if best > 0:
                ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
                ids = [fragments[i][0] for i in ranked[:3] if scores[i] >= 0.9 * best]
            else:
                first_per_note = {path: fid for fid, path, _ in reversed(fragments)}
                ids = list(reversed(first_per_note.values()))
        result.append(ids)
    return result


def add_footnotes(
    section_slug: str,
    prose: str,
    sources_per_paragraph: Sequence[Sequence[str]],
    fragments: Sequence[SourceFragment],
    notes_dir: Path | None = None,
    own: Mapping[str, Path | None] | None = None,
) -> str:
    """The prose with a footnote after each sourced paragraph, defined at its end as links to the notes.

    Labels are `<section_slug>-<n>`; this section's old footnotes are replaced, so running it twice is safe.
    With `notes_dir`, a link points at the heading the fragment sits under (`[[projects/heron#rollout]]`).
    `own` names the paths that are the author's own draft (the prompt file, read from the path it maps to):
    their links say so, `[[prompts/x#skills]] (your draft)`.
    """
    own = own or {}
    by_id = {fid: (path, text) for fid, path, text in fragments}
    prose = _strip_footnotes(prose, section_slug)
    definitions: list[str] = []
    inserts: list[tuple[int, str]] = []
    for index, (start, end) in enumerate(paragraph_spans(prose)):
        ids = sources_per_paragraph[index] if index < len(sources_per_paragraph) else []
        links = list(dict.fromkeys(_link(*by_id[i], notes_dir, own) for i in ids if i in by_id))
        if not links or paragraph_kind(prose[start:end]) != "prose":
            continue
        label = f"{section_slug}-{len(definitions) + 1}"
        inserts.append((end, f"[^{label}]"))
        definitions.append(f"[^{label}]: " + ", ".join(links))
    for position, ref in reversed(inserts):
        prose = prose[:position] + ref + prose[position:]
    if not definitions:
        return prose
    return prose.rstrip("\n") + "\n\n" + "\n".join(definitions) + "\n"


def _strip_footnotes(prose: str, slug: str) -> str:
    own = re.escape(slug) + r"-\d+"
    prose = re.sub(rf"^\[\^{own}\]:[^\n]*\n?", "", prose, flags=re.M)
    return re.sub(rf"\[\^{own}\](?!:)", "", prose).rstrip("\n") + ("\n" if prose.endswith("\n") else "")


def _link(note_path: str, text: str, notes_dir: Path | None, own: Mapping[str, Path | None]) -> str:
    target = note_path[:-3] if note_path.endswith(".md") else note_path
    if note_path in own:
        heading = _heading_of(text, own[note_path])
        return (f"[[{target}#{heading}]]" if heading else f"[[{target}]]") + " (your draft)"
    heading = _heading_of(text, notes_dir / note_path if notes_dir is not None else None)
    return f"[[{target}#{heading}]]" if heading else f"[[{target}]]"


def _heading_of(text: str, file: Path | None) -> str | None:
    """The heading a fragment sits under: its own first line, or the last heading above it in its file."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    match = _HEADING.match(first)
    if match:
        return _anchor(match.group(1))
    if file is None:
        return None
    try:
        note = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    position = note.find(first) if first else -1
    headings = [m for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", note[: max(position, 0)], re.M)]
    return _anchor(headings[-1].group(1)) if position > 0 and headings else None


def _anchor(heading: str) -> str:
    # Obsidian cannot link to these characters inside a heading; it matches the heading without them.
    return re.sub(r"\s+", " ", re.sub(r"[#|^\[\]:]", " ", heading)).strip()


def sourced_share(markdown: str) -> float:
    """Share of prose paragraphs that carry a footnote with a definition (1.0 when there is no prose)."""
    defined = {m.group(1) for m in _FOOTNOTE_DEF.finditer(markdown)}
    prose = [markdown[s:e] for s, e in paragraph_spans(markdown) if paragraph_kind(markdown[s:e]) == "prose"]
    if not prose:
        return 1.0
    sourced = sum(any(label in defined for label in FOOTNOTE_REF.findall(block)) for block in prose)
    return sourced / len(prose)


def unresolved_links(markdown: str, notes_dir: Path) -> list[str]:
    """Links in footnote definitions that reach no note under `notes_dir` (or no such heading in it)."""
    root = notes_dir.resolve()
    problems: list[str] = []
    for definition in _FOOTNOTE_DEF.finditer(markdown):
        for link in _WIKILINK.finditer(definition.group(2)):
            note = _resolve(root, link.group(1).strip())
            heading = link.group(2)
            if note is None or (heading and not _has_heading(note, heading)):
                problems.append(link.group())
    return problems


def _resolve(root: Path, target: str) -> Path | None:
    for candidate in (root / f"{target}.md", root / target):
        path = candidate.resolve()
        if path.is_file() and path.is_relative_to(root):
            return path
    if "/" not in target:  # Obsidian resolves a bare name to the note of that name anywhere in the vault
        return next((p for p in sorted(root.rglob(f"{target}.md")) if p.is_file()), None)
    return None


def _has_heading(note: Path, heading: str) -> bool:
    text = note.read_text(encoding="utf-8-sig", errors="replace")
    wanted = _anchor(heading).lower()
    return any(_anchor(m.group(1)).lower() == wanted for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M))
