"""A reasoning model (OpenAI's o-series, gpt-5) behind the real SDK: it refuses `max_tokens` and any temperature but
its own, and thinks within the completion cap before it answers. essay adapts once and remembers."""

from __future__ import annotations

from pathlib import Path

import frontmatter
import pytest

from pipeline.core.errors import LLMError
from pipeline.models.providers.openai_chat import REASONING_ROOM, OpenAIChat
from tests.conftest import essay
from tests.fake_server import FakeOpenAIServer


def test_a_draft_from_a_reasoning_model_completes_and_the_second_run_sends_only_what_it_takes(workspace: Path) -> None:
    with FakeOpenAIServer(reasoning=600) as server:
        done = essay("draft", "prompts/garden.md", "--base-url", server.base_url, "--model", "o-mini", cwd=workspace)
        first = list(server.requests)
        again = essay("draft", "prompts/garden.md", "--base-url", server.base_url, "--model", "o-mini", cwd=workspace)
        second = server.requests[len(first) :]
    assert done.returncode == 0, done.stderr
    assert again.returncode == 0, again.stderr
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    assert all(s["fragments"] for s in post["sections"]) and "take" in post.content  # sorted, and written
    refused = [r for r in first if "max_tokens" in r or "temperature" in r]
    assert 1 <= len(refused) <= 3  # learned from the first refusals, not refused call after call
    assert second and all("max_tokens" not in r and "temperature" not in r for r in second)
    # Once it was seen to think, every cap leaves it room to, on top of what the answer needs.
    assert all(r["max_completion_tokens"] > REASONING_ROOM for r in second)


def test_an_answer_cut_off_while_the_model_thought_is_asked_again_with_room_to_think() -> None:
    with FakeOpenAIServer(reasoning=900) as server:
        llm = OpenAIChat(model="o-mini", base_url=server.base_url, api_key="sk-test", modes={})
        answer = llm.complete([{"role": "user", "content": "write a line"}], max_tokens=300, temperature=0.7)
    assert answer.text and answer.finish_reason == "stop" and answer.reasoning_tokens == 900
    caps = [r.get("max_completion_tokens", r.get("max_tokens")) for r in server.requests]
    assert caps[-2:] == [300, 300 + REASONING_ROOM]  # cut off after thinking 300, then room for 900 of thought


def test_openais_own_api_is_sent_the_current_name_of_the_cap() -> None:
    llm = OpenAIChat(model="gpt-4o-mini", base_url="https://api.openai.com/v1", api_key="sk-test", modes={})
    request = llm._request([{"role": "user", "content": "hi"}], 100, 0.7)
    assert request["max_completion_tokens"] == 100 and "max_tokens" not in request
    local = OpenAIChat(model="m", base_url="http://127.0.0.1:9/v1", api_key="x", modes={})
    assert local._request([{"role": "user", "content": "hi"}], 100, 0.7)["max_tokens"] == 100  # llama.cpp, Ollama


class RefusesThenBadRequest(FakeOpenAIServer):
    """A reasoning model that, once its parameters are right, refuses the request for another reason."""

    def answer(self, body, fault=None, key=""):  # type: ignore[no-untyped-def]
        if "max_tokens" in body or "temperature" in body:
            return super().answer(body, fault, key)
        return 400, {"error": {"message": "Invalid prompt: flagged", "type": "invalid_request_error"}}


def test_a_bad_request_after_adapting_is_not_reported_as_after_retries() -> None:
    with RefusesThenBadRequest(reasoning=100) as server:
        llm = OpenAIChat(model="o-mini", base_url=server.base_url, api_key="sk-test", modes={})
        with pytest.raises(LLMError) as failed:
            llm.complete([{"role": "user", "content": "hi"}], max_tokens=50)
    said = str(failed.value)
    assert said.startswith(f"{server.base_url.rstrip('/')} answered HTTP 400: ") and "Invalid prompt: flagged" in said
    assert "after retries" not in said  # the adapted requests were new requests, not retries
