"""`essay voice` as a writer uses it: draft, edit the draft in place, learn, draft again (real SDK, loopback HTTP)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import frontmatter
import pytest

from pipeline.files.draftfile import text_hash
from tests.conftest import essay
from tests.fake_server import FakeOpenAIServer

HABITS = "Honestly, we utilize the shed for everything."


def _draft(workspace: Path, server: FakeOpenAIServer) -> Path:
    done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, "--model", "m", cwd=workspace)
    assert done.returncode == 0, done.stderr
    return workspace / done.stdout.strip()


def _edit(path: Path, old: str, new: str, times: int) -> None:
    """The author's edit, in place in the draft, as in their editor."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= times
    path.write_text(text.replace(old, new, times), encoding="utf-8")


@pytest.fixture
def edited(workspace: Path) -> Path:
    """Two drafts whose writer deleted "honestly" four times and replaced "utilize" with "use" three times."""
    with FakeOpenAIServer(invent=HABITS) as server:
        v001 = _draft(workspace, server)
        v002 = _draft(workspace, server)
    _edit(v001, "honestly, we utilize the shed", "we use the shed", 3)
    _edit(v002, "honestly, we utilize the shed", "we utilize the shed", 1)
    return workspace


def test_voice_learns_both_habits_and_the_next_draft_follows_them(edited: Path) -> None:
    learned = essay("voice", cwd=edited)
    assert learned.returncode == 0, learned.stderr
    lines = learned.stdout.splitlines()
    assert len(lines) == 2, learned.stdout
    # Which edit is the example is the order the drafts hold them: v002's kept "utilize".
    assert re.fullmatch(
        r'\+ avoid "honestly" \(seen 4 times; e\.g\. "honestly, we utilize the shed for everything\." '
        r'→ "we (use|utilize) the shed for everything\."\)',
        lines[0],
    )
    assert re.fullmatch(
        r'\+ write "use", not "utilize" \(seen 3 times; e\.g\. "honestly, we utilize the shed for everything\." '
        r'→ "we use the shed for everything\."\)',
        lines[1],
    )
    assert "compared 4 sections you edited (of 6 the model wrote)" in learned.stderr
    assert "voice.md written: 2 added, 0 updated, 0 no longer seen" in learned.stderr
    voice_md = (edited / "voice.md").read_text(encoding="utf-8")
    assert voice_md.count('- avoid "honestly" (seen 4 times;') == 1
    assert voice_md.count('- write "use", not "utilize" (seen 3 times;') == 1

    with FakeOpenAIServer(invent=HABITS) as server:
        v003 = _draft(edited, server)
    writing_calls = [r for r in server.requests if "response_format" not in r]
    assert len(writing_calls) == 3
    for request in writing_calls:
        sent = "\n".join(m["content"] for m in request["messages"])
        assert '- avoid "honestly"' in sent and '- write "use", not "utilize"' in sent
        assert "seen 4 times" not in sent  # the evidence is for the writer, not the model
    post = frontmatter.load(v003)
    assert "honestly" not in post.content.lower() and "utilize" not in post.content.lower()
    assert post.content.count("we use the shed for everything.") == 3
    assert post["voice_hash"] == text_hash_of_file(edited / "voice.md")


def text_hash_of_file(path: Path) -> str:
    return hashlib.sha256(path.read_text(encoding="utf-8").encode()).hexdigest()[:16]


def test_a_rule_the_writer_deletes_stays_deleted_and_their_own_line_stays(edited: Path) -> None:
    assert essay("voice", cwd=edited).returncode == 0
    voice_md = edited / "voice.md"
    lines = voice_md.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith('- avoid "honestly"')] + ["- no exclamation marks, ever"]
    voice_md.write_text("\n".join(kept) + "\n", encoding="utf-8")

    again = essay("voice", cwd=edited)
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert (
        "voice.md unchanged: 0 added, 0 updated, 0 no longer seen; 1 of your own rules kept; 1 you deleted left out"
        in (again.stderr)
    )
    text = voice_md.read_text(encoding="utf-8")
    assert '- avoid "honestly"' not in text
    assert "- no exclamation marks, ever" in text and '- write "use", not "utilize"' in text

    with FakeOpenAIServer(invent=HABITS) as server:
        v003 = _draft(edited, server)
    sent = "\n".join(m["content"] for r in server.requests for m in r["messages"])
    assert "- no exclamation marks, ever" in sent and '"honestly"' not in sent
    body = frontmatter.load(v003).content
    assert "honestly, we use the shed" in body  # the writer dropped the rule: nothing removes the word now


def test_no_edits_yet_says_what_to_do(workspace: Path) -> None:
    with FakeOpenAIServer() as server:
        _draft(workspace, server)
    done = essay("voice", cwd=workspace)
    assert done.returncode == 0
    assert "no edited sections in drafts yet: edit a draft, then run `essay voice` again" in done.stderr
    assert done.stdout == ""


def test_an_unreadable_voice_md_is_one_clear_error(edited: Path) -> None:
    (edited / "voice.md").write_bytes(b"\xff\xfe\x00bad")
    done = essay("voice", cwd=edited)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == "error: voice.md is not UTF-8 text: save it as UTF-8, or delete it and run `essay voice`"
    )
    assert (edited / "voice.md").read_bytes() == b"\xff\xfe\x00bad"


def test_generated_text_is_kept_under_the_hash_the_frontmatter_records(edited: Path) -> None:
    post = frontmatter.load(edited / "drafts" / "garden" / "v001.md")
    kept = edited / ".essay" / "voice" / "generated"
    for section in post["sections"]:
        text = (kept / f"{section['text_hash']}.md").read_text(encoding="utf-8")
        assert text_hash(text) == section["text_hash"] and "honestly, we utilize the shed" in text
