"""The whole way: a draft written through the real openai SDK (a loopback fake that invents a name), exported."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from tests.conftest import essay
from tests.fake_server import FakeOpenAIServer

INVENTED = "Priya Raman said the budget was $250,000."


def test_a_fresh_draft_with_an_invented_name_is_refused_then_exports_with_links_that_resolve(workspace: Path) -> None:
    with FakeOpenAIServer(invent=INVENTED) as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, cwd=workspace)
    assert done.returncode == 0, done.stderr
    draft = workspace / "drafts" / "garden" / "v001.md"
    written = draft.read_bytes()

    refused = essay("export", "prompts/garden.md", cwd=workspace)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: drafts/garden/v001.md still has ")
    assert '"priya raman" in ' in refused.stderr and '"$250,000" in ' in refused.stderr

    out = workspace / "site" / "content" / "garden.md"
    ran = essay(
        "export", "prompts/garden.md", "--flags", "drop", "--links", "relative", "--out", str(out), cwd=workspace
    )
    assert ran.returncode == 0, ran.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: what running a community garden taught me\ndate: '")
    assert "priya raman said the budget was $250,000." in text
    for leftover in ("<!-- section:", "==", "^[check", "[[", "provider:"):
        assert leftover not in text, leftover
    assert "warning: 1 link reaches no file in notes: [[Projects/Heron]]\n" in ran.stderr  # the model made it up
    definitions = "\n".join(line for line in text.splitlines() if line.startswith("[^"))
    links = re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", definitions)
    assert links, "the footnotes link the notes"
    for link in links:
        assert (out.parent / unquote(link)).resolve().is_file(), link
    assert draft.read_bytes() == written
