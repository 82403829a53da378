"""The cases an adversarial but realistic user found, each in the form a user meets it.

Privacy fails closed; the workspace is found wherever the command runs; no input gets a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.core.errors import PrivacyError
from pipeline.models.privacy import PrivacyGuard
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer
from tests.fakes import FakeLLM, made

VAULT_TOML = """
[notes]
private = ["**/secret*.md", "journal/*"]

[privacy]
redact = ["kestrel"]
"""


def _sent(server: FakeOpenAIServer) -> str:
    return json.dumps(server.requests).lower()


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    write(vault / "essay.toml", VAULT_TOML)
    write(vault / "prompts" / "year.md", "---\ntitle: a year\ntags: [essay, career]\n---\n\n## the work\nwhat?\n")
    notes = vault / "notes"
    write(
        notes / "open.md", "---\ntags: [career]\n---\n\nshipped the kestrels dashboard with kestrel_v2 and KestrelOps\n"
    )
    write(notes / "pay.md", '---\nprivate: "yes"\n---\n\nmy salary is 123,456 a year\n')
    write(notes / "secret-plans.md", "the osprey reorg happens in march\n")
    write(notes / "journal" / "day.md", "i cried in the stairwell\n")
    write(notes / "hidden.md", "the standup ran long %% dana is leaving %% and <!-- bonus: 40k --> we shipped\n")
    return vault


def test_from_outside_the_vault_its_settings_hold_and_nothing_private_is_sent(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with FakeOpenAIServer() as server:
        done = essay(
            "draft", str(vault / "prompts" / "year.md"), "--notes", str(vault / "notes"),
            "--drafts", str(vault / "drafts"), "--base-url", server.base_url, cwd=elsewhere,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"workspace: {vault}" in done.stderr
    sent = _sent(server)
    assert "shipped the" in sent  # the open note went, and the prompt's own `tags:` filtered nothing
    for secret in ("123,456", "osprey", "stairwell", "kestrel", "dana is leaving", "40k"):
        assert secret not in sent, secret
    assert (vault / ".essay" / "state.sqlite").is_file() and not (elsewhere / ".essay").exists()


@pytest.mark.parametrize("value", ['"yes"', '"true"', "1", "maybe", "[a, b]", ""])
def test_private_in_any_form_but_a_clear_false_keeps_a_note_home(tmp_path: Path, value: str) -> None:
    vault = _vault(tmp_path)
    write(vault / "notes" / "odd.md", f"---\nPrivate: {value}\n---\n\nthe layoff list has nine names\n")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=vault)
    assert done.returncode == 0, done.stderr
    assert "layoff list" not in _sent(server)


def test_a_clear_false_is_sent(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / "notes" / "fine.md", "---\nprivate: no\n---\n\nthe garden party was fun\n")
    with FakeOpenAIServer() as server:
        essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=vault)
    assert "garden party" in _sent(server)


def test_a_symlinked_file_from_outside_the_vault_is_skipped_with_a_warning(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    outside = write(tmp_path / "outside.md", "bank password hunter2\n")
    os.symlink(outside, vault / "notes" / "linked.md")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=vault)
    assert "hunter2" not in _sent(server)
    assert "linked.md: a link to a file outside the notes folder" in done.stderr


def test_nul_bytes_late_in_a_note_are_not_sent(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / "notes" / "long.md", ("a line of ordinary text\n" * 500 + "tail\x00end\n").encode())
    with FakeOpenAIServer() as server:
        essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=vault)
    assert "\\u0000" not in json.dumps(server.requests)


def test_the_authors_own_placeholder_lookalike_is_not_restored_as_a_term(tmp_path: Path) -> None:
    from pipeline.models.redact import RedactingModel

    inner = FakeLLM().enqueue("we named the bot Redacted-1, and Withheld-1 shipped")
    model = RedactingModel(inner, ["kestrel"])
    reply = model.complete([{"role": "user", "content": "we named the bot Redacted-1; kestrel shipped"}])
    assert inner.history[0].messages[0]["content"] == "we named the bot Redacted-1; Withheld-1 shipped"
    assert reply.text == "we named the bot Redacted-1, and kestrel shipped"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[note]\nprivate = ['x']\n", "unknown setting 'note'; did you mean 'notes'?"),
        ("[privacy]\nredcat = ['x']\n", "unknown setting 'privacy.redcat'; did you mean 'privacy.redact'?"),
        ("[llm]\ntimeout = -5\n", "'llm.timeout' = -5.0 is not allowed: input should be greater than 0"),
        ("[llm]\ntimeout = 0\n", "'llm.timeout' = 0.0 is not allowed: input should be greater than 0"),
        ("[llm]\nbase_url = 42\n", "'llm.base_url' = 42 is not allowed"),
        ("[llm]\nbase_url = 'localhost:8080'\n", "is not an http(s) URL"),
    ],
)
def test_a_bad_essay_toml_is_one_line_that_names_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    vault = _vault(tmp_path)
    write(vault / "essay.toml", toml)
    done = essay("draft", "prompts/year.md", "--dry-run", cwd=vault)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and message in done.stderr and len(done.stderr.splitlines()) == 1


def test_two_prompts_with_non_latin_names_get_their_own_folders(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / "prompts" / "仕事.md", "## 仕事\nwhat?\n")
    write(vault / "prompts" / "家族.md", "## 家族\nwho?\n")
    write(vault / "prompts" / "🌱.md", "## growth\nhow?\n")
    write(vault / "prompts" / "🌊.md", "## water\nhow?\n")
    for name in ("仕事", "家族", "🌱", "🌊"):
        assert essay("draft", f"prompts/{name}.md", "--provider", "fake", cwd=vault).returncode == 0
    folders = sorted(p.name for p in (vault / "drafts").iterdir())
    assert folders == ["essay", "essay-2", "仕事", "家族"]
    other = (vault / "drafts" / "家族" / "v001.md").read_bytes()
    regen = essay("regen", "prompts/仕事.md", "--section", "1", "--provider", "fake", cwd=vault)
    assert regen.returncode == 0, regen.stderr
    assert sorted(p.name for p in (vault / "drafts" / "家族").glob("v*.md")) == ["v001.md"]
    assert (vault / "drafts" / "家族" / "v001.md").read_bytes() == other
    assert essay("regen", "prompts/🌊.md", "--section", "1", "--provider", "fake", cwd=vault).returncode == 0
    assert (vault / "drafts" / "essay-2" / "v002.md").is_file() and not (
        vault / "drafts" / "essay" / "v002.md"
    ).exists()


def test_regen_refuses_when_a_section_lost_its_marker_and_heading(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / "prompts" / "two.md", "## the work\nwhat?\n\n## the people\nwho?\n")
    assert essay("draft", "prompts/two.md", "--provider", "fake", cwd=vault).returncode == 0
    path = vault / "drafts" / "two" / "v001.md"
    path.write_text(path.read_text().replace("<!-- section: the-people -->\n## the people", "## my colleagues"))
    done = essay("regen", "prompts/two.md", "--section", "the people", "--provider", "fake", cwd=vault)
    assert done.returncode == 1 and "cannot find section 'the people'" in done.stderr
    assert "nothing was written" in done.stderr
    assert sorted(p.name for p in path.parent.glob("v*.md")) == ["v001.md"]


def test_an_emoji_names_no_section(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault).returncode == 0
    done = essay("regen", "prompts/year.md", "--section", "😀", "--provider", "fake", cwd=vault)
    assert done.returncode == 2 and "'😀' names no section" in done.stderr


def test_a_damaged_state_file_costs_one_line_and_is_set_aside(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / ".essay" / "state.sqlite", b"this is not a database" * 100)
    for command in (("log",), ("cost",), ("draft", "prompts/year.md", "--provider", "fake")):
        done = essay(*command, cwd=vault)
        assert "Traceback" not in done.stderr
        assert done.returncode in (0, 2), done.stderr
    aside = list((vault / ".essay").glob("state.sqlite.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")


def test_a_damaged_state_file_warns_once_and_the_draft_lands(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / ".essay" / "state.sqlite", b"garbage" * 100)
    done = essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault)
    assert done.returncode == 0
    warned = [line for line in done.stderr.splitlines() if "was damaged" in line]
    assert len(warned) == 1 and "moved it to state.sqlite.damaged-" in warned[0]


def test_state_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    write(vault / ".essay", "oops")
    done = essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "is a file, but essay keeps its state in a folder of that name: move the file away and run again"
    )


def test_a_draft_whose_frontmatter_has_the_wrong_type_is_one_line(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault).returncode == 0
    path = vault / "drafts" / "year" / "v001.md"
    path.write_text(path.read_text().replace("  fragments:\n", "  fragments: 7\n  was:\n", 1))
    done = essay("regen", "prompts/year.md", "--section", "1", "--provider", "fake", cwd=vault)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "frontmatter 'sections.0.fragments' is not valid" in done.stderr


def test_ctrl_c_during_a_draft_says_what_was_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = _vault(tmp_path)

    def interrupted(self: FakeLLM, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(FakeLLM, "complete", interrupted)
    done = essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault)
    assert done.returncode == 130
    assert done.stderr.splitlines()[-1].startswith("interrupted: nothing half-written was left")
    assert not (vault / "drafts").exists() or not any((vault / "drafts").rglob("*.md"))


def test_redrafting_after_deleting_the_latest_version_asks_the_model_again(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault).returncode == 0
    (vault / "drafts" / "year" / "v001.md").unlink()
    assert essay("draft", "prompts/year.md", "--provider", "fake", cwd=vault).returncode == 0
    prose_calls = [c for c in made[-1].history if c.schema is None]
    assert prose_calls, "a new version is a new sample: its sections are written afresh, not replayed"


def test_the_guard_knows_a_private_bullet_as_a_plan_holds_it_without_its_marker() -> None:
    inner = FakeLLM()
    inner.sends_over_http = True  # type: ignore[misc]
    guard = PrivacyGuard(inner, trusted=False)
    guard.protect([("journal/launch.md", "- kestrel launch slips to march because the audit failed")])
    item = "kestrel launch slips to march because the audit failed ([[launch]])"
    with pytest.raises(PrivacyError):
        guard.complete([{"role": "user", "content": f"write from these notes:\n{item}"}])
    assert not inner.history
