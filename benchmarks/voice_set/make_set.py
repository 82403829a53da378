"""Writes the labeled voice set: 36 sections as a model wrote them and as the author edited them (fixed seed).

`python benchmarks/voice_set/make_set.py` rewrites pairs/ and labels.json. The base paragraphs are the author's
own register (lowercase, plain); slots in them are where a model puts its habits. Each section is two or three
base paragraphs. What a model writes: a slot's model form (usually), "honestly, " before some sentences, an
announcing first line, a summing-up last line, a list where the author writes a run of items, short sentences
run together. What the author makes of it: their own form, mostly (now and then they miss one), and one-off
edits that are no habit: a word swapped once, a sentence cut, a line of their own added, a sentence reworked at
random (words dropped, one changed), and two words ("actually", "really") they cut only now and then.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 26
PAIRS = 36
MODEL_RATE = 0.75  # how often the model fills a slot with its habit
FIXED_RATE = 0.92  # how often the author undoes one they meet

# slot -> (the model's forms, the author's form)
SLOTS = {
    "use": (["utilize", "leverage"], "use"),
    "adv": (["truly ", "incredibly "], ""),
    "dash": ([" — "], ", "),
    "semi": (["; "], ". "),
    "dig": (["delve"], "dig"),
    "proof": (["a testament to"], "proof of"),
    "maybe": (["actually "], ""),  # decoy: the author cuts it now and then only
    "very": (["really "], ""),  # decoy
}
DECOY_FIXED_RATE = 0.3

HABITS = {
    "avoid:honestly": 'cuts "honestly"',
    "avoid:truly": 'cuts "truly"',
    "avoid:incredibly": 'cuts "incredibly"',
    "replace:utilize": 'writes "use" for "utilize"',
    "replace:leverage": 'writes "use" for "leverage"',
    "replace:delve": 'writes "dig" for "delve"',
    "replace:a testament to": 'writes "proof of" for "a testament to"',
    "replace:—": "makes an em dash a comma",
    "replace:;": "makes a semicolon a full stop",
    "opening": "cuts an opening line that announces the section",
    "closing": "cuts a closing line that sums up",
    "lists-to-prose": "writes a list as prose",
    "sentences": "keeps sentences short where the model ran them together",
}

BASE = [
    "we moved the beds in april. the clay was worse than we thought{dash}so we bought twelve bags of compost. "
    "it took a whole weekend to {use} all of it. my back still remembers it.",
    "marguerite watered every tuesday. nobody asked her to{semi}she just did it. "
    "that was {proof} how a garden runs on people who show up.",
    "the tomatoes went in too early. a late frost took half of them in one night. "
    "it was {adv}hard to watch. we replanted in may and said nothing about it.",
    "next spring we start the seedlings indoors. we will {use} the shelf by the window{dash}the one nobody sits near. "
    "it gets the morning sun.",
    "i wanted to {dig} into why people stopped coming. it was not the weather. "
    "it was the group chat{semi}it had turned into a place for complaints.",
    "my first month on the team was mostly listening. i sat in every standup and wrote down the names of things. "
    "{maybe}half of them were acronyms. i kept a glossary in my notes app and learned to {use} it daily.",
    "the on-call rotation taught me more than any design review. you learn a system when it breaks at 3am. "
    "you learn the people too{dash}who answers and who goes quiet.",
    "we had to {use} the old dashboards for a quarter. they were slow and {adv}confusing. "
    "but they were the only ones that leadership trusted.",
    "capacity planning is mostly spreadsheets. the spreadsheets are mostly arguments. "
    "every number has an owner{semi}every owner has a reason the number is wrong.",
    "i learned to write shorter emails. a long email gets skimmed{dash}people {use} the subject line and move on. "
    "a short one gets an answer. "
    "that alone was worth the first year.",
    "the reorg came in the spring. nobody on my team lost their job{dash}but everyone lost a manager. "
    "it was {very}strange to rebuild trust from zero.",
    "i want to {dig} into the gates. there were approvals for everything. "
    "each one made sense alone. together they made a week out of an afternoon.",
    "my manager gave me one piece of advice that stuck. write down what you decided and why. "
    "the why is what people forget{semi}the what is in the tickets anyway.",
    "the launch slipped twice. it was {adv}painful. the second time it was my fault. "
    "i had not asked the storage team early enough. it was {proof} how much of this job is asking early.",
    "i got better at saying no. not to people but to priorities. "
    "a team that says yes to everything ships nothing{dash}i watched it happen twice.",
    "the best meetings i went to had no slides. someone wrote the question on a whiteboard. "
    "we {use} the hour to argue about it. we left with a decision.",
    "compost is slow. you turn it and wait and turn it again. "
    "it is {adv}humbling for someone who likes to see progress every day.",
    "the kids liked the peas {adv}best. tomás brought his two every saturday. "
    "they ate more than they picked{semi}nobody minded.",
    "looking back, the garden and the job taught me the same thing. systems run on small habits. "
    "{maybe}nobody notices them until they stop.",
    "i do not know yet what kind of lead i want to be. i know what i want to keep. "
    "write it down. ask early. leave the room with a decision.",
]
LISTS = [
    ("we grew", ["tomatoes", "peas", "beans", "squash"]),
    ("the first week i read", ["the runbooks", "the incident reviews", "the org chart", "the budget"]),
    ("what i want to carry with me", ["short emails", "written decisions", "asking early"]),
]
OPENINGS = [
    "in this section, i want to talk about {topic}.",
    "let me start by looking at {topic}.",
    "this part is about {topic}.",
]
CLOSINGS = [
    "overall, {topic} taught me a lot.",
    "in the end, it all comes back to {topic}.",
    "all in all, {topic} shaped how i work.",
]
TOPICS = ["the garden", "the team", "the first year", "the people", "the work", "what i learned"]
NOISE_SWAPS = [
    ("weekend", "saturday"),
    ("whole", "full"),
    ("slow", "sluggish"),
    ("advice", "counsel"),
    ("spring", "springtime"),
    ("shorter", "tighter"),
    ("decision", "plan"),
    ("arguments", "fights"),
    ("confusing", "messy"),
    ("quarter", "season"),
    ("glossary", "cheat sheet"),
    ("names", "words"),
]
REWORK_WORDS = ["somehow", "basically", "still", "just", "mostly", "then", "again"]
OWN_LINES = ["i still think about that.", "more on this later.", "ines would disagree."]


def _fill(text: str, rng: random.Random, habits: Counter[str]) -> tuple[str, str]:
    """(the model's text, the author's text) of one base paragraph."""
    generated, edited = [], []
    position = 0
    for slot in re.finditer(r"\{(\w+)\}", text):
        generated.append(text[position : slot.start()])
        edited.append(text[position : slot.start()])
        forms, own = SLOTS[slot[1]]
        if rng.random() < MODEL_RATE:
            model = rng.choice(forms)
            fixed = rng.random() < (DECOY_FIXED_RATE if slot[1] in ("maybe", "very") else FIXED_RATE)
            generated.append(model)
            edited.append(own if fixed else model)
            if fixed and slot[1] not in ("maybe", "very"):
                habits[_habit_of(slot[1], model)] += 1
        else:
            generated.append(own)
            edited.append(own)
        position = slot.end()
    generated.append(text[position:])
    edited.append(text[position:])
    return "".join(generated), "".join(edited)


def _habit_of(slot: str, model: str) -> str:
    if slot in ("use", "dig", "proof"):
        return f"replace:{model}"
    if slot == "adv":
        return f"avoid:{model.strip()}"
    return {"dash": "replace:—", "semi": "replace:;"}[slot]


def _sentences(paragraph: str) -> list[str]:
    return re.findall(r"[^.!?]+[.!?]", paragraph)


def _run_together(paragraph: str, rng: random.Random) -> str:
    """Two pairs of short sentences made one each: "x. y." -> "x, and y." (the author keeps them apart)."""
    sentences = [s.strip() for s in _sentences(paragraph)]
    for _ in range(2):
        joints = [i for i in range(len(sentences) - 1) if not re.match(r"(but|and|so)\b", sentences[i + 1])]
        if not joints:
            break
        i = rng.choice(joints)
        sentences[i : i + 2] = [sentences[i][:-1] + ", and " + sentences[i + 1]]
    return " ".join(sentences)


def make_pair(number: int, rng: random.Random, swapped: set[str]) -> tuple[str, str, dict[str, object]]:
    habits: Counter[str] = Counter()
    noise: list[str] = []
    chosen = rng.sample(range(len(BASE)), rng.choice([2, 2, 3]))
    gen_paragraphs, edit_paragraphs = [], []
    for index in chosen:
        generated, edited = _fill(BASE[index], rng, habits)
        gen_paragraphs.append(generated)
        edit_paragraphs.append(edited)
    if rng.random() < 0.3:  # the model runs short sentences together; the author keeps them short
        gen_paragraphs = [_run_together(p, rng) for p in gen_paragraphs]
        habits["sentences"] += 1
    if rng.random() < 0.6:  # "honestly, " before one or two sentences
        for _ in range(rng.choice([1, 2])):
            k = rng.randrange(len(gen_paragraphs))
            sentences = _sentences(gen_paragraphs[k])
            s = rng.randrange(len(sentences))
            if sentences[s].strip().startswith("honestly"):
                continue
            sentences[s] = re.sub(r"^(\s*)", r"\1honestly, ", sentences[s], count=1)
            gen_paragraphs[k] = "".join(sentences)
            if rng.random() < FIXED_RATE:
                habits["avoid:honestly"] += 1
            else:
                edit_paragraphs[k] = _first_honestly(edit_paragraphs[k], gen_paragraphs[k])
    if rng.random() < 0.25:
        lead, items = LISTS[number % len(LISTS)]
        gen_paragraphs.insert(1, f"{lead}:\n\n" + "\n".join(f"- {i}" for i in items))
        edit_paragraphs.insert(1, f"{lead} {', '.join(items[:-1])} and {items[-1]}.")
        habits["lists-to-prose"] += 1
    topic = rng.choice(TOPICS)
    if rng.random() < 0.3:
        gen_paragraphs[0] = rng.choice(OPENINGS).format(topic=topic) + " " + gen_paragraphs[0]
        habits["opening"] += 1
    if rng.random() < 0.3:
        gen_paragraphs[-1] += " " + rng.choice(CLOSINGS).format(topic=topic)
        habits["closing"] += 1
    edited = "\n\n".join(edit_paragraphs)
    roll = rng.random()
    if roll < 0.45:  # a word swapped once: no habit
        options = [(old, new) for old, new in NOISE_SWAPS if re.search(rf"\b{old}\b", edited) and old not in swapped]
        if options:
            old, new = rng.choice(options)
            swapped.add(old)  # once in the whole set: a one-off edit
            edited = re.sub(rf"\b{old}\b", new, edited, count=1)
            noise.append(f"swap:{old}->{new}")
    elif roll < 0.6:  # a middle sentence cut
        paragraph = rng.randrange(len(edit_paragraphs))
        sentences = _sentences(edit_paragraphs[paragraph])
        if len(sentences) >= 3:
            cut = sentences[1]
            edited = edited.replace(cut, "", 1)
            noise.append(f"cut sentence:{cut.strip()}")
    elif roll < 0.75:  # a line of the author's own added
        line = rng.choice(OWN_LINES)
        edited += " " + line
        noise.append(f"added:{line}")
    if rng.random() < 0.35:  # a sentence reworked by hand: two words dropped, one changed, at random
        sentences = _sentences(edited)
        sentence = rng.choice(sentences)
        words = sentence.split()
        if len(words) >= 6:
            for _ in range(2):
                words.pop(rng.randrange(1, len(words) - 1))
            words[rng.randrange(1, len(words) - 1)] = rng.choice(REWORK_WORDS)
            edited = edited.replace(sentence, " ".join(words) if sentence[0] != " " else " " + " ".join(words), 1)
            noise.append(f"reworked:{sentence.strip()}")
    return "\n\n".join(gen_paragraphs), edited, {"habits": dict(sorted(habits.items())), "noise": noise}


def _first_honestly(edited: str, generated: str) -> str:
    """The author missed this "honestly": their paragraph keeps it where the model put it."""
    match = re.search(r"honestly, ", generated)
    assert match is not None
    before = generated[: match.start()]
    # the same sentence in the author's paragraph: it starts after as many full stops as the model's did
    stops = before.count(".")
    parts = edited.split(". ")
    index = min(stops, len(parts) - 1)
    parts[index] = "honestly, " + parts[index].lstrip()
    return ". ".join(parts)


def build(seed: int = SEED) -> list[tuple[str, str, dict[str, object]]]:
    """(generated, edited, labels) of each pair of the set made with this seed."""
    rng = random.Random(seed)
    swapped: set[str] = set()
    return [make_pair(number, rng, swapped) for number in range(1, PAIRS + 1)]


def main() -> None:
    folder = HERE / "pairs"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    labels: dict[str, object] = {"habits": HABITS, "pairs": {}}
    for number, (generated, edited, meta) in enumerate(build(), start=1):
        (folder / f"{number:02d}.generated.md").write_text(generated + "\n", encoding="utf-8")
        (folder / f"{number:02d}.edited.md").write_text(edited + "\n", encoding="utf-8")
        labels["pairs"][f"{number:02d}"] = meta  # type: ignore[index]
    (HERE / "labels.json").write_text(json.dumps(labels, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
