"""voice.md, rebuilt from the edits around what the author did to it.

The file is the author's: every line they wrote or changed stays where it is, word for word. A rule line is
essay's only while it is exactly as essay last wrote it (recorded in .essay/voice/rules.json); that one gets
its fresh count and example, or goes when the edits no longer show it. A rule essay wrote that is gone from
the file was deleted by the author: it is recorded, and never added again (unless they write it back).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import StateError
from pipeline.voice.mine import MinedRule, mine_rules
from pipeline.voice.pairs import Pairs, edit_pairs
from pipeline.voice.rules import parse_rule, read_voice_text, voice_path

RECORD = Path("voice") / "rules.json"
HEADER = """# voice

rules essay learned from how you edit its drafts; every writing call follows them. `essay voice` rebuilds
them from your edits: delete a line and it stays deleted, add your own (a line starting with "- ") and it is
kept and followed too. `avoid "x"` and `write "y", not "x"` are also applied to every draft as it is written.
"""


@dataclass(frozen=True)
class Rebuilt:
    path: Path
    added: tuple[str, ...]  # rule lines new in the file
    updated: tuple[str, ...]  # essay's lines with a new count or example
    dropped: tuple[str, ...]  # essay's lines the edits no longer show
    own: int  # rule lines that are the author's (written or changed by them), kept as they are
    deleted: int  # rules the author deleted, kept out
    changed: bool  # whether voice.md was written


def learn_voice(root: Path, drafts_dir: Path, state_dir: Path) -> tuple[Pairs, Rebuilt]:
    """`essay voice`: the edits of every draft in `drafts_dir` mined, and voice.md rebuilt from them."""
    pairs = edit_pairs(drafts_dir, state_dir)
    return pairs, rebuild_voice(root, state_dir, mine_rules(pairs.edited))


def rebuild_voice(root: Path, state_dir: Path, mined: Sequence[MinedRule]) -> Rebuilt:
    path = voice_path(root)
    text = read_voice_text(path)
    written, deleted = _read_record(state_dir)
    if text is None:
        written = {}  # no file: a fresh start (the author's deletions stay recorded)
        lines = HEADER.splitlines()
    else:
        lines = text.splitlines()
    present = {rule.key for line in lines if (rule := parse_rule(line))}
    deleted |= {key for key in written if key not in present}
    deleted -= present  # a rule the author wrote back in is theirs now
    fresh = {rule.key: rule for rule in mined}
    out: list[str] = []
    updated, dropped = [], []
    own = 0
    last_rule = -1
    for line in lines:
        rule = parse_rule(line)
        if rule is not None and written.get(rule.key) == line:  # essay's line, untouched
            new = fresh.get(rule.key)
            if new is None:
                dropped.append(line)
                del written[rule.key]
                continue
            if new.line != line:
                updated.append(new.line)
            line = written[rule.key] = new.line
        elif rule is not None:
            own += 1
        out.append(line)
        if rule is not None:
            last_rule = len(out) - 1
    added = [r.line for key, r in fresh.items() if key not in present and key not in deleted]
    if last_rule < 0:
        while out and not out[-1].strip():
            out.pop()
        out.append("")
        last_rule = len(out) - 1
    out[last_rule + 1 : last_rule + 1] = added
    written |= {r.key: r.line for r in fresh.values() if r.line in added}
    new_text = "\n".join(out).rstrip("\n") + "\n"
    changed = new_text != text and (text is not None or bool(added))  # no rules yet: no file made for nothing
    if changed:
        _write_atomically(path, new_text, expected=(text,))
    _write_record(state_dir, written, deleted)
    return Rebuilt(path, tuple(added), tuple(updated), tuple(dropped), own, len(deleted), changed)


def _read_record(state_dir: Path) -> tuple[dict[str, str], set[str]]:
    try:
        data = json.loads((state_dir / RECORD).read_text(encoding="utf-8"))
        return dict(data.get("written", {})), set(data.get("deleted", []))
    except FileNotFoundError:
        return {}, set()
    except (OSError, ValueError, AttributeError, TypeError):
        raise StateError(
            f"{state_dir / RECORD} is damaged: delete it and run `essay voice` again (rules you deleted from "
            "voice.md may come back; delete them again)"
        ) from None


def _write_record(state_dir: Path, written: dict[str, str], deleted: set[str]) -> None:
    data = json.dumps({"written": written, "deleted": sorted(deleted)}, indent=1, ensure_ascii=False)
    _write_atomically(state_dir / RECORD, data + "\n")


def _write_atomically(path: Path, text: str, *, expected: tuple[str | None] | None = None) -> None:
    """Write via a temp file and a rename; refuse when the file changed since it was read (the author saving it
    in their editor at that moment), so their edit is never lost."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(text, encoding="utf-8", newline="\n")
        if expected is not None and read_voice_text(path) != expected[0]:
            raise StateError(f"{path} changed while essay was rebuilding it: run `essay voice` again")
        os.replace(temp, path)
    except OSError as exc:
        raise StateError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)
