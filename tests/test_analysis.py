"""Word segmentation: jieba's words (rjieba where it provably agrees), sub-words, no stemming."""

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from search.paragraphs import read_articles
from search.text import analysis
from search.text.normalize import normalize

REPO = Path(__file__).resolve().parent.parent
TEXT_FOLDERS = [REPO / "seeds", REPO / "tests" / "data" / "articles", REPO / "tests" / "fixtures"]


def jieba_tokens(normalized: str) -> list[str]:
    return list(analysis.segmenter().cut(normalized, HMM=True))


def test_index_words_include_dictionary_subwords():
    assert analysis.cut("中华人民共和国宪法第51条")[0] == "中华人民共和国宪法"  # one dictionary word
    words = analysis.index_words(normalize("中华人民共和国宪法第51条"))
    assert {"中华人民共和国宪法", "人民", "共和国", "宪法", "51", "条"} <= words


def test_query_cut_has_no_subwords_and_no_punctuation():
    assert analysis.cut("联合国宪章，第51条。") == ["联合国", "宪章", "第", "51", "条"]
    assert analysis.cut("，。 “”") == []


def test_single_digits_and_latin_are_kept_and_not_stemmed():
    words = analysis.index_words(normalize("Dujarric说5个"))
    assert "dujarric" in words and "5" in words


def real_paragraphs() -> list[str]:
    texts = []
    for folder in TEXT_FOLDERS:
        for sub in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
            for article in read_articles(sub, lambda problem: None):
                texts.extend(normalize(p.text) for p in article.paragraphs)
    return texts


@pytest.mark.skipif(analysis._fast_cut() is None, reason="rjieba is not installed")
def test_rjieba_tokens_equal_jiebas_on_every_paragraph_we_have():
    texts = real_paragraphs()
    assert len(texts) > 50
    for text in texts:
        assert analysis.tokens(text) == jieba_tokens(text)


@pytest.mark.skipif(analysis._fast_cut() is None, reason="rjieba is not installed")
@pytest.mark.parametrize("text", ["s-300导弹", "版本3.11发布", "c++与c#", "a_b&c", "增长6.8%", "iphone15 pro", "5g网络"])
def test_rjieba_disagreements_go_to_jieba(text):
    assert analysis.tokens(normalize(text)) == jieba_tokens(normalize(text))


mixed = st.text(alphabet=st.sampled_from(list("联合国宪章中华人民共和国发展经济的了是在和abcxyz0123456789 -.,，。%")),
                max_size=30)
# longer paragraphs where joined runs (rjieba may cut them otherwise) sit among plain Chinese
long_mixed = st.lists(st.sampled_from(["增长6.8%", "s-300导弹", "联合国宪章", "，", "。", " ", "c++", "发展经济",
                                       "2.5", "中华人民共和国", "a_b", "的", "版本3.11发布"]), max_size=30).map("".join)


@pytest.mark.skipif(analysis._fast_cut() is None, reason="rjieba is not installed")
@settings(max_examples=400)
@given(mixed | long_mixed)
def test_rjieba_agrees_with_jieba_on_mixed_text(text):
    """Runs where rjieba may disagree go to jieba, the rest of the same paragraph to rjieba."""
    normalized = normalize(text)
    assert analysis.tokens(normalized) == jieba_tokens(normalized)


# -- ChineseAnalyzer: the Whoosh analyzer ---------------------------------------------------------

from whoosh.fields import TEXT, Schema  # noqa: E402
from whoosh.filedb.filestore import RamStorage  # noqa: E402
from whoosh.query import Phrase, Term  # noqa: E402

from search.text.analysis import ChineseAnalyzer

# Chinese (Traditional and Simplified), Latin of both cases, full-width and expanding forms, spaces
words_and_more = st.text(
    alphabet=st.sampled_from(list("聯合國憲章中华人民共和国發展经济乾隆的了是在和abcABCxyz０１２3456789 -.,，。%ﬁ½①\u3000\u200b\n")),
    max_size=40)


def places(text: str, **kwargs) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in ChineseAnalyzer()(text, positions=True, chars=True, **kwargs)]


def test_analyzer_words_positions_and_original_offsets():
    text = "聯合國憲章，第５１條 Hello"
    assert places(text) == [("联合国", 0, 0, 3), ("宪章", 1, 3, 5), ("第", 2, 6, 7), ("51", 3, 7, 9),
                            ("条", 4, 9, 10), ("hello", 5, 11, 16)]
    # at index time the dictionary sub-words come too, at their word's position
    assert ("联合", 0, 0, 2) in places(text, mode="index")
    assert "联合" not in [word for word, *_ in places(text, mode="query")]


def test_analyzer_honours_whooshs_arguments():
    shifted = places("联合国宪章", start_pos=10, start_char=100)
    assert shifted == [("联合国", 10, 100, 103), ("宪章", 11, 103, 105)]
    plain = [t.copy() for t in ChineseAnalyzer()("联合国宪章", positions=False, chars=False)]  # one Token, reused
    assert [t.text for t in plain] == ["联合国", "宪章"] and not hasattr(plain[0], "startchar")
    assert [t.original for t in ChineseAnalyzer()("聯合國", keeporiginal=True)] == ["聯合國"]
    assert [t.text for t in ChineseAnalyzer()("聯合 國", tokenize=False)] == ["联合 国"]


def test_analyzer_is_a_whoosh_analyzer_a_schema_can_pickle():
    import pickle

    field = TEXT(analyzer=ChineseAnalyzer(), chars=True)
    assert pickle.loads(pickle.dumps(field)) == field
    assert [t.text for t in field.tokenize("联合国宪章")] == ["联合国", "宪章"]


@settings(max_examples=300)
@given(words_and_more)
def test_analyzer_offsets_slice_the_original_to_the_token(text):
    query = places(text)
    assert [pos for _, pos, _, _ in query] == list(range(len(query)))  # ordinal positions
    for word, pos, start, end in places(text, mode="index"):
        assert 0 <= start < end <= len(text)
        assert pos < len(query) and query[pos][2] <= start and end <= query[pos][3]  # inside its word
        # a character that normalises to several (½ → 1⁄2) may hold more than one token
        assert word in normalize(text[start:end])
        if all(len(normalize(c)) <= 1 for c in text[start:end]):
            assert normalize(text[start:end]) == word


def one_paragraph_index(text: str):
    schema = Schema(words=TEXT(analyzer=ChineseAnalyzer(), chars=True))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        writer.add_document(words="无关的一段话")
        writer.add_document(words=text)
    return ix


@settings(max_examples=60)
@given(words_and_more, st.data())
def test_a_phrase_of_any_run_of_a_paragraphs_words_finds_it(text, data):
    words = [word for word, *_ in places(text)]
    if not words:
        return
    start = data.draw(st.integers(0, len(words) - 1))
    end = data.draw(st.integers(start + 1, len(words)))
    run = words[start:end]
    query = Phrase("words", run) if len(run) > 1 else Term("words", run[0])
    with one_paragraph_index(text).searcher() as searcher:
        assert 1 in [hit.docnum for hit in searcher.search(query, limit=None)]


def test_the_runs_jieba_cuts_alone_are_jiebas_own():
    import jieba

    ours, jiebas = analysis._JIEBA_BLOCK, jieba.re_han_default
    assert all(bool(ours.fullmatch(chr(c))) == bool(jiebas.fullmatch(chr(c))) for c in range(0x30000))

