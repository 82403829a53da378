"""Issue 30, as a user meets it: no key touches the disk, private notes stay home in every plausible variant, reused
private text is named rather than called a bug, and odd inputs (a pipe, a file for a folder, a huge prompt, two
runs at once) get one clear line instead of a hang, a traceback or a silent flood of calls."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.models.scrub import REMOVED, KeyScrubber
from tests.conftest import essay, essay_process, write
from tests.fake_server import FakeOpenAIServer

KEY = "sk-proj-Q7wErTy8UiOp9AsDfGh0JkLz"
PROMPT = "---\ntitle: a year\n---\n\nwrite about the year.\n\n## the work\nwhat did i build?\n\n## the people\nwho?\n"


def _workspace(tmp_path: Path, toml: str = "") -> Path:
    ws = tmp_path / "ws"
    write(ws / "essay.toml", toml)
    write(ws / "prompts" / "year.md", PROMPT)
    write(ws / "notes" / "work.md", "shipped the billing dashboard in april, after two rewrites\n")
    write(ws / "notes" / "team.md", "ines and tomás paired on the migration every morning\n")
    return ws


def _sent(server: FakeOpenAIServer) -> str:
    return json.dumps(server.requests, ensure_ascii=False).lower()


def _every_file(root: Path) -> dict[Path, str]:
    return {p: p.read_bytes().decode("utf-8", errors="replace").lower() for p in root.rglob("*") if p.is_file()}


# 1. a key echoed in an answer


def test_a_key_the_server_echoes_in_its_answers_is_in_no_file_of_the_workspace(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    echo = "(proxy debug: the key {key}, and " + KEY.upper() + ")"
    with FakeOpenAIServer(echo=echo) as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws, env={"OPENAI_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert server.requests
    files = _every_file(ws)
    assert any(p.name == "state.sqlite" for p in files) and any(p.name == "v001.md" for p in files)
    for path, text in files.items():
        assert KEY.lower() not in text, path
    assert REMOVED in (ws / "drafts" / "year" / "v001.md").read_text(encoding="utf-8")
    assert KEY.lower() not in (done.stdout + done.stderr).lower()


@pytest.mark.parametrize(
    "secret",
    [
        KEY,
        KEY.lower(),
        "sk-AbCdEfGhIjKlMnOpQrStUv0123456789",
        "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
        "ghp_0123456789abcdefABCDEF0123456789abcd",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "AKIAIOSFODNN7EXAMPLE",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123",
    ],
)
def test_anything_shaped_like_a_key_is_removed_from_an_answer(secret: str) -> None:
    scrub = KeyScrubber([KEY])
    assert scrub(f"the log said {secret}, then nothing") == f"the log said {REMOVED}, then nothing"


def test_ordinary_prose_is_not_mistaken_for_a_key() -> None:
    prose = (
        "the task-management rewrite took skill; the bearer of bad news was the akia team lead. "
        "my sk-8 board and the hf_ prefix, and a short key, short, stayed."
    )
    assert KeyScrubber(["short"])(prose) == prose


def test_the_scrub_changes_no_line_of_the_repos_own_notes_and_labeled_sets() -> None:
    """Real writing (the example notes, the five sort sets, the grounding set): nothing in it is taken for a key."""
    repo = Path(__file__).resolve().parent.parent
    files = [p for folder in ("notes", "benchmarks", "prompts") for p in (repo / folder).rglob("*.md")]
    lines = [line for p in files for line in p.read_text(encoding="utf-8", errors="replace").splitlines()]
    scrub = KeyScrubber([KEY])
    assert len(lines) > 2000
    assert [line for line in lines if scrub(line) != line] == []


# 8. privacy fails closed on plausible variants

PRIVATE_TOML = '[notes]\nprivate = ["journal/*", "**/secret*.md"]\n'


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("nested.md", "---\nmeta: {private: true}\n---\n\nthe layoff list has nine names\n"),
        ("listed.md", "---\nmeta:\n  - owner: me\n    Private: yes\n---\n\nthe layoff list has nine names\n"),
        ("Journal/entry.md", "the layoff list has nine names\n"),
        ("sub/journal/entry.md", "the layoff list has nine names\n"),
        ("deep/Secret-plan.md", "the layoff list has nine names\n"),
    ],
)
def test_private_variants_are_not_sent_to_an_untrusted_endpoint(tmp_path: Path, path: str, text: str) -> None:
    ws = _workspace(tmp_path, PRIVATE_TOML)
    write(ws / "notes" / path, text)
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "billing dashboard" in _sent(server)
    assert "layoff" not in _sent(server)
    assert "1 private note(s) stay on this machine" in done.stderr


def test_a_clear_false_nested_is_still_sent(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, PRIVATE_TOML)
    write(ws / "notes" / "open.md", "---\nmeta: {private: false}\n---\n\nthe garden party was fun\n")
    with FakeOpenAIServer() as server:
        essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert "garden party" in _sent(server)


# 7. private text reused where it is not private


def test_a_public_note_quoting_a_private_one_is_named_and_kept_home(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, PRIVATE_TOML)
    write(ws / "notes" / "journal" / "day.md", "i cried in the stairwell after the review with dana\n")
    write(ws / "notes" / "quote.md", "> i cried in the stairwell after the review with dana\n\nthat was a low point\n")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "bug in essay" not in done.stderr
    assert (
        "warning: quote.md holds text of private note journal/day.md, so those lines stay on this machine too: "
        "remove the quote, or mark quote.md private"
    ) in done.stderr
    assert "stairwell" not in _sent(server)
    assert "billing dashboard" in _sent(server)


def test_a_private_item_pasted_into_the_plan_as_a_point_is_named_and_not_sent(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, PRIVATE_TOML)
    write(ws / "notes" / "journal" / "day.md", "i cried in the stairwell after the review with dana\n")
    with FakeOpenAIServer() as server:
        planned = essay("plan", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
        assert planned.returncode == 0, planned.stderr
        plan = ws / "drafts" / "year" / "plan.md"
        text = plan.read_text(encoding="utf-8")
        heading = "## the work\n"
        plan.write_text(
            text.replace(heading, heading + "\n- i cried in the stairwell after the review with dana\n", 1),
            encoding="utf-8",
        )
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "bug in essay" not in done.stderr
    assert (
        f"warning: {Path('drafts/year/plan.md')}: the item 'i cried in the stairwell after the…' holds text "
        "of private note journal/day.md, so it stays on this machine: delete it from the plan, or list the endpoint "
        "under [privacy] trusted"
    ) in done.stderr
    assert "stairwell" not in _sent(server)


def test_a_link_to_a_private_note_is_as_private_as_the_note(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, PRIVATE_TOML)
    target = write(ws / "notes" / "journal" / "day.md", "i cried in the stairwell after the review with dana\n")
    os.symlink(target, ws / "notes" / "alias.md")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "bug in essay" not in done.stderr
    assert "stairwell" not in _sent(server)


# 10. a named pipe among the notes


def test_a_fifo_among_the_notes_is_skipped_with_a_warning(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    os.mkfifo(ws / "notes" / "x.md")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--dry-run", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "warning: x.md: not a regular file (a pipe, socket or device), skipped" in done.stderr
    assert not server.requests


# 14. the terminal is essay's own


def test_no_line_on_the_terminal_is_a_librarys_log_line(tmp_path: Path) -> None:
    """A process of its own: logging is configured once per process, as a writer's command is."""
    ws = _workspace(tmp_path)
    with FakeOpenAIServer() as server:
        done = essay_process("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
        verbose = essay_process("draft", "prompts/year.md", "--base-url", server.base_url, "--verbose", cwd=ws)
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).splitlines()
    assert not [line for line in lines if line.startswith(("INFO:", "DEBUG:", "WARNING:"))]
    assert "drafts/year/v001.md" in done.stdout
    assert verbose.returncode == 0, verbose.stderr
    assert any(line.startswith("httpx2: HTTP Request: POST") for line in verbose.stderr.splitlines())


# 11. --drafts and --notes that name something else


@pytest.mark.parametrize(
    ("drafts", "message"),
    [
        ("notes/work.md", "error: the drafts folder notes/work.md is a file, not a folder: pass --drafts a folder"),
        (
            "notes/work.md/drafts",
            "error: the drafts folder notes/work.md/drafts cannot be created: "
            "{ws}/notes/work.md is a file, not a folder: pass --drafts a folder",
        ),
    ],
)
@pytest.mark.parametrize("command", ["draft", "plan", "regen"])
def test_drafts_naming_a_file_is_one_line_before_any_request(
    tmp_path: Path, drafts: str, message: str, command: str
) -> None:
    ws = _workspace(tmp_path)
    extra = ["-s", "1"] if command == "regen" else []
    with FakeOpenAIServer() as server:
        done = essay(command, "prompts/year.md", *extra, "--drafts", drafts, "--base-url", server.base_url, cwd=ws)
    assert done.returncode != 0
    assert done.stderr.splitlines() == [message.format(ws=ws.resolve())]
    assert not server.requests


def test_notes_naming_a_file_says_it_is_a_file(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    done = essay("draft", "prompts/year.md", "--notes", "notes/work.md", "--dry-run", cwd=ws)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: the notes folder notes/work.md is a file, not a folder: pass --notes the folder of your notes"
    ]


# 12. a huge prompt


@pytest.mark.parametrize("form", ["instruction", "questions"])
def test_a_2_mb_prompt_is_refused_in_one_line_before_any_call(tmp_path: Path, form: str) -> None:
    ws = _workspace(tmp_path)
    filler = "the year was long and the work was hard. " * 50_000  # 2 MB
    if form == "instruction":
        text = f"---\ntitle: big\n---\n\n{filler}\n\n## the work\nwhat?\n"
    else:
        text = f"---\ntitle: big\n---\n\nwrite.\n\n- **the work.**\n    {filler}\n"
    write(ws / "prompts" / "big.md", text)
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/big.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert re.fullmatch(
        r"error: prompt prompts/big\.md: its instruction and sections are about 51\d,\d{3} tokens, and every call "
        r"carries them, but gpt-4o-mini reads 16,384 at most: shorten them to under 8,192 tokens \(long material "
        r"belongs in a note, or below the sections as your own draft\)",
        line,
    ), line
    assert not server.requests


def test_a_prompt_that_is_a_pipe_is_refused(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    os.mkfifo(ws / "prompts" / "pipe.md")
    done = essay("draft", "prompts/pipe.md", "--dry-run", cwd=ws)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: prompt prompts/pipe.md is not a regular file (a pipe or device): name the prompt's .md file"
    ]


# 13. two runs at once


def _wait_for_a_request(server: FakeOpenAIServer, process: subprocess.Popen[str]) -> None:
    """Until the first run's first call reaches the server (and is held there): it holds its locks by then."""
    deadline = time.monotonic() + 120
    while not server.requests:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first run sent nothing"
        time.sleep(0.05)


def _start(ws: Path, *args: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    command = [sys.executable, "-m", "pipeline", *args]
    return subprocess.Popen(command, cwd=ws, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(
    ("first", "second", "holder"),
    [
        (["draft", "prompts/year.md"], ["draft", "prompts/year.md"], "writing drafts/year"),
        (["batch"], ["batch", "--defer"], "running `essay batch` in this workspace"),
        (["batch"], ["draft", "prompts/year.md"], "writing drafts/year"),
    ],
)
def test_a_second_run_at_once_is_told_another_run_holds_it(
    tmp_path: Path, first: list[str], second: list[str], holder: str
) -> None:
    ws = _workspace(tmp_path)
    with FakeOpenAIServer(hold_after=0) as server:
        running = _start(ws, *first, "--base-url", server.base_url)
        try:
            _wait_for_a_request(server, running)
            calls = len(server.requests)
            done = essay(*second, "--base-url", server.base_url, cwd=ws)
            assert len(server.requests) == calls  # the second run sent nothing
        finally:
            server.release.set()
            _out, err = running.communicate(timeout=120)
    assert running.returncode == 0, err
    assert done.returncode != 0
    assert done.stderr.splitlines()[-1] == (
        f"error: another essay run (pid {running.pid}) is {holder}: wait for it to finish, then run again"
    )
    assert "404" not in done.stderr.replace(str(running.pid), "")  # no HTTP 404 (a pid may hold the digits)
    assert sorted(p.name for p in (ws / "drafts" / "year").glob("v*.md")) == ["v001.md"]


# 15. smaller


def test_the_dry_run_on_a_large_vault_says_how_many_fragments_at_most_would_be_sent(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "[llm]\ncontext_window = 2048\n")  # a small window: 10 calls hold ~700 of them
    for n in range(1000):
        write(ws / "notes" / "daily" / f"n{n:03d}.md", f"errand zq{n}zq: picked up the parcel and paid the bill\n")
    with FakeOpenAIServer() as server:
        dry = essay("draft", "prompts/year.md", "--dry-run", "--base-url", server.base_url, cwd=ws)
        assert dry.returncode == 0, dry.stderr
        assert not server.requests
        line = next(line for line in dry.stdout.splitlines() if line.startswith("at most "))
        found = re.fullmatch(
            rf"at most (\d+) of the 1002 fragments would be sent to {re.escape(server.base_url)}: the sort's "
            r"shortlist, which ranking picks when it runs \(`essay plan --all` sends all\); they come from these "
            r"1002 notes:",
            line,
        )
        assert found, line
        at_most = int(found[1])
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    sent = set(re.findall(r"zq(\d+)zq", json.dumps(server.requests)))
    assert at_most < 1002 and len(sent) <= at_most


def test_a_timeout_after_one_request_does_not_claim_retries(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "[llm]\ntimeout = 1\n")
    with FakeOpenAIServer(latency=3.0) as server:  # every answer comes long after the whole call's bound
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
        sent = len(server.requests)
    assert done.returncode == 1
    assert sent == 1
    assert done.stderr.splitlines()[-1] == (
        f"error: {server.base_url} did not answer in time (within the 1 s timeout): try again later, "
        "or raise [llm] timeout"
    )


def test_a_key_echoed_in_batch_api_answers_is_in_no_file_either(tmp_path: Path) -> None:
    from tests.batch_server import BatchServer

    ws = _workspace(tmp_path)
    env = {"OPENAI_API_KEY": KEY}
    with BatchServer(echo=f"(debug: {KEY.upper()})") as server:
        for _ in range(4):
            done = essay("batch", "--defer", "--base-url", server.base_url, cwd=ws, env=env)
            assert done.returncode == 0, done.stderr
            if (ws / "drafts" / "year" / "v001.md").is_file():
                break
    draft = (ws / "drafts" / "year" / "v001.md").read_text(encoding="utf-8")
    assert "answer to " in draft and REMOVED in draft  # written from the batch's answers, the key removed
    for path, text in _every_file(ws).items():
        assert KEY.lower() not in text, path


def test_a_nested_private_flag_in_frontmatter_that_is_not_valid_yaml_still_keeps_the_note_home(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    write(ws / "notes" / "broken.md", "---\nmeta: {private: true, owner: [me\n---\n\nthe layoff list has nine names\n")
    with FakeOpenAIServer() as server:
        done = essay("draft", "prompts/year.md", "--base-url", server.base_url, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert "broken.md: frontmatter is not valid YAML" in done.stderr
    assert "layoff" not in _sent(server)
