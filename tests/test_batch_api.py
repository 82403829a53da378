"""The Batch API path against the loopback batch server, through the real openai SDK; time moves by a ManualClock."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from openai import OpenAI

from pipeline.batch import batch_api
from pipeline.batch.batch_api import BatchLine, SubmissionRecord, collect, submit, to_jsonl
from pipeline.core.errors import LLMError
from tests.batch_server import BatchServer, ManualClock


def _lines(n: int = 6) -> list[BatchLine]:
    return [
        BatchLine(f"s{i}", {"model": "m", "messages": [{"role": "user", "content": f'write the section "Part {i}"'}]})
        for i in range(n)
    ]


def _client(server: BatchServer, key: str = "test") -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key=key, max_retries=0)


@pytest.fixture
def record() -> Iterator[SubmissionRecord]:
    db = sqlite3.connect(":memory:")
    yield SubmissionRecord(db)
    db.close()


def test_to_jsonl_lines_are_batch_requests() -> None:
    rows = [json.loads(raw) for raw in to_jsonl(_lines(2)).splitlines()]
    assert [row["custom_id"] for row in rows] == ["s0", "s1"]
    assert all(row["method"] == "POST" and row["url"] == "/v1/chat/completions" for row in rows)
    assert rows[1]["body"]["messages"][0]["content"] == 'write the section "Part 1"'


def test_round_trip_matches_shuffled_answers_by_custom_id(record: SubmissionRecord) -> None:
    clock = ManualClock()
    with BatchServer(clock, delay=600, validate_seconds=5, cached_tokens=3) as server:
        client = _client(server)
        lines = _lines()
        batch_id = submit(client, lines, record)
        assert server.uploads == [(f"essay-{record.pending()[0].key}.jsonl", to_jsonl(lines))]
        assert collect(client, batch_id).status == "in_progress"
        clock.advance(60)
        assert client.batches.retrieve(batch_id).status == "in_progress"
        assert collect(client, batch_id).answers == {}
        clock.advance(600)
        outcome = collect(client, batch_id)
        batch = client.batches.retrieve(batch_id)
        out = [json.loads(raw)["custom_id"] for raw in server.file_bytes(batch.output_file_id).splitlines()]
        assert sorted(out) == [line.custom_id for line in lines] != out  # every line, not in input order
        assert outcome.status == "completed" and outcome.errors == {}
        assert set(outcome.answers) == {line.custom_id for line in lines}
        for custom_id, answer in outcome.answers.items():
            assert answer.text.endswith(f"Answer to {custom_id}.")
            assert answer.finish_reason == "stop" and answer.completion_tokens > 0 and answer.cached_tokens == 3
        assert batch.metadata == {"essay_submission": record.pending()[0].key}
        assert server.chat_calls == 0


def test_failed_lines_are_errors_for_those_ids_only(record: SubmissionRecord) -> None:
    for style in ("error", "http"):
        with BatchServer(ManualClock(), fail={"s1", "s4"}, fail_style=style) as server:
            client = _client(server)
            outcome = collect(client, submit(client, _lines(), record))
            record.mark_collected(record.pending()[0].key)
            assert outcome.status == "completed"
            assert set(outcome.answers) == {"s0", "s2", "s3", "s5"}
            assert set(outcome.errors) == {"s1", "s4"}
            assert all("refused" in reason and "\n" not in reason for reason in outcome.errors.values())
            assert ("HTTP 400" in outcome.errors["s1"]) == (style == "http")


@pytest.mark.parametrize("listed", [True, False])
def test_expiry_gives_partial_answers_and_errors_for_the_rest(record: SubmissionRecord, listed: bool) -> None:
    clock = ManualClock()
    with BatchServer(clock, delay=86_400, expire=True, partial=0.5, list_unfinished=listed) as server:
        client = _client(server)
        batch_id = submit(client, _lines(), record)
        clock.advance(86_400)
        outcome = collect(client, batch_id)
        assert outcome.status == "expired"
        assert set(outcome.answers) == {"s0", "s1", "s2"}
        assert set(outcome.errors) == {"s3", "s4", "s5"}
        assert all("expired" in reason for reason in outcome.errors.values())


def test_cancelled_batch_keeps_partial_answers(record: SubmissionRecord) -> None:
    with BatchServer(ManualClock(), delay=100, partial=1 / 3) as server:
        client = _client(server)
        batch_id = submit(client, _lines(), record)
        assert client.batches.cancel(batch_id).status == "cancelling"
        outcome = collect(client, batch_id, expected=[line.custom_id for line in _lines()])
        assert outcome.status == "cancelled"
        assert set(outcome.answers) == {"s0", "s1"} and len(outcome.errors) == 4


def test_a_rerun_returns_the_recorded_batch_without_sending_anything(record: SubmissionRecord) -> None:
    with BatchServer(ManualClock()) as server:
        client = _client(server)
        first = submit(client, _lines(), record)
        calls = len(server.calls)
        assert submit(client, _lines(), record) == first
        assert len(server.calls) == calls


def test_crash_after_upload_creates_one_file_and_one_batch(record: SubmissionRecord, monkeypatch) -> None:
    with BatchServer(ManualClock()) as server:
        client = _client(server)
        monkeypatch.setattr(record, "set_batch", _crash)  # killed after the batch was created, before recording it
        with pytest.raises(KeyboardInterrupt):
            submit(client, _lines(), record)
        monkeypatch.undo()
        assert record.pending()[0].file_id and not record.pending()[0].batch_id and len(server.batches) == 1
        batch_id = submit(client, _lines(), record)
        assert len(server.uploads) == 1 and list(server.batches) == [batch_id]
        assert ("GET", "/v1/batches") in server.calls  # found by its metadata, not created again
        assert record.pending()[0].batch_id == batch_id

        other = _lines(3)  # killed after the upload, before the batch was created
        monkeypatch.setattr(client.batches, "create", _crash)
        with pytest.raises(KeyboardInterrupt):
            submit(client, other, record)
        monkeypatch.undo()
        assert len(server.uploads) == 2 and len(server.batches) == 1
        second = submit(client, other, record)
        assert len(server.uploads) == 2 and list(server.batches) == [batch_id, second]


def test_crash_after_intent_only_finds_the_uploaded_file(record: SubmissionRecord, monkeypatch) -> None:
    with BatchServer(ManualClock()) as server:
        client = _client(server)
        monkeypatch.setattr(record, "set_file", _crash)  # the file went up, its id was never recorded
        with pytest.raises(KeyboardInterrupt):
            submit(client, _lines(), record)
        monkeypatch.undo()
        assert record.pending()[0].status == "intent" and len(server.uploads) == 1
        batch_id = submit(client, _lines(), record)
        assert len(server.uploads) == 1 and list(server.batches) == [batch_id]

        monkeypatch.setattr(batch_api, "_upload", _crash)  # killed before the upload: the re-run uploads once
        with pytest.raises(KeyboardInterrupt):
            submit(client, _lines(2), record)
        monkeypatch.undo()
        submit(client, _lines(2), record)
        assert len(server.uploads) == 2 and len(server.batches) == 2


def test_collected_lines_sent_again_start_a_new_round(record: SubmissionRecord) -> None:
    clock = ManualClock()
    with BatchServer(clock, delay=10, expire=True, partial=0.0) as server:
        client = _client(server)
        first = submit(client, _lines(2), record)
        clock.advance(10)
        assert collect(client, first).status == "expired"
        record.mark_collected(record.pending()[0].key)
        assert record.pending() == []
        second = submit(client, _lines(2), record)
        assert second != first and len(server.uploads) == 2
        assert record.pending()[0].round == 2 and record.pending()[0].key.endswith("-2")


def test_a_failed_batch_reports_why_for_every_line(record: SubmissionRecord) -> None:
    with BatchServer(ManualClock()) as server:
        client = _client(server)
        bad = client.files.create(file=("bad.jsonl", b'{"custom_id": "x", "url": "/v1/embeddings"}\n'), purpose="batch")
        batch = client.batches.create(input_file_id=bad.id, endpoint="/v1/chat/completions", completion_window="24h")
        outcome = collect(client, batch.id)
        assert outcome.status == "failed" and outcome.errors == {
            "x": "the batch failed: The url must be /v1/chat/completions."
        }


def test_an_endpoint_without_a_batch_api_gives_one_line(record: SubmissionRecord) -> None:
    with BatchServer(batch_api=False) as server:
        client = _client(server, key="sk-secret-123")
        with pytest.raises(LLMError) as caught:
            submit(client, _lines(), record)
        message = str(caught.value)
        assert message == f"{server.base_url} has no Batch API (404): run without --defer"
        with pytest.raises(LLMError, match=r"batch batch_9 not found .*\(404\)") as caught:
            collect(client, "batch_9")
        assert "sk-secret" not in str(caught.value) and "\n" not in str(caught.value)


def _crash(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt  # what a kill looks like from inside: nothing after this line runs
