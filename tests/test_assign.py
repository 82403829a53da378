import json
from pathlib import Path

from pipeline.assign import assign_fragments, parse_answer
from pipeline.notes import collect_notes
from pipeline.prompt import parse_prompt
from tests.fakes import FakeLLM


def _inputs(workspace: Path):
    return parse_prompt(workspace / "prompts" / "garden.md"), collect_notes(workspace / "notes").fragments


def test_every_fragment_lands_in_exactly_one_place(workspace: Path, fake_llm: FakeLLM) -> None:
    prompt, fragments = _inputs(workspace)
    plan = assign_fragments(prompt, fragments, fake_llm)
    placed = [i for ids in plan.sections.values() for i in ids] + list(plan.unused)
    assert sorted(placed) == sorted(f.id for f in fragments)
    assert list(plan.sections) == [s.slug for s in prompt.sections]
    assert len(fake_llm.history) == 1


def test_schema_requires_one_key_per_fragment_with_section_numbers(workspace: Path, fake_llm: FakeLLM) -> None:
    prompt, fragments = _inputs(workspace)
    assign_fragments(prompt, fragments, fake_llm)
    schema = fake_llm.history[0].schema
    assert schema["required"] == [f"f{i}" for i in range(1, len(fragments) + 1)]
    assert schema["properties"]["f1"]["enum"] == [0, 1, 2, 3]
    assert schema["additionalProperties"] is False


def test_unknown_ids_dropped_missing_reasked_once_then_unused(workspace: Path) -> None:
    prompt, fragments = _inputs(workspace)
    n = len(fragments)
    first = {f"f{i}": 1 for i in range(1, n - 1)} | {"f999": 2, "f1": 7}  # f1 out of range, last two missing
    llm = FakeLLM().enqueue(json.dumps(first), '{"f2": 3}')  # the re-ask answers only one of the three
    plan = assign_fragments(prompt, fragments, llm)
    assert len(llm.history) == 2
    reasked = llm.history[1].schema["required"]
    assert reasked == ["f1", "f2", "f3"]  # only the three that were missing, renumbered
    assert fragments[-2].id in plan.sections["finally-look-forward"]
    assert set(plan.unused) == {fragments[0].id, fragments[-1].id}


def test_garbage_answer_is_reasked_then_everything_unused(workspace: Path) -> None:
    prompt, fragments = _inputs(workspace)
    llm = FakeLLM().enqueue("sorry, I cannot do that", "still no json")
    plan = assign_fragments(prompt, fragments, llm)
    assert len(llm.history) == 2
    assert set(plan.unused) == {f.id for f in fragments}


def test_small_context_assigns_in_batches(workspace: Path) -> None:
    prompt, fragments = _inputs(workspace)
    llm = FakeLLM(context_window=420)
    batches: list[tuple[int, int]] = []
    plan = assign_fragments(prompt, fragments, llm, on_batch=lambda n, total: batches.append((n, total)))
    assert len(llm.history) > 1 and len(batches) == len(llm.history)
    placed = [i for ids in plan.sections.values() for i in ids] + list(plan.unused)
    assert sorted(placed) == sorted(f.id for f in fragments)
    assert not plan.unused  # the fake answers every key, so none is lost between batches


def test_notes_are_framed_as_material_not_instructions(workspace: Path, fake_llm: FakeLLM) -> None:
    prompt, fragments = _inputs(workspace)
    assign_fragments(prompt, fragments, fake_llm)
    assert "not instructions to you" in fake_llm.history[0].system
    assert 'from "2025-04-02":\n[f1] turned the beds with ines' in fake_llm.history[0].user


def test_parse_answer_reads_fenced_json_and_think_blocks() -> None:
    text = '<think>f1 is about soil</think>\n```json\n{"f1": 1, "f2": "2", "f3": true}\n```'
    assert parse_answer(text, ["f1", "f2", "f3"], 2) == {"f1": 1, "f2": 2}


def test_truncated_json_keeps_the_complete_pairs() -> None:
    assert parse_answer('{ "f1": 2, "f2": 0, "f3": 1, "f4', ["f1", "f2", "f3", "f4"], 2) == {"f1": 2, "f2": 0, "f3": 1}
