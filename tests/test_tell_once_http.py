"""Each story once over HTTP: the real openai SDK against a loopback server whose model writes its notes back.

The story's note and the author's own paragraph about it are planned into two sections; the endpoint can
rewrite (an OpenAI-compatible model is taken as capable), so the draft tells the story once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import essay
from tests.fake_server import FakeOpenAIServer
from tests.test_tell_once import REWRITE, _section, planned  # noqa: F401  (planned is a fixture)

_NOTE_LINE = re.compile(r'^\[(f\d+)\] (?:\(under "[^"]*"\) )?(.+)$', re.M)
_SHARED_LINE = re.compile(r'^(f\d+): (?:\(under "[^"]*"\) )?(.+)$', re.M)


class EchoServer(FakeOpenAIServer):
    """Writes each note of a writing call back as a cited paragraph; asked to rewrite a retelling, answers REWRITE."""

    def answer(self, body: dict[str, Any], fault: str | None = None, key: str = "") -> tuple[int, dict[str, Any]]:
        status, payload = super().answer(body, fault, key)
        user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
        if status == 200 and body.get("response_format") is None and "goes in exactly one list" not in user:
            if "tells the same story again" in user:
                text = REWRITE
            elif asked := re.search(r"from notes (.+?)\. cite only", user):  # every call opens with all the notes
                notes = dict(_SHARED_LINE.findall(body["messages"][0]["content"]))
                text = "\n\n".join(f"{notes[k]} [{k}]" for k in asked[1].split(", ") if k in notes)
            else:
                text = "\n\n".join(f"{t} [{k}]" for k, t in _NOTE_LINE.findall(user))
            payload["choices"][0]["message"]["content"] = text
        return status, payload


@pytest.mark.parametrize("settings", ["", "[llm]\nslots = 4\n"], ids=["calls-share-the-notes", "each-its-own"])
def test_over_http_the_draft_tells_the_story_once(planned: Path, settings: str) -> None:  # noqa: F811
    (planned / "essay.toml").write_text(settings, encoding="utf-8")
    with EchoServer() as server:
        done = essay("draft", "prompts/fleet.md", "--base-url", server.base_url, cwd=planned)
        asked = [r["messages"][-1]["content"] for r in server.requests]
    assert done.returncode == 0, done.stderr
    assert any("from notes" in a for a in asked) == (settings == "")  # the layout the case names
    assert "1 paragraphs told a story an earlier section tells: written without it" in done.stderr.splitlines()
    rewrites = [a for a in asked if "tells the same story again" in a]
    assert len(rewrites) == 1 and "sixth call was priya again" in rewrites[0]
    draft = (planned / "drafts" / "fleet" / "v001.md").read_text(encoding="utf-8")
    system = _section(draft, "examine the system itself")
    assert "sixth call was priya again" in _section(draft, "start with what you observed")
    assert "six calls" not in system and REWRITE in system and "check:" not in draft
