"""Marks on plan items: where the sort doubts, and what the author's corrections moved.

A mark opens the item's text, so the author sees it in any editor and in Obsidian's preview:

    - (? or: the plateaus) first go at an open string ([[daily/2023-09-14]]) <!-- f:ab12 -->
    - (moved by your corrections, was: why i started) she made me hold the bow … <!-- f:cd34 -->

Reading the plan back, a mark is taken off the item's text (the draft never sees it) and kept with the item,
so a plan made again shows it where the item did not move. Deleting a mark is how the author says "checked".
"""

from __future__ import annotations

import re

# A section title may hold parentheses of its own, one level deep: "why (really) i started".
_MARK = re.compile(r"\A\((?:\? or: |moved by your corrections, was: )(?:[^()\n]|\([^()\n]*\))*\)[ \t]*")


def doubt_mark(runner_up: str) -> str:
    """The mark of an item whose runner-up section, named here, scored close to its own."""
    return f"(? or: {runner_up.lower()})"


def moved_mark(was: str) -> str:
    """The mark of an item the author's corrections moved, from the section named here."""
    return f"(moved by your corrections, was: {was.lower()})"


def split_mark(text: str) -> tuple[str, str]:
    """An item's text as written in the plan -> (its mark or "", the text without it)."""
    found = _MARK.match(text)
    return (found[0].strip(), text[found.end() :]) if found else ("", text)
