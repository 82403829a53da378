import random
from dataclasses import replace

import pytest

from pipeline.collect.prompt import Section
from pipeline.core.errors import EssayError
from pipeline.plan.parse import fragment_ids, parse_plan
from pipeline.plan.planfile import Plan, PlanError, PlanItem, PlanSection, plan_edited, plan_hash
from pipeline.plan.render import render_item, render_plan

SECTIONS = (
    Section("observed", "Start with what you observed", "What did this environment teach you?"),
    Section("growth", "Then reflect on your growth.", "What skills did you sharpen?"),
    Section("forward", "Finally, look forward", "What next?"),
)
QUEUE = PlanItem("the queue is the org chart", "3f2a9c1b0d", "daily/2026-01-12.md")
HERON = PlanItem("a fragment over several lines\nand its second line", "8a7b6c5d4e", "projects/heron.md")
PAGER = PlanItem("i've always thought the pager was a teacher", "1a2b3c4d5e", None, by_author=True)
COMPOST = PlanItem("bought 12 bags of compost", "9f9f9f9f9f", "daily/2025-04-02.md")


def make_plan(observed=(QUEUE, HERON, PAGER), growth=(), unused=(COMPOST,), left_out=()) -> Plan:
    return Plan(
        prompt="prompts/platform-year.md",
        prompt_hash="3f2a9c1b0d4e5f60",
        created="2026-11-23T12:00:00+00:00",
        sections=(
            PlanSection("observed", "Start with what you observed", items=tuple(observed)),
            PlanSection("growth", "Then reflect on your growth.", items=tuple(growth)),
            PlanSection("forward", "Finally, look forward"),
        ),
        unused=tuple(unused),
        left_out=tuple(left_out),
    )


def rendered(plan: Plan | None = None) -> str:
    return render_plan(plan or make_plan(), "What a platform year taught me")


def parse(text: str) -> Plan:
    return parse_plan(text, "plan.md", SECTIONS)


def section(plan: Plan, slug: str) -> PlanSection:
    return next(s for s in plan.sections if s.slug == slug)


def error(text: str) -> str:
    with pytest.raises(PlanError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_file_reads_well_and_records_its_prompt_and_body_hash() -> None:
    text = rendered(make_plan(left_out=[("from private notes: kept off http://x", 3)]))
    assert text.startswith(
        "---\nessay_plan: 1\nprompt: prompts/platform-year.md\nprompt_hash: 3f2a9c1b0d4e5f60\n"
        "created: '2026-11-23T12:00:00+00:00'\nbody_hash: "
    )
    assert "\n# plan: what a platform year taught me\n\n> edit this plan, then run `essay draft`." in text
    assert (
        "## start with what you observed\n\n"
        "- the queue is the org chart ([[daily/2026-01-12]]) <!-- f:3f2a9c1b0d -->\n"
        "- a fragment over several lines\n  and its second line ([[projects/heron]]) <!-- f:8a7b6c5d4e -->\n"
        "- i've always thought the pager was a teacher (your draft) <!-- f:1a2b3c4d5e -->\n\n"
        "## then reflect on your growth.\n\n## finally, look forward\n\n"
        "## fits no section\n\n- bought 12 bags of compost ([[daily/2025-04-02]]) <!-- f:9f9f9f9f9f -->\n\n"
        "## left out\n\n- 3 fragments: from private notes: kept off http://x\n"
    ) in text
    assert parse(text).prompt == "prompts/platform-year.md"
    assert not plan_edited(text)


def test_an_unedited_plan_reads_back_as_the_same_plan() -> None:
    plan = make_plan(left_out=[("from private notes: kept off http://x", 3), ("unrelated to the prompt", 1)])
    assert parse(rendered(plan)) == plan


def test_crlf_and_a_byte_order_mark_are_tolerated() -> None:
    plan = make_plan()
    assert parse("\ufeff" + rendered(plan).replace("\n", "\r\n")) == plan


PIECES = [
    "a plain sentence.",
    "a line with trailing spaces  \nfor a hard break",
    "- a bullet group\n- second bullet\n  - a nested bullet\n    - deeper",
    "1. first step\n2. second step",
    "see [[projects/heron|the heron project]] and [[daily/2026-01-12]]",
    "![[diagram.png]]",
    "a [link with [brackets] inside](https://example.com/a_(b)) here",
    "#platform #on-call tags",
    "**bold** and _italic_ and `code`",
    "<!-- an author's comment --> around text",
    "ends with a comment <!-- keep me -->",
    "## a heading block\n\nits paragraph",
    "a paragraph\n\nanother paragraph after a blank line\n\n\nand two blank lines",
    "```python\ndef f():\n\n    return 1\n```",
    "| a | b |\n| - | - |\n| 1 | 2 |",
    "\tan indented line\n    and a four-space one",
    "[ ] an unticked box in the note",
    "[x] a ticked one",
    "text that ends in ([[other/note]])",
    "text that ends in (your draft)",
    "a line with only spaces follows\n   \nthen text",
    "fake marker <!-- f:0000000000 --> in the middle",
    "> a quote\n> over two lines",
    "é ü — unicode, and a tab\there",
]


def random_text(rng: random.Random) -> str:
    return "\n".join(rng.sample(PIECES, rng.randint(1, 3)))


def random_item(rng: random.Random, number: int) -> PlanItem:
    kind = rng.choice(["note", "note", "draft", "author"])
    if kind == "author":
        return PlanItem(random_text(rng), None, None)
    fragment_id = f"{rng.getrandbits(40):010x}" + rng.choice(["", "-2"])
    if kind == "draft":
        return PlanItem(random_text(rng), fragment_id, None, by_author=True)
    return PlanItem(random_text(rng), fragment_id, rng.choice(["daily/2026-01-12.md", f"a b/note {number}.md"]))


@pytest.mark.parametrize("seed", range(60))
def test_render_then_parse_round_trips_varied_fragments(seed: int) -> None:
    rng = random.Random(seed)
    items = [random_item(rng, n) for n in range(rng.randint(0, 12))]
    cut = sorted(rng.sample(range(len(items) + 1), 2)) if len(items) > 1 else [0, len(items)]
    plan = make_plan(observed=items[: cut[0]], growth=items[cut[0] : cut[1]], unused=items[cut[1] :])
    text = rendered(plan)
    assert parse(text) == plan
    assert parse(text.replace("\n", "\r\n")) == plan


def test_a_fragment_with_blank_lines_is_one_list_item() -> None:
    item = PlanItem("first paragraph\n\nsecond paragraph\n\n- a list after it", "3f2a9c1b0d", "n.md")
    text = rendered(make_plan(observed=[item, QUEUE]))
    body = text.split("## start with what you observed\n\n", 1)[1].split("\n\n## ", 1)[0]
    lines = body.split("\n")
    assert [line for line in lines if line.startswith("- ")] == [lines[0], lines[-1]]  # two items, no more
    assert all(not line or line.startswith("  ") for line in lines[1:-1])
    assert section(parse(text), "observed").items == (item, QUEUE)
    # an editor that indents blank lines, or keeps them empty, leaves the item whole either way
    assert section(parse(text.replace("\n\n  second", "\n  \n  second")), "observed").items == (item, QUEUE)


def test_moving_an_item_under_another_heading_moves_it() -> None:
    text = rendered()
    queue_line = "- the queue is the org chart ([[daily/2026-01-12]]) <!-- f:3f2a9c1b0d -->\n"
    text = text.replace(queue_line, "").replace(
        "## then reflect on your growth.\n\n", "## then reflect on your growth.\n\n" + queue_line
    )
    plan = parse(text)
    assert section(plan, "observed").items == (HERON, PAGER)
    assert section(plan, "growth").items == (QUEUE,)
    assert plan_edited(text)


def test_moving_an_item_to_fits_no_section_keeps_it_out() -> None:
    text = rendered()
    pager_line = "- i've always thought the pager was a teacher (your draft) <!-- f:1a2b3c4d5e -->\n"
    text = text.replace(pager_line, "").replace("## fits no section\n\n", "## fits no section\n\n" + pager_line)
    plan = parse(text)
    assert section(plan, "observed").items == (QUEUE, HERON)
    assert plan.unused == (PAGER, COMPOST)


def test_deleting_reordering_and_adding_items() -> None:
    text = rendered().replace(
        "- the queue is the org chart ([[daily/2026-01-12]]) <!-- f:3f2a9c1b0d -->\n"
        "- a fragment over several lines\n  and its second line ([[projects/heron]]) <!-- f:8a7b6c5d4e -->\n"
        "- i've always thought",
        "* mention the badge photo i never took\n+ [ ] and the pager's ringtone\n  which i still hear\n"
        "- i've always thought",
    )
    text = text.replace("## finally, look forward\n", "## finally, look forward\n- what i'd do next spring\n")
    plan = parse(text)
    assert section(plan, "observed").items == (
        PlanItem("mention the badge photo i never took", None, None),
        PlanItem("and the pager's ringtone\nwhich i still hear", None, None, box="[ ]"),
        PAGER,
    )
    assert section(plan, "forward").items == (PlanItem("what i'd do next spring", None, None),)


def test_the_author_may_edit_an_items_text_and_keep_its_fragment() -> None:
    text = rendered().replace(
        "the queue is the org chart (", "the queue *was* the org chart, for a year ([[daily/x|that day]]) ("
    )
    text = text.replace("([[daily/2026-01-12]])", "([[daily/2026-01-12|jan 12]])")
    item = section(parse(text), "observed").items[0]
    assert item == PlanItem(
        "the queue *was* the org chart, for a year ([[daily/x|that day]])", "3f2a9c1b0d", "daily/2026-01-12.md"
    )


def test_items_typed_in_other_list_styles_are_read_as_the_author_meant() -> None:
    text = rendered().replace(
        "## finally, look forward\n",
        "## finally, look forward\n1. next spring\n   with more help\n\n2) a garden\n\n   - with beds\n- [x] done\n",
    )
    assert section(parse(text), "forward").items == (
        PlanItem("next spring\nwith more help", None, None),
        PlanItem("a garden\n\n- with beds", None, None),
        PlanItem("done", None, None, box="[x]"),  # the box is written back, never sent as text
    )


def test_nested_sub_bullets_belong_to_their_item() -> None:
    text = rendered().replace(
        "- i've always thought", "- the outage\n  - the pager went off at 3am\n    - twice\n- i've always thought"
    )
    items = section(parse(text), "observed").items
    assert items[2] == PlanItem("the outage\n- the pager went off at 3am\n  - twice", None, None)


def test_a_line_under_a_heading_is_the_direction_and_may_set_words() -> None:
    text = rendered().replace(
        "## start with what you observed\n\n",
        "## start with what you observed\nabout 200 words. open with the outage.\nkeep it dry.\n\n",
    )
    text = text.replace("## finally, look forward\n", "## finally, look forward\n<!-- just a note -->\nshort.\n")
    plan = parse(text)
    observed = section(plan, "observed")
    assert observed.direction == "about 200 words. open with the outage.\nkeep it dry."
    assert observed.words == 200
    assert observed.items == (QUEUE, HERON, PAGER)
    assert (section(plan, "forward").direction, section(plan, "forward").words) == ("short.", None)
    assert parse(render_plan(plan, "t")) == plan


def test_a_word_count_is_written_as_direction() -> None:
    assert PlanSection("s", "S", words=1200).direction == "about 1200 words."
    assert PlanSection("s", "S", "a 300-word section").words == 300
    with pytest.raises(ValueError):
        PlanSection("s", "S", "in 100 words", words=200)


def test_headings_match_sections_whatever_their_case_punctuation_or_number() -> None:
    text = rendered().replace("## start with what you observed", "## 1. Start With What You Observed!")
    text = text.replace("## then reflect on your growth.", "## 2) **Then reflect on your growth** ##")
    plan = parse(text)
    assert section(plan, "observed").items == (QUEUE, HERON, PAGER)
    assert section(plan, "observed").title == "Start with what you observed"
    assert [s.slug for s in plan.sections] == ["observed", "growth", "forward"]


def test_a_deleted_section_heading_leaves_that_section_without_material() -> None:
    start = "## start with what you observed\n"
    text = rendered()
    text = text[: text.index(start)] + text[text.index("## then reflect") :]
    plan = parse(text)
    assert section(plan, "observed") == PlanSection("observed", "Start with what you observed")
    assert plan.unused == (COMPOST,)


def test_the_left_out_list_may_be_edited_or_deleted() -> None:
    text = rendered(make_plan(left_out=[("from private notes", 3)]))
    assert parse(text).left_out == (("from private notes", 3),)
    edited = text.replace("- 3 fragments: from private notes\n", "whatever i like\n  - and this\n- a point\n")
    kept = replace(make_plan(), kept_direction="whatever i like\n  - and this", kept=(PlanItem("a point", None, None),))
    assert parse(edited) == kept  # what the author wrote there is theirs, kept under a heading of its own
    assert parse(rendered(kept)) == kept
    assert parse(text[: text.index("## left out")]) == make_plan()


def test_a_heading_that_matches_no_section_is_an_error() -> None:
    text = rendered().replace("## finally, look forward", "## the ending")
    line = text.split("\n").index("## the ending") + 1
    assert error(text) == (
        f"plan.md line {line}: heading '## the ending' is no section of the prompt: rename it to one of "
        "'start with what you observed', 'then reflect on your growth.', 'finally, look forward', "
        "'fits no section', or move its items and delete it"
    )


def test_a_repeated_heading_is_an_error() -> None:
    text = rendered().replace("## finally, look forward", "## Start with what you observed")
    lines = text.split("\n")
    first, second = (
        lines.index("## start with what you observed") + 1,
        lines.index("## Start with what you observed") + 1,
    )
    assert error(text) == (
        f"plan.md line {second}: '## Start with what you observed' repeats the heading on line {first}: "
        "move its items under that one and delete it"
    )


def test_a_line_after_the_items_that_is_no_list_item_is_an_error() -> None:
    text = rendered().replace("- i've always thought", "i forgot the dash\n- i've always thought")
    line = text.split("\n").index("i forgot the dash") + 1
    assert error(text) == (
        f"plan.md line {line}: 'i forgot the dash' is not a list item: "
        "start it with '- ' or indent it under the item above"
    )


def test_an_item_above_the_first_heading_is_an_error() -> None:
    text = rendered().replace("\n## start with", "\n- a stray point\n\n## start with")
    line = text.split("\n").index("- a stray point") + 1
    assert error(text) == (
        f"plan.md line {line}: '- a stray point' is above the first section heading: "
        "move it under the section it belongs to"
    )


@pytest.mark.parametrize(
    "text", ["", "  \n\n", "---\nessay_plan: 1\nprompt: p.md\n---\n", "---\nessay_plan: 1\n---\n \n"]
)
def test_an_emptied_plan_says_so(text: str) -> None:
    assert error(text) == "plan.md is empty: delete it and run `essay plan` again, or restore it"


def test_a_bad_or_missing_frontmatter_is_an_error() -> None:
    body = rendered().split("\n---\n", 1)[1]
    assert error(body) == (
        "plan.md has no frontmatter (the block between '---' lines at its top): "
        "restore it, or delete the file and run `essay plan` again"
    )
    assert error("---\nessay_plan: 1\nprompt: [p.md\n---\n" + body) == (
        "plan.md line 4: its frontmatter is not valid YAML: fix it, or delete the file and run `essay plan` again"
    )
    assert error("---\ntitle: a draft\n---\n" + body) == (
        "plan.md is not a plan file (its frontmatter has no `essay_plan`): pass one `essay plan` wrote"
    )
    assert error("---\nessay_plan: 2\nprompt: p.md\n---\n" + body) == (
        "plan.md is a plan of format 2; this essay reads format 1: run `essay plan` again, or update essay"
    )
    assert error("---\nessay_plan: 1\n---\n" + body) == (
        "plan.md: its frontmatter has no `prompt`: restore it, or run `essay plan` again"
    )


def test_plan_error_is_an_essay_error() -> None:
    assert issubclass(PlanError, EssayError)


def test_the_body_hash_tells_an_edited_plan() -> None:
    text = rendered()
    assert plan_hash(text) == plan_hash(text.replace("\n", "\r\n") + "\n\n")
    assert plan_hash(text) != plan_hash(text.replace("compost", "mulch"))
    assert not plan_edited(text.replace("\n", "\r\n"))
    assert plan_edited(text.replace("compost", "mulch"))
    assert plan_edited(text.replace("body_hash:", "old_hash:"))
    assert len(plan_hash(text)) == 16


def test_a_listed_item_of_a_private_note_is_known_by_its_id_like_any_other() -> None:
    items = [PlanItem("a note line", "abc123", "journal/x.md", private=True), PlanItem("another", "def456", "y.md")]
    assert fragment_ids("".join(map(render_item, items))) == {"abc123", "def456"}
