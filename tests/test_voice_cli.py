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
    assert done.stderr.splitlines() == [
        "no edited sections in drafts yet: edit a draft, then run `essay voice` again",
        "no habit seen 3 times yet, so no voice.md written",
    ]
    assert done.stdout == "" and not (workspace / "voice.md").exists()


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


def test_a_rule_naming_a_private_word_is_not_sent_to_an_untrusted_endpoint_but_still_applied(edited: Path) -> None:
    (edited / "notes" / "secret.md").write_text("---\nprivate: true\n---\n\nproject kestrel ships in may\n")
    (edited / "voice.md").write_text(
        '# voice\n\n- write "the launch", not "project kestrel"\n- call marguerite by her name\n- avoid "honestly"\n',
        encoding="utf-8",
    )
    invent = "Honestly, project kestrel was the hard part."
    with FakeOpenAIServer(invent=invent) as server:  # not listed under [privacy] trusted
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=edited)
    assert done.returncode == 0, done.stderr
    sent = "\n".join(m["content"] for r in server.requests for m in r["messages"])
    assert "kestrel" not in sent
    assert '- avoid "honestly"' in sent and "- call marguerite by her name" in sent
    body = frontmatter.load(edited / done.stdout.strip()).content
    assert "kestrel" not in body and body.count("the launch was the hard part.") == 3


def test_regen_follows_voice_md_and_its_section_can_be_learned_from_later(edited: Path) -> None:
    assert essay("voice", cwd=edited).returncode == 0
    with FakeOpenAIServer(invent=HABITS) as server:
        done = essay("regen", "prompts/garden.md", "-s", "1", "--base-url", server.base_url, "--model", "m", cwd=edited)
    assert done.returncode == 0, done.stderr
    post = frontmatter.load(edited / done.stdout.strip())
    first, *others = post.content.split("<!-- section: ")[1:]
    assert "we use the shed for everything." in first and "honestly" not in first and "utilize" not in first
    v002 = frontmatter.load(edited / "drafts" / "garden" / "v002.md").content
    assert others == v002.split("<!-- section: ")[2:]  # the other sections as the author left them
    assert post["voice_hash"] == text_hash_of_file(edited / "voice.md")
    regenerated = post["sections"][0]["text_hash"]
    assert (edited / ".essay" / "voice" / "generated" / f"{regenerated}.md").is_file()
