"""Rules as voice.md holds them: one a line, `- ` first, in plain words the author and the model both read.

    - avoid "honestly" (seen 4 times; e.g. "honestly, the move was hard" → "the move was hard")
    - write "use", not "utilize" (seen 3 times; e.g. ...)
    - end on the last point: no closing line that sums up (seen 3 times; e.g. ...)
    - my own rule, in my own words

`avoid "x"` and `write "y", not "x"` are mechanical: every draft also has them applied after writing.
Every other line is an instruction only. What follows `(seen` is evidence for the author, not for the model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.errors import ConfigError

VOICE_NAME = "voice.md"

_ITEM = re.compile(r"^\s*[-*+]\s+(?!\[[ xX]\])(?P<text>\S.*?)\s*$")
_EVIDENCE = re.compile(r"\s*\(seen \d+ times?\b.*\)\s*$")
# A note of the author's own in brackets after a rule leaves it the same rule: `avoid "honestly" (in prose)`.
_AVOID = re.compile(r'^avoid "(?P<old>[^"]+)"(?:\s+\(.*\))?$', re.I)
_REPLACE = re.compile(r'^write "(?P<new>[^"]*)", not "(?P<old>[^"]+)"(?:\s+\(.*\))?$', re.I)
# Learned rules whose wording holds a number that changes from one rebuild to the next: known by their start.
_REWORD = re.compile(r'^(?:find another word for|no) "(?P<old>[^"]+)"', re.I)
_GUIDES = {
    "keep sentences short": "sentences",
    "keep paragraphs short": "paragraphs",
    "end on the last point": "closing",
    "start with the point": "opening",
    "write lists as prose": "lists-to-prose",
    "use a list for a run of items": "prose-to-lists",
}


@dataclass(frozen=True)
class Rule:
    key: str  # what the rule is about, the same whatever its count or example: "avoid:honestly"
    text: str  # the rule as the model reads it
    old: str = ""  # a mechanical rule's phrase
    new: str | None = None  # what a replacement writes instead; None for a phrase that is only removed

    @property
    def mechanical(self) -> bool:
        return bool(self.old)


def parse_rule(line: str) -> Rule | None:
    """The rule a line of voice.md holds, or None for a line that is no rule (a heading, prose, a blank)."""
    item = _ITEM.match(line)
    if not item:
        return None
    text = _EVIDENCE.sub("", item["text"]).strip()
    if not text:
        return None
    if found := _AVOID.match(text):
        old = found["old"].strip().lower()
        return Rule(f"avoid:{old}", text, old, None)
    if found := _REPLACE.match(text):
        old = found["old"].strip().lower()
        return Rule(f"replace:{old}", text, old, found["new"].strip().lower())
    if found := _REWORD.match(text):  # a word changed in no one way: the model is told, nothing is replaced
        return Rule(f"reword:{found['old'].strip().lower()}", text)
    start = next((key for prefix, key in _GUIDES.items() if text.lower().startswith(prefix)), None)
    return Rule(start or "own:" + " ".join(text.lower().split()), text)


@dataclass(frozen=True)
class Voice:
    rules: tuple[Rule, ...]
    hash: str  # of voice.md as it was read: the draft's frontmatter records it
    kept_home: frozenset[str] = frozenset()  # keys of rules not sent to this endpoint (still applied here)

    @property
    def instructions(self) -> tuple[str, ...]:
        return tuple(rule.text for rule in self.rules if rule.key not in self.kept_home)

    @property
    def mechanical(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.mechanical)


def voice_path(root: Path) -> Path:
    return root / VOICE_NAME


def read_voice_text(path: Path) -> str | None:
    """voice.md's text, or None when there is none."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text: save it as UTF-8, or delete it and run `essay voice`") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def load_voice(root: Path) -> Voice | None:
    """The workspace's voice.md, or None when it has none (or no rule in it)."""
    text = read_voice_text(voice_path(root))
    if text is None:
        return None
    rules = tuple({rule.key: rule for line in text.splitlines() if (rule := parse_rule(line))}.values())
    return Voice(rules, hashlib.sha256(text.encode()).hexdigest()[:16]) if rules else None


def keep_private_home(voice: Voice | None, private: Iterable[str], shared: Iterable[str]) -> Voice | None:
    """For an endpoint that may not see private notes: a rule naming a word that only private notes hold (a
    codename, a colleague) is not sent; it is still applied to what comes back."""
    if voice is None:
        return None
    only_private = _words(private) - _words(shared)
    home = frozenset(rule.key for rule in voice.rules if _words(_own_words(rule)) & only_private)
    return replace(voice, kept_home=home)


def _own_words(rule: Rule) -> list[str]:
    """What a rule says beyond essay's own wording: its quoted phrases, or the whole of an author's own line."""
    quoted = re.findall(r'"([^"]*)"', rule.text)
    if quoted:
        return quoted
    return [rule.text] if rule.key.startswith("own:") else []


def _words(texts: Iterable[str]) -> set[str]:
    return {w for text in texts for w in re.findall(r"\w{3,}", text.lower())}


def voice_hash(voice: Voice | None) -> str | None:
    return voice.hash if voice else None


def voice_instructions(voice: Voice | None) -> tuple[str, ...]:
    return voice.instructions if voice else ()
