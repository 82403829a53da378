from pipeline.core.text import lowercase_prose, slugify, strip_think


def test_lowercase_leaves_links_wikilinks_embeds_urls_code_and_markers() -> None:
    text = (
        "<!-- section: Org-Culture -->\n"
        "My Team started as an [HPC]([Differences Between AI and HPC](https://www.Example.com/AI-HPC)) Provider.\n"
        "I Read [[content/Ladder Of Abstraction|Ladder Of Abstraction]] And ![[Pasted Image 2025.png]].\n"
        "See https://Example.com/Some_Path?Q=A and <https://Example.org/X> And `Kestrel.Run()`.\n"
        '```Python\nPRINT("Hi")\n```\n'
        "The End."
    )
    assert lowercase_prose(text) == (
        "<!-- section: Org-Culture -->\n"
        "my team started as an [HPC]([Differences Between AI and HPC](https://www.Example.com/AI-HPC)) provider.\n"
        "i read [[content/Ladder Of Abstraction|Ladder Of Abstraction]] and ![[Pasted Image 2025.png]].\n"
        "see https://Example.com/Some_Path?Q=A and <https://Example.org/X> and `Kestrel.Run()`.\n"
        '```Python\nPRINT("Hi")\n```\n'
        "the end."
    )


def test_lowercase_with_unbalanced_brackets_still_lowercases_prose() -> None:
    assert lowercase_prose("A [Broken Link (Here") == "a [broken link (here"


def test_slugify_is_safe_as_a_folder_name() -> None:
    assert slugify("../../Etc/Passwd") == "etc-passwd"
    assert slugify("Start With What You Observed.") == "start-with-what-you-observed"
    assert slugify("...") == ""


def test_strip_think() -> None:
    assert strip_think("<think>hmm, plan</think>\nthe answer") == "the answer"
    assert strip_think("<think>never closed") == ""
