"""Matching, ranking and paging against a brute-force oracle: if Ctrl+F finds it, search finds it."""

import re
from html import unescape

import opencc
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import fetch_all
from search.query.evaluate import WHOLE_WORD_BONUS
from search.query.live import IndexMissing
from search.query.searcher import ArticleNotFound, BadQuery, Searcher
from search.text.normalize import normalize, skeleton

S2T = opencc.OpenCC("s2t")
OPERATOR_WORDS = {"or", "and", "not"}
PROPERTY = settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])


def hit_ids(hits):
    return {(h["article_id"], h["paragraph"]) for h in hits}


def check_highlights(hits):
    for hit in hits:
        assert unescape(hit["highlight"].replace("<mark>", "").replace("</mark>", "")) == hit["text"]
        assert "<mark>" in hit["highlight"]


substrings = st.integers(2, 6)


def literal(phrase: str) -> str:
    """``phrase`` as a quoted phrase's literal characters: its wildcard characters escaped (a
    pasted ``你同意吗？`` is otherwise a pattern, and ``吗？`` then finds no 吗 before a sentence end)."""
    return re.sub(r"([?*？＊])", r"\\\1", phrase)


def draw_substring(corpus, data):
    aid, n, text, _ = data.draw(st.sampled_from(corpus.paragraphs))
    length = data.draw(substrings)
    assume(len(text) >= length)
    start = data.draw(st.integers(0, len(text) - length))
    return (aid, n), text[start : start + length]


@PROPERTY
@given(data=st.data())
def test_every_substring_is_found_as_a_phrase_with_exact_total(corpus, data):
    source, sub = draw_substring(corpus, data)
    key = skeleton(normalize(sub))
    assume(key and '"' not in sub)
    total, hits = fetch_all(corpus.searcher, f'"{literal(sub)}"')
    assert source in hit_ids(hits)
    assert hit_ids(hits) == corpus.containing(key)
    assert total == len(hits)
    check_highlights(hits)


@PROPERTY
@given(data=st.data())
def test_every_substring_is_found_as_keywords(corpus, data):
    source, sub = draw_substring(corpus, data)
    parts = sub.split()
    assume(parts and '"' not in sub)
    assume(not any(p.startswith("-") or p.casefold() in OPERATOR_WORDS or ":" in p for p in parts))
    keys = [skeleton(normalize(p)) for p in parts]
    assume(all(keys))
    total, hits = fetch_all(corpus.searcher, sub)
    assert source in hit_ids(hits)
    assert hit_ids(hits) == corpus.containing(*keys)
    assert total == len(hits)


@PROPERTY
@given(data=st.data())
def test_traditional_query_finds_simplified_text(corpus, data):
    source, sub = draw_substring(corpus, data)
    assume('"' not in sub and skeleton(normalize(sub)))
    traditional = S2T.convert(sub)
    total, hits = fetch_all(corpus.searcher, f'"{literal(traditional)}"')
    assert source in hit_ids(hits)
    for hit in hits:  # precision: every hit contains the phrase
        assert skeleton(normalize(traditional)) in skeleton(normalize(hit["text"]))


@pytest.mark.parametrize("query", ["Stephane", "51个", "2014年", "ＡＢＣ－１２３", "abc-123", "1.2吨", "40%"])
def test_latin_digits_and_full_width_are_found(corpus, query):
    total, hits = fetch_all(corpus.searcher, query)
    key = skeleton(normalize(query))
    assert total >= 1 and hit_ids(hits) == corpus.containing(key)
    check_highlights(hits)


def test_simplified_query_finds_traditional_text(corpus):
    total, hits = fetch_all(corpus.searcher, "图书馆 古籍修复")
    assert any("圖書館" in h["text"] for h in hits)
    assert any("<mark>古籍修復</mark>" in h["highlight"] for h in hits)


def test_whole_word_matches_rank_above_sub_word_matches(corpus):
    total, hits = fetch_all(corpus.searcher, "图书")
    assert total >= 2
    whole = [h["score"] >= WHOLE_WORD_BONUS for h in hits]
    assert whole == sorted(whole, reverse=True)
    assert any(whole)


def test_or_not_and_title(corpus):
    _, either = fetch_all(corpus.searcher, "夜读 OR 河道")
    assert hit_ids(either) == corpus.containing("夜读") | corpus.containing("河道")
    _, without = fetch_all(corpus.searcher, "图书馆 -夜读")
    assert hit_ids(without) == corpus.containing("图书馆") - corpus.containing("夜读")
    _, titled = fetch_all(corpus.searcher, "title:河道清理 志愿者")
    assert titled and {h["article_title"] for h in titled} == {"河道清理志愿行动"}
    assert all("志愿者" in h["text"] for h in titled)


def test_paging_is_consistent_and_total_is_exact(corpus):
    first = corpus.searcher.search("的", page=1, size=3)
    second = corpus.searcher.search("的", page=2, size=3)
    assert first["total"] == second["total"] == len(corpus.containing("的"))
    assert not hit_ids(first["hits"]) & hit_ids(second["hits"])
    beyond = corpus.searcher.search("的", page=10_000, size=100)
    assert beyond["hits"] == [] and beyond["total"] == first["total"]


def test_empty_query_has_no_hits(corpus):
    result = corpus.searcher.search("   ")
    assert result["total"] == 0 and result["hits"] == []


def test_bad_paging_and_long_queries_raise_bad_query(corpus):
    with pytest.raises(BadQuery):
        corpus.searcher.search("国", page=0)
    with pytest.raises(BadQuery):
        corpus.searcher.search("国", size=101)
    with pytest.raises(BadQuery):
        corpus.searcher.search("国" * 10_000)


def test_article_returns_paragraphs_in_order_with_highlights(corpus):
    article = corpus.searcher.article("wire-001", q="港口")
    assert article["title"] == "港口吞吐量创新高"
    assert [p["n"] for p in article["paragraphs"]] == list(range(1, len(article["paragraphs"]) + 1))
    assert article["paragraphs"][0]["kind"] == "title"
    assert any("<mark>港口</mark>" in p["highlight"] for p in article["paragraphs"])
    with pytest.raises(ArticleNotFound):
        corpus.searcher.article("no-such-article")


def test_markup_in_articles_comes_back_escaped(corpus):
    _, hits = fetch_all(corpus.searcher, "喜欢这里")
    (hit,) = hits
    assert "<b>" in hit["text"]
    assert "&lt;b&gt;" in hit["highlight"] and "<b>" not in hit["highlight"]
    assert re.sub(r"</?mark>", "", hit["highlight"]).count("<") == 0


def test_total_is_exact_when_whole_and_sub_word_matches_mix(tmp_path):
    """Whoosh's default collector drops the whole-word clause mid-search and undercounts."""
    from conftest import make_corpus

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = []
    for i in range(400):
        filler = "，会议继续" * (i % 7)
        lines.append(f"党的二十大报告第{i}次学习{filler}。" if i % 2 else f"二十大学生第{i}次报名{filler}。")
    (seeds / "many.txt").write_text("多段落\n" + "\n".join(lines), encoding="utf-8")
    corpus = make_corpus(seeds, tmp_path / "index")
    expected = len(corpus.containing("二十大"))
    assert expected == 400
    for size in (1, 10, 100):
        assert corpus.searcher.search("二十大", size=size)["total"] == expected
        assert corpus.searcher.search('"二十大"', size=size)["total"] == expected


def test_warm_opens_the_index_when_there_is_one(tmp_path, corpus):
    from search.config import Settings
    from search.query.searcher import Searcher

    assert Searcher(Settings(index_dir=tmp_path / "none")).warm() is False
    fresh = Searcher(corpus.settings)
    assert fresh._live is None and fresh.warm() is True and fresh._live is not None
    fresh.close()


def test_a_build_that_cannot_be_opened_leaves_the_open_one_serving(tmp_path):
    from conftest import index_articles
    from search.build.store import BuildStore
    from search.formats.layout import GRAMS

    settings = index_articles(tmp_path, {"a": "联合国大会\n联合国大会今日开幕。\n"})
    settings = type(settings)(seeds_dir=settings.seeds_dir, index_dir=settings.index_dir, refresh_interval=0)
    searcher = Searcher(settings)
    before = searcher.search("联合国")["total"]
    layout = BuildStore(settings.index_dir)
    broken = layout.new_build()
    (broken / GRAMS).mkdir()
    layout.swap_in(broken)  # a pointer to a folder without a complete index
    assert searcher.search("联合国")["total"] == before
    with pytest.raises(IndexMissing):
        Searcher(settings).search("联合国")


def test_every_article_and_hit_carries_its_paragraphs_number_kind_and_text(corpus):
    """Numbers, kinds and articles are derived from paragraph ids, not stored per paragraph."""
    from search.paragraphs import read_articles

    articles = list(read_articles(corpus.settings.seeds_dir, lambda problem: None))
    expected = {}
    for article in articles:
        got = corpus.searcher.article(article.id)
        assert (got["title"], got["source"]) == (article.title, article.source)
        assert got["paragraphs"] == [{"n": p.n, "kind": p.kind, "text": p.text} for p in article.paragraphs]
        expected.update({(article.id, p.n): (article.title, p.kind, p.text) for p in article.paragraphs})
    _, hits = fetch_all(corpus.searcher, "的")
    assert len(hits) > 20
    for hit in hits:
        assert expected[hit["article_id"], hit["paragraph"]] == (hit["article_title"], hit["kind"], hit["text"])


def test_an_index_built_by_another_version_is_rebuilt_not_misread(tmp_path):
    import json

    from conftest import index_articles
    from search.build.indexer import has_index
    from search.formats.layout import META, IndexLayout

    settings = index_articles(tmp_path, {"a": "联合国大会\n联合国大会今日开幕。\n"})
    assert has_index(settings)
    meta_file = IndexLayout(settings.index_dir).current() / META
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta_file.write_text(json.dumps(dict(meta, format=1)), encoding="utf-8")
    assert not has_index(settings)  # so `zhsearch serve` builds it again
    with pytest.raises(IndexMissing, match="another version"):
        Searcher(settings).search("联合国")
