"""`run.py voice`: the habits `essay voice` finds in the labeled voice set, and what a fresh draft keeps of them.

The set (`voice_set/`, written by `voice_set/make_set.py`, fixed seed): 36 sections as a model wrote them and as
the author edited them, with 13 planted habits and one-off noise edits (labels.json). Reported:
- recall: planted habits found as a rule (goal 80%, moonshot 95%);
- false rules: rules that are no planted habit, per 10 rules (goal at most 1, moonshot none);
- the same on the first half of the set alone (18 sections: fewer edits to learn from);
- planted words left: a fake model writes every planted word into each section of a fresh draft; the rules
  `essay voice` wrote to voice.md are sent and applied (goal: none left), against none applied.
Under a second on any machine. Never part of the tests.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.voice_set.make_set import build
from pipeline.collect.notes import Fragment
from pipeline.collect.prompt import Prompt, Section
from pipeline.models.llm import Completion
from pipeline.voice.mine import MIN_SEEN, mine_rules
from pipeline.voice.pairs import EditPair
from pipeline.voice.rules import Voice, load_voice
from pipeline.voice.voicefile import rebuild_voice
from pipeline.write.expand import Writing, expand_sections
from pipeline.write.finish import Finishing

SET = Path(__file__).resolve().parent / "voice_set"
OTHER_SEEDS = (1, 2, 3, 4, 5)
RECALL_GOAL, FALSE_PER_10_GOAL = 0.8, 1.0
# What the fake model writes, every planted habit in it: each section of the fresh draft is this.
MODEL_PROSE = (
    "Honestly, we utilize the shed for everything — it was truly a testament to the team. "
    "I wanted to delve into why; we leverage it daily. It was incredibly slow. [f1]"
)
PLANTED_WORDS = ("honestly", "utilize", "truly", "a testament to", "delve", "leverage", "incredibly", "—", ";")


def load_set() -> list[tuple[EditPair, dict[str, int]]]:
    """Each pair, with how many times each habit was planted in it."""
    labels = json.loads((SET / "labels.json").read_text(encoding="utf-8"))
    pairs = []
    for number, meta in labels["pairs"].items():
        generated = (SET / "pairs" / f"{number}.generated.md").read_text(encoding="utf-8").strip()
        edited = (SET / "pairs" / f"{number}.edited.md").read_text(encoding="utf-8").strip()
        pairs.append((EditPair(generated, edited, number), meta["habits"]))
    return pairs


def planted_habits(labeled: list[tuple[EditPair, dict[str, int]]]) -> set[str]:
    """The habits these pairs show: planted MIN_SEEN times or more (fewer is no habit, by the issue's measure)."""
    times: dict[str, int] = {}
    for _, habits in labeled:
        for key, count in habits.items():
            times[key] = times.get(key, 0) + count
    return {key for key, count in times.items() if count >= MIN_SEEN}


def score_built(built: list[tuple[str, str, dict[str, object]]]) -> tuple[float, int, int, list[str], list[str]]:
    labeled = [(EditPair(g.strip(), e.strip(), str(n)), dict(meta["habits"])) for n, (g, e, meta) in enumerate(built)]
    return score([p for p, _ in labeled], planted_habits(labeled))  # type: ignore[arg-type]


def score(pairs: list[EditPair], habits: set[str]) -> tuple[float, int, int, list[str], list[str]]:
    """(recall, rules, false rules, habits missed, the false rules' lines)."""
    rules = mine_rules(pairs)
    keys = {r.key for r in rules}
    missed = sorted(habits - keys)
    false = [r.line for r in rules if r.key not in habits]
    return (len(habits) - len(missed)) / len(habits), len(rules), len(false), missed, false


class _HabitModel:
    """A model that writes every planted word, whatever it is told."""

    provider, model, endpoint, sends_over_http, can_sort, context_window = "fake", "habits", "fake", False, True, 8192

    def __init__(self) -> None:
        self.systems: list[str] = []

    def complete(self, messages, **options) -> Completion:  # type: ignore[no-untyped-def]
        self.systems.append(messages[0]["content"])
        return Completion(MODEL_PROSE, prompt_tokens=0, completion_tokens=0, finish_reason="stop")


def _count(words: tuple[str, ...], text: str) -> int:
    patterns = [rf"(?<!\w){re.escape(w)}(?!\w)" if w[0].isalnum() else re.escape(w) for w in words]
    return sum(len(re.findall(p, text)) for p in patterns)


def words_left(voice: Voice | None) -> tuple[int, int, int, int, bool]:
    """In a fresh four-section draft: (planted words left, planted words the model wrote, words of voice.md's
    mechanical rules left, how many of them the model wrote, whether every call carried every rule)."""
    sections = tuple(Section(f"s{n}", f"section {n}", "") for n in range(1, 5))
    prompt = Prompt(Path("prompt.md"), "t", "an essay", sections)
    note = Fragment("n1", "shed.md", "shed", None, (), "we keep every tool in the shed")
    llm = _HabitModel()
    writing = Writing(finishing=Finishing(None, False, (), voice), concurrency=1)
    draft = expand_sections(prompt, {s.slug: [note] for s in sections}, llm, writing)
    text = "\n".join(s.text for s in draft.sections).lower()
    banned = tuple(rule.old for rule in voice.mechanical) if voice else ()
    written = _count(PLANTED_WORDS, MODEL_PROSE.lower()) * len(sections)
    banned_written = _count(banned, MODEL_PROSE.lower()) * len(sections)
    carried = voice is not None and all(all(rule in s for rule in voice.instructions) for s in llm.systems)
    return _count(PLANTED_WORDS, text), written, _count(banned, text), banned_written, carried


def run() -> list[tuple[str, str]]:
    labeled = load_set()
    pairs = [pair for pair, _ in labeled]
    habits = planted_habits(labeled)
    rows = [("voice set", f"{len(pairs)} pairs, {len(habits)} planted habits (each planted {MIN_SEEN}+ times)")]
    for label, subset in (("all 36 sections", labeled), ("first 18 sections", labeled[:18])):
        recall, count, false, missed, false_lines = score([p for p, _ in subset], planted_habits(subset))
        per_10 = 10 * false / count if count else 0.0
        met = recall >= RECALL_GOAL and per_10 <= FALSE_PER_10_GOAL
        detail = f"; missed {', '.join(missed)}" if missed else ""
        detail += f"; false: {' | '.join(false_lines)}" if false_lines else ""
        rows.append(
            (
                f"voice: habits found, {label}",
                f"recall {recall:.0%} of {len(planted_habits(subset))}, {count} rules, {false} false "
                f"({per_10:.1f} in 10){detail} "
                f"(goal 80%, <= 1 in 10: {'met' if met else 'not met'})",
            )
        )
    # The thresholds were set looking at the set above; sets made the same way with other seeds were not seen.
    tallies = [score_built(build(seed)) for seed in OTHER_SEEDS]
    recall = sum(t[0] for t in tallies) / len(tallies)
    rules, false = sum(t[1] for t in tallies), sum(t[2] for t in tallies)
    rows.append(
        (
            f"voice: {len(OTHER_SEEDS)} more sets made with other seeds, unseen",
            f"mean recall {recall:.0%}, {false} false of {rules} rules ({10 * false / max(1, rules):.1f} in 10); "
            f"missed: {', '.join(sorted({m for t in tallies for m in t[3]})) or 'none'}",
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rebuild_voice(root, root / ".essay", mine_rules(pairs))  # as `essay voice` writes voice.md
        voice = load_voice(root)
    left, written, banned_left, banned_written, carried = words_left(voice)
    baseline = words_left(None)[0]
    rows.append(
        (
            "voice: a fresh draft from a model that writes the planted words",
            f"words of voice.md's rules left: {banned_left} of {banned_written} (goal 0: "
            f"{'met' if banned_left == 0 else 'not met'}); all planted words left: {left} of {written} "
            f"(without voice.md: {baseline}); every writing call carried every rule: {'yes' if carried else 'no'}",
        )
    )
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"| {name} | {value} |")
