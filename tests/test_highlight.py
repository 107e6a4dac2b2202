"""The highlight contract: whole paragraph, escaped, every occurrence marked, nothing else."""

import re
from html import unescape

from hypothesis import assume, given, strategies as st

from search.query.highlight import highlight, mark, match_spans, skeleton_spans
from search.text.normalize import folds_in_place, is_ignorable, normalize, skeleton

MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def strip_marks(html: str) -> str:
    return unescape(html.replace("<mark>", "").replace("</mark>", ""))


def marked_ranges(html: str) -> list[tuple[int, int]]:
    """Original-character ranges inside <mark> in an escaped highlight."""
    ranges, pos, plain = [], 0, 0
    for match in MARK.finditer(html):
        plain += len(unescape(html[pos : match.start()]))
        inner = len(unescape(match.group(1)))
        ranges.append((plain, plain + inner))
        plain += inner
        pos = match.end()
    return ranges


def test_marks_every_occurrence_and_escapes_markup():
    html = highlight('<b>联合国</b> & "联合国"', ["联合国"])
    assert html == '&lt;b&gt;<mark>联合国</mark>&lt;/b&gt; &amp; &quot;<mark>联合国</mark>&quot;'


def test_simplified_key_marks_traditional_original():
    assert highlight("聯合國大會", ["联合国"]) == "<mark>聯合國</mark>大會"


def test_a_match_across_a_space_is_one_mark_on_the_original_characters():
    assert highlight("Stephane  Dujarric说", [skeleton(normalize("stephane dujarric"))]) == (
        "<mark>Stephane  Dujarric</mark>说"
    )


def test_overlapping_occurrences_merge_and_nothing_else_is_marked():
    assert highlight("aaab", ["aa"]) == "<mark>aaa</mark>b"
    assert highlight("abc", ["x"]) == "abc"


ALPHABET = list("联合国聯合國宪章憲章abcABＡＢ12１２ <>&\"'\u3000，。")
texts = st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=40)


@given(texts, st.data())
def test_highlight_contract(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 6)))
    key = skeleton(normalize(text[start:end]))
    assume(key)
    html = highlight(text, [key])
    # removing the tags and unescaping gives back the text exactly
    assert strip_marks(html) == text
    # no markup but ours survives
    assert "<" not in MARK.sub("", html).replace("<mark>", "")
    ranges = marked_ranges(html)
    # the occurrence the key was cut from is marked (ignorable characters at its ends aside)
    while is_ignorable(text[start]):
        start += 1
    while is_ignorable(text[end - 1]):
        end -= 1
    assert any(s <= start and end <= e for s, e in ranges)
    # nothing else is marked: every marked stretch consists of occurrences of the key
    for s, e in ranges:
        inner = skeleton(normalize(text[s:e]))
        assert key in inner
        assert match_spans(text[s:e], [key])[0][0] == 0


@given(texts, texts)
def test_every_plain_occurrence_is_inside_a_mark(text, needle):
    key = skeleton(normalize(needle))
    assume(key)
    folded_text = skeleton(normalize(text))
    html = highlight(text, [key])
    assert (html.count("<mark>") > 0) == (key in folded_text)
    assert strip_marks(html) == text


@given(texts | st.text(), st.lists(texts | st.text(max_size=4), max_size=3))
def test_a_text_that_folds_in_place_is_marked_from_its_skeleton_alone(text, needles):
    """The searcher's shortcut for such a text (most paragraphs): the keys' spans in the skeleton,
    marked on the text, are exactly its highlight."""
    skeleton_text = skeleton(normalize(text))
    assume(folds_in_place(text, skeleton_text))
    keys = [skeleton(normalize(needle)) for needle in needles]
    keys += [skeleton_text[i: i + 2] for i in range(0, len(skeleton_text), 3)]  # keys that occur
    assert mark(text, skeleton_spans(skeleton_text, keys)) == highlight(text, keys)


def test_mark_escapes_outside_and_inside_the_spans():
    assert mark("a<b>&c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>&amp;c"
    assert mark("", []) == ""
