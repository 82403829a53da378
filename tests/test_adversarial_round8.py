"""An adversarial run of round eight's changes: each test is a way a writer's real material or a real endpoint
broke one of them (tags, a cut-off answer, reasoning models directly and on the Batch API), fixed since."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import frontmatter
import pytest

from pipeline.collect.notes import collect_notes
from pipeline.collect.prompt import parse_prompt
from pipeline.core.errors import LLMError
from pipeline.models.providers.openai_chat import OpenAIChat
from pipeline.write.expand import Writing, expand_sections
from tests.batch_server import BatchServer, ManualClock
from tests.conftest import essay, write
from tests.fake_server import FakeOpenAIServer, _error
from tests.fakes import FakeLLM

HI = [{"role": "user", "content": "write a line about the garden"}]


# 1. collect/fragments.py: a line of tags alone is the note's tags, not a fragment.


def test_a_line_of_non_ascii_tags_still_gives_the_note_its_tags(tmp_path: Path) -> None:
    write(tmp_path / "2026-08-11.md", "- sat in the shop for an hour\n- visited dad\n\n#über #日記 #ñandú\n")
    fragments = collect_notes(tmp_path).fragments
    assert [f.text for f in fragments] == ["- sat in the shop for an hour", "- visited dad"]
    assert all({"über", "日記", "ñandú"} <= set(f.tags) for f in fragments)


# 4. write/expand.py: an answer cut off at max_tokens ends at its last whole sentence.


class CutOff(FakeLLM):
    """A model that ran out of tokens on its first answer."""

    def complete(self, messages, **options):  # type: ignore[no-untyped-def]
        reply = super().complete(messages, **options)
        return replace(reply, finish_reason="length") if len(self.history) == 1 else reply


def _first_section(workspace: Path, answer: str) -> str:
    """The first section of the garden essay written from `answer`, cut off; its notes are people.md (f1) and
    2025-04-02.md (f2)."""
    prompt = parse_prompt(workspace / "prompts" / "garden.md")
    fragments = collect_notes(workspace / "notes").fragments
    people = next(f for f in fragments if f.note_path == "people.md")
    clay = next(f for f in fragments if f.note_path == "2025-04-02.md")
    plan = {"start-with-the-ground": [people, clay], "then-the-people": [], "finally-look-forward": []}
    draft = expand_sections(prompt, plan, CutOff().enqueue(answer), Writing(concurrency=1))
    return draft.sections[0].text


def _prose(text: str) -> str:
    """The section without its footnotes and the grounding check's marks."""
    body = text.split("[^start-with-the-ground-1]", 1)[0]
    return re.sub(r"==|\^\[check:[^\]]*\]", "", body).rstrip()


def test_a_cut_answer_does_not_end_on_an_abbreviation_eg(workspace: Path) -> None:
    text = _first_section(workspace, "We tried a lot of things, e.g. compost and mulch and the")
    assert not _prose(text).endswith("e.g.")


def test_a_cut_answer_does_not_end_on_an_abbreviated_title(workspace: Path) -> None:
    text = _first_section(workspace, "I called Dr. Ruiz about the soil and she said the")
    assert not _prose(text).endswith("dr.")


def test_a_cut_answer_keeps_a_whole_sentence_that_ends_in_a_curly_quote(workspace: Path) -> None:
    answer = "The clay was bad. Marguerite said “we dig again friday.” And then we dug through the"
    assert "we dig again friday.”" in _first_section(workspace, answer)


def test_a_cut_numbered_list_does_not_end_on_a_bare_number(workspace: Path) -> None:
    text = _first_section(workspace, "What the ground taught me:\n\n1. Patience with clay\n2. The soil is never")
    assert not re.search(r"(^|\n)\s*2\.$", _prose(text))


def test_a_cut_answer_keeps_the_citation_of_the_paragraph_before_the_cut(workspace: Path) -> None:
    text = _first_section(workspace, "The beds were hard work. [f1]\n\nAnd then we dug and dug through the clay and")
    assert "[^start-with-the-ground-1]: [[people]]" in text


def test_a_cut_answer_keeps_the_whole_list_before_the_cut_paragraph(workspace: Path) -> None:
    answer = (
        "The clay was bad.\n\nWhat I would do again:\n\n- start the seeds indoors\n- ask ines before digging\n\n"
        "And then we dug and dug through the"
    )
    assert "ask ines before digging" in _first_section(workspace, answer)


# 5. models/providers/openai_chat.py: reasoning models.


class CappedServer(FakeOpenAIServer):
    """An Azure OpenAI deployment of gpt-4 (api-version 2024-08-01-preview and older): OpenAI's own 400 for a cap
    past the model's 4,096 output tokens, and no `max_completion_tokens` at all."""

    def answer(self, body: dict[str, Any], fault: str | None = None, key: str = "") -> tuple[int, dict[str, Any]]:
        if "max_completion_tokens" in body:
            return 400, _error("Unrecognized request argument supplied: max_completion_tokens")
        if body.get("max_tokens", 0) > 4096:
            cap = body["max_tokens"]
            message = (
                f"max_tokens is too large: {cap}. This model supports at most 4096 completion tokens, "
                f"whereas you provided {cap}."
            )
            return 400, _error(message, param="max_tokens")
        return super().answer(body, fault, key)


def test_a_cap_too_large_is_not_taken_for_a_refused_parameter() -> None:
    with CappedServer() as server:
        llm = OpenAIChat(model="gpt-4", base_url=server.base_url, api_key="sk-test", modes={})
        with pytest.raises(LLMError) as too_long:
            llm.complete(HI, max_tokens=5064)  # a 2,500-word section: answer_budget(2500)
        assert "max_tokens is too large" in str(too_long.value)
        assert llm.complete(HI, max_tokens=300).text  # a short section still works afterwards


class LiteLLMProxy(FakeOpenAIServer):
    """A LiteLLM proxy in front of an o-series model: it refuses a temperature in its own words."""

    def answer(self, body: dict[str, Any], fault: str | None = None, key: str = "") -> tuple[int, dict[str, Any]]:
        if body.get("temperature", 1) != 1:
            message = (
                f"litellm.UnsupportedParamsError: O-series models don't support temperature={body['temperature']}. "
                "Only temperature=1 is supported. To drop unsupported openai params from the call, set "
                "`litellm.drop_params = True`"
            )
            return 400, {"error": {"message": message, "type": "None", "param": "None", "code": "400"}}
        return super().answer(body, fault, key)


def test_a_temperature_refused_in_litellms_words_is_left_out() -> None:
    with LiteLLMProxy() as server:
        llm = OpenAIChat(model="o3-mini", base_url=server.base_url, api_key="sk-test", modes={})
        assert llm.complete(HI, max_tokens=300, temperature=0.7).text
    assert "temperature" not in server.requests[-1]


class SmallContextReasoner(FakeOpenAIServer):
    """vLLM serving a reasoning model (--reasoning-parser, --max-model-len 4096): it takes max_tokens and any
    temperature, reports its thinking as reasoning_tokens, and refuses a request whose prompt and cap pass 4,096."""

    def answer(self, body: dict[str, Any], fault: str | None = None, key: str = "") -> tuple[int, dict[str, Any]]:
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        cap = body.get("max_tokens") or body.get("max_completion_tokens") or 0
        if prompt + cap > 4096:
            message = (
                f"This model's maximum context length is 4096 tokens. However, you requested {prompt + cap} tokens "
                f"({prompt} in the messages, {cap} in the completion). Please reduce the length of the messages or "
                "completion."
            )
            return 400, _error(message)
        status, payload = super().answer(body, fault, key)
        payload["usage"]["completion_tokens_details"] = {"reasoning_tokens": 120}
        return status, payload


def test_room_to_think_never_pushes_a_call_past_the_context_window() -> None:
    with SmallContextReasoner() as server:
        llm = OpenAIChat(model="qwen3-8b", base_url=server.base_url, api_key="x", context_window=4096, modes={})
        assert llm.complete(HI, max_tokens=300).text
        assert llm.complete(HI, max_tokens=300).text  # the same small call, once it was seen to think


class ReasoningBatchServer(BatchServer):
    """The Batch API with a reasoning model behind it: each line is answered as a direct call to the same model
    would be (refused `max_tokens`/temperature by name, thinking within the cap)."""

    def __init__(self, *args: Any, refuse: bool = True, thinks: int = 0, **knobs: Any) -> None:
        super().__init__(*args, fail_style="http", **knobs)
        self.refuse, self.thinks = refuse, thinks
        self.why: dict[str, dict[str, Any]] = {}

    def _settle(self, batch: Any, status: str) -> None:
        self.why = {}
        for line in batch.lines:
            body = line["body"]
            if self.refuse and "max_tokens" in body:
                message = "Unsupported parameter: 'max_tokens' is not supported with this model."
                self.why[line["custom_id"]] = _error(message, param="max_tokens", code="unsupported_parameter")
            elif self.refuse and body.get("temperature", 1) != 1:
                message = f"Unsupported value: 'temperature' does not support {body['temperature']} with this model."
                self.why[line["custom_id"]] = _error(message, param="temperature", code="unsupported_value")
        self.knobs.fail = set(self.why)
        super()._settle(batch, status)

    def _failure(self, custom_id: str) -> dict[str, Any]:
        return self._line(custom_id, {"status_code": 400, "body": self.why[custom_id]}, None)

    def _answer(self, body: dict[str, Any], tag: str) -> dict[str, Any]:
        answer = super()._answer(body, tag)
        if self.thinks:
            cap = body.get("max_completion_tokens") or body.get("max_tokens") or 1_000_000
            choice = answer["choices"][0]
            if self.thinks >= cap:  # it thought until the cap: no answer, cut off
                choice["message"]["content"], choice["finish_reason"] = "", "length"
            answer["usage"]["completion_tokens_details"] = {"reasoning_tokens": min(self.thinks, cap)}
        return answer


def _defer_until_written(workspace: Path, server: BatchServer, clock: ManualClock, runs: int = 8) -> list[str]:
    """`essay batch --defer` run again as each batch ends, as a writer would, until both drafts exist; the
    stderr of every run."""
    said = []
    for _ in range(runs):
        ran = essay("batch", "--defer", "--base-url", server.base_url, "--model", "o3-mini", cwd=workspace)
        said.append(ran.stderr)
        if all((workspace / "drafts" / name / "v001.md").exists() for name in ("garden", "compost")):
            break
        clock.advance(10)
    return said


def test_a_reasoning_model_on_the_batch_api_gets_its_drafts(workspace: Path) -> None:
    clock = ManualClock()
    with ReasoningBatchServer(clock, delay=10) as server:
        said = _defer_until_written(workspace, server, clock)
    assert (workspace / "drafts" / "garden" / "v001.md").exists(), said[-1]
    post = frontmatter.load(workspace / "drafts" / "garden" / "v001.md")
    assert post["sections"] and server.chat_calls == 0


def test_a_batch_answer_cut_off_while_thinking_is_asked_again_with_room(workspace: Path) -> None:
    clock = ManualClock()
    with ReasoningBatchServer(clock, delay=10, refuse=False, thinks=4000) as server:
        said = _defer_until_written(workspace, server, clock)
    assert (workspace / "drafts" / "garden" / "v001.md").exists(), said[-1]


class EmptyTwiceBatchServer(BatchServer):
    """The Batch API answering every line of its first two batches with an empty message, then as usual."""

    def __init__(self, *args: Any, **knobs: Any) -> None:
        super().__init__(*args, **knobs)
        self.settled = 0

    def _settle(self, batch: Any, status: str) -> None:
        self.settled += 1
        super()._settle(batch, status)

    def _answer(self, body: dict[str, Any], tag: str) -> dict[str, Any]:
        answer = super()._answer(body, tag)
        if self.settled <= 2:
            answer["choices"][0]["message"]["content"] = ""
        return answer


def test_an_empty_batch_answer_is_asked_again_and_never_fails_its_essay(workspace: Path) -> None:
    clock = ManualClock()
    with EmptyTwiceBatchServer(clock, delay=10) as server:
        said = _defer_until_written(workspace, server, clock, runs=10)
    assert (workspace / "drafts" / "garden" / "v001.md").exists(), said[-1]
    assert not any("refused one of its calls" in s for s in said)
