"""Normalisation: width, case and script folding, with offsets back to the original."""

import unicodedata

import pytest
from hypothesis import given, strategies as st

from search.text.normalize import fold, is_ignorable, normalize, skeleton


def test_full_width_latin_and_digits_fold_to_ascii_lowercase():
    assert normalize("ＡＢＣ－１２３ Stephane") == "abc-123 stephane"


def test_traditional_folds_to_simplified():
    assert normalize("聯合國憲章") == "联合国宪章"
    assert normalize("頭髮") == normalize("头发")


def test_skeleton_drops_spaces_and_zero_width_characters():
    assert skeleton(normalize("联合 国\u200b宪章\t")) == "联合国宪章"


def test_fold_maps_skeleton_back_to_original_characters():
    text = "聯合 國ＡＢ"
    folded = fold(text)
    assert folded.skeleton == "联合国ab"
    start, end = folded.original_span(1, 3)  # 合国
    assert text[start:end] == "合 國"
    assert text[slice(*folded.original_span(3, 5))] == "ＡＢ"


def test_expanding_compatibility_character_maps_to_the_whole_original():
    text = "元号㍻年"  # ㍻ → 平成 under NFKC
    folded = fold(text)
    assert folded.skeleton == "元号平成年"
    assert folded.original_span(2, 3) == (2, 3)  # 平 comes from ㍻
    assert folded.original_span(3, 4) == (2, 3)


def test_combining_marks_stay_with_their_base_character():
    folded = fold("cafe\u0301 ok")
    assert folded.skeleton == "caféok"
    assert folded.original_span(3, 4) == (3, 5)


text_strategy = st.text(
    alphabet=st.sampled_from(list("联合国聯合國宪章憲章头发頭髮abcABCＡＢ１２ 　\u200b\u0301㍻ß\n<>&\"'")),
    max_size=40,
)


@given(text_strategy)
def test_fold_agrees_with_normalize(text):
    assert fold(text).skeleton == skeleton(normalize(text))


@given(text_strategy)
def test_offsets_are_monotonic_and_inside_the_original(text):
    folded = fold(text)
    assert len(folded.starts) == len(folded.ends) == len(folded.skeleton)
    for i, (start, end) in enumerate(zip(folded.starts, folded.ends)):
        assert 0 <= start < end <= len(text)
        if i:
            assert start >= folded.starts[i - 1]


@given(text_strategy | st.text())
def test_a_text_folding_one_character_for_one_maps_each_kept_character_to_its_own_offset(text):
    normalized = normalize(text)
    kept = [i for i, c in enumerate(normalized) if not is_ignorable(c)]
    if len(normalized) == len(text) and unicodedata.is_normalized("NFC", text):
        folded = fold(text)
        assert folded.skeleton == "".join(normalized[i] for i in kept)
        assert (list(folded.starts), list(folded.ends)) == (kept, [i + 1 for i in kept])
        assert [folded.original_span(i, i + 1) for i in range(len(kept))] == [(i, i + 1) for i in kept]


def test_offsets_of_kept_runs_are_a_sequence_with_bounds():
    folded = fold("联合 国\u200b宪章")
    assert folded.skeleton == "联合国宪章"
    assert list(folded.starts) == [0, 1, 3, 5, 6] and list(folded.ends) == [1, 2, 4, 6, 7]
    assert folded.starts[-1] == 6 and len(folded.starts) == 5
    with pytest.raises(IndexError):
        folded.starts[5]


@given(st.text())
def test_skeleton_drops_exactly_the_ignorable_characters(text):
    assert skeleton(text) == "".join(c for c in text if not is_ignorable(c))


@given(st.text(st.characters(categories=("L", "N")), min_size=1))
def test_a_skeleton_of_letters_and_digits_is_the_text_itself(text):
    assert skeleton(text) == text


def test_no_letter_or_digit_is_ignorable():
    """skeleton() returns a text of letters and digits (str.isalnum) untouched: none is ignorable."""
    import sys

    assert [hex(code) for code in range(sys.maxunicode + 1)
            if chr(code).isalnum() and is_ignorable(chr(code))] == []


@given(text_strategy | st.text())
def test_a_text_that_folds_in_place_needs_no_fold(text):
    """Where folds_in_place says so, fold() maps each skeleton character to the text's character
    at the same offset: the shortcut the searcher's highlights take."""
    from search.text.normalize import folds_in_place

    skeleton_text = skeleton(normalize(text))
    if folds_in_place(text, skeleton_text):
        expected = fold(text)
        assert (expected.skeleton, list(expected.starts), list(expected.ends)) == (
            skeleton_text, list(range(len(text))), list(range(1, len(text) + 1)))


def test_plain_news_text_folds_in_place_and_changed_text_does_not():
    from search.text.normalize import folds_in_place

    def in_place(text):
        return folds_in_place(text, skeleton(normalize(text)))

    assert in_place("联合国秘书长古特雷斯当天表示，“安理会”应当（立即）行动。")
    assert in_place("聯合國")  # Traditional → Simplified keeps every character in its place
    assert in_place("ＡＢＣ－１２３")  # so does width and case folding, one character for one
    for changed in ("联合国 大会", "e\u0301", "㍻", "零\u200b宽"):  # dropped, composed, widened
        assert not in_place(changed), changed


def test_the_ignorable_characters_worked_out_once_are_kept_and_read_back(tmp_path, monkeypatch):
    """The class of ignorable code points is kept in a cache file; read back it is the same, and a
    damaged file is worked out again."""
    from search.text import normalize as module

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".cache").mkdir()
    module._ignorable_class.cache_clear()
    worked_out = module._ignorable_class()
    (cached,) = (tmp_path / ".cache").glob("zhsearch-ignorable-*.txt")
    assert cached.read_text(encoding="ascii") == worked_out
    module._ignorable_class.cache_clear()
    cached.write_text("\\U00000000-\\U0010ffff", encoding="ascii")  # the cache is trusted as it is ...
    assert module._ignorable_class() == "\\U00000000-\\U0010ffff"
    module._ignorable_class.cache_clear()
    cached.write_text("]garbage[", encoding="ascii")  # ... unless it is no class of ranges
    assert module._ignorable_class() == worked_out
    module._ignorable_class.cache_clear()
