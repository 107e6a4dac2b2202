"""Tokenisation for the index: jieba words with true positions, character grams."""

from search import analysis
from search.indexer import make_schema


def test_words_have_ordinal_positions_and_true_offsets():
    text = "联合国宪章第51条"
    tokens = analysis.index_words(text)
    words = [(pos, word) for pos, word, _, _ in tokens]
    assert (0, "联合国") in words and (1, "宪章") in words
    positions = [pos for pos, *_ in tokens]
    assert positions == sorted(positions)
    assert max(positions) < len(text)  # positions, not character offsets
    for _, word, start, end in tokens:
        assert text[start:end] == word


def test_subwords_share_their_words_position_at_index_time_only():
    tokens = analysis.index_words("联合国")
    assert {(pos, w) for pos, w, *_ in tokens} >= {(0, "联合国"), (0, "联合")}
    assert analysis.cut("联合国") == ["联合国"]


def test_single_digits_and_latin_are_kept_and_not_stemmed():
    words = [w for _, w, *_ in analysis.index_words("dujarric说5个")]
    assert "dujarric" in words and "5" in words


def test_punctuation_and_spaces_are_not_words():
    assert analysis.cut("，。 “”") == []


def test_whoosh_analyzer_yields_positions_and_chars():
    schema = make_schema()
    tokens = [(t.text, t.pos, t.startchar, t.endchar)  # Whoosh reuses one Token object
              for t in schema["words"].analyzer("联合国宪章", positions=True, chars=True)]
    assert tokens[:2] == [("联合国", 0, 0, 3), ("联合", 0, 0, 2)]
