from pipeline.collect.fragments import Piece, split_body


def texts(body: str) -> list[str]:
    return [p.text for p in split_body(body)]


def test_each_bullet_is_its_own_piece_with_its_label_as_context():
    body = "things im tired of:\n* grading on sundays\n* the copier\n\nthings i will miss:\n* 3rd period\n"
    assert split_body(body) == [
        Piece("* grading on sundays", "things im tired of:"),
        Piece("* the copier", "things im tired of:"),
        Piece("* 3rd period", "things i will miss:"),
    ]


def test_nested_sub_items_stay_inside_their_bullet():
    body = "- knee twinge on the long run\n    - coach says foam roll\n- skipped run club\n"
    assert texts(body) == ["- knee twinge on the long run\n    - coach says foam roll", "- skipped run club"]


def test_a_bullet_that_only_labels_its_children_becomes_their_context():
    pieces = split_body("## weekend\n- saturday:\n    - hang w sam\n    - dinner w jo\n")
    assert [p.text for p in pieces] == ["- hang w sam", "- dinner w jo"]
    assert all("saturday:" in p.context and "## weekend" in p.context for p in pieces)


def test_loose_lines_of_a_daily_note_are_separate_thoughts():
    body = "dentist 8:15\ncall mom about the birthday thing\nlab day went great, kids asked real questions\n"
    assert len(split_body(body)) == 3


def test_a_hard_wrapped_paragraph_stays_one_piece():
    body = (
        "the first thing nobody tells you is that a class has a mood before you say a\n"
        "word. third period walked in loud after lunch and sixth period walked in half\n"
        "asleep, and the same lesson would fly in one and die in the other.\n"
    )
    assert texts(body) == [body.strip()]


def test_reflection_block_lines_take_the_bold_label_as_context():
    pieces = split_body("**reflection:**\ni am scared\ni want to keep writing\n\nunrelated line\n")
    assert [p.context for p in pieces] == ["**reflection:**", "**reflection:**", ""]


def test_heading_is_context_not_a_piece():
    pieces = split_body("## mistakes\n\nmeasured from the wrong end of the tape.\n")
    assert pieces == [Piece("measured from the wrong end of the tape.", "## mistakes")]


def test_checklist_items_are_pieces_and_text_is_kept_exactly():
    assert texts("- [ ] renew car registration\n- [x] email ines") == [
        "- [ ] renew car registration",
        "- [x] email ines",
    ]


def test_fenced_code_is_one_piece_even_with_blank_lines_and_bullets():
    body = "cut list:\n\n```\n- top 18 x 14\n\nlegs 4x 22\n```\n"
    assert texts(body) == ["```\n- top 18 x 14\n\nlegs 4x 22\n```"]


def test_embed_only_line_attaches_to_the_piece_before_it():
    body = "- finished the side table\n![[table.png]]\n\nnext thought\n"
    assert texts(body) == ["- finished the side table\n![[table.png]]", "next thought"]


def test_empty_body_gives_no_pieces():
    assert split_body("\n\n   \n") == []


def test_a_line_of_tags_alone_is_not_a_thought_but_a_line_with_words_and_a_tag_is():
    body = "- sat in the shop\n\n#dad #shop\n- #todo\n\nred bluff again. #shop\n#1 priority"
    pieces = [p.text for p in split_body(body)]
    assert pieces == ["- sat in the shop", "red bluff again. #shop", "#1 priority"]
