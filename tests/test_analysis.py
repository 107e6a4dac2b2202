"""Word segmentation: jieba's words (rjieba where it provably agrees), sub-words, no stemming."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import analysis
from search.normalize import normalize
from search.paragraphs import read_articles

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


@pytest.mark.skipif(analysis._fast_cut() is None, reason="rjieba is not installed")
@settings(max_examples=300, deadline=None)
@given(mixed)
def test_rjieba_agrees_with_jieba_on_mixed_text(text):
    normalized = normalize(text)
    assert analysis.tokens(normalized) == jieba_tokens(normalized)
