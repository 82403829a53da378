"""Which section of a draft the writer named: by its number, title, slug, or words of its title."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.core.errors import UsageError


def choose_section(sections: Sequence[tuple[str, str]], query: str, where: str) -> tuple[str, str]:
    """A section by number (1-based), its exact title, slug, a unique prefix of its title, or (starts of) words
    of its title."""
    listing = "\n".join(f"  {n}. {title}  [{slug}]" for n, (slug, title) in enumerate(sections, start=1))
    wanted = _normal(query)
    exact = [s for s in sections if s[1].strip().casefold() == query.strip().casefold()]
    if not wanted and len(exact) != 1:  # an emoji alone has no words: only its exact title names it
        raise UsageError(f"'{query}' names no section in {where}: use its number, slug or title words:\n{listing}")
    if query.strip().isdigit():
        number = int(query)
        if 1 <= number <= len(sections):
            return sections[number - 1]
        raise UsageError(f"there is no section {number} in {where}; its sections are:\n{listing}")
    tiers = [
        exact,
        [s for s in sections if s[0] == query.strip()],
        [s for s in sections if _normal(s[1]).startswith(wanted)],
        [s for s in sections if wanted and _words_start(wanted.split(), _normal(s[1]).split())],
    ]
    for found in tiers:
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"'{title}'" for _, title in found)
            raise UsageError(f"'{query}' matches {names} in {where}; name one by number:\n{listing}")
    raise UsageError(f"no section matches '{query}' in {where}; its sections are:\n{listing}")


def _words_start(wanted: list[str], title_words: list[str]) -> bool:
    return all(any(word.startswith(w) for word in title_words) for w in wanted)


def _normal(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()
