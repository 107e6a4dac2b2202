"""Related articles (issue #11, part 5): Whoosh's more-like-this over the ``words`` field, through
the searcher, the API and the article page."""

from __future__ import annotations

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from whoosh import query

from conftest import index_articles
from search.query import related
from search.query.searcher import ArticleNotFound, BadQuery, Searcher
from search.web.app import create_app

ARTICLES = {
    "quake-1": "强烈地震袭击山区\n强烈地震袭击山区县城，救援队连夜赶到震中，搜救被困群众。\n"
               "地震造成多处房屋倒塌，救援队从废墟中救出三名幸存者。\n",
    "quake-2": "救援队在地震灾区搜救\n地震发生后，国家救援队携带生命探测仪进入灾区。\n"
               "救援队员在倒塌的房屋下找到幸存者，余震仍在持续。\n",
    "quake-3": "地震灾区恢复重建\n地震灾区的学校开始重建，救援物资陆续运抵。\n",
    "trade-1": "关税谈判取得进展\n两国就关税和贸易逆差问题举行新一轮谈判，出口企业关注关税走向。\n",
    "trade-2": "出口贸易保持增长\n前十个月出口贸易同比增长，关税下调带动汽车出口。\n",
    "garden": "城市花园开放\n市民周末到花园赏花，园艺师介绍月季的养护方法。\n",
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return index_articles(tmp_path_factory.mktemp("related"), ARTICLES)


@pytest.fixture(scope="module")
def searcher(settings):
    found = Searcher(settings)
    yield found
    found.close()


@pytest.fixture(scope="module")
def client(settings, searcher):
    return falcon.testing.TestClient(create_app(settings, searcher=searcher))


def ids(result: dict) -> list[str]:
    return [r["article_id"] for r in result["related"]]


@pytest.mark.parametrize("article_id,alike,unlike", [
    ("quake-1", {"quake-2", "quake-3"}, {"trade-1", "trade-2", "garden"}),
    ("quake-2", {"quake-1", "quake-3"}, {"trade-1", "trade-2", "garden"}),
    ("trade-1", {"trade-2"}, {"quake-1", "quake-2", "quake-3", "garden"}),
])
def test_related_articles_share_key_terms_and_never_include_the_article(searcher, article_id, alike, unlike):
    result = searcher.related(article_id, size=5)
    assert result["id"] == article_id
    found = ids(result)
    assert article_id not in found
    assert set(found[: len(alike)]) == alike
    assert not set(found) & unlike
    scores = [r["score"] for r in result["related"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    for r in result["related"]:
        assert r["article_title"] == searcher.article(r["article_id"])["title"]


def test_size_limits_the_list(searcher):
    assert len(searcher.related("quake-1", size=1)["related"]) == 1
    assert ids(searcher.related("quake-1", size=1)) == ids(searcher.related("quake-1", size=5))[:1]


def test_an_article_sharing_nothing_has_no_related_articles(searcher):
    assert searcher.related("garden")["related"] == []


def test_key_terms_are_the_articles_own_telling_words(searcher):
    terms = searcher.key_terms("quake-2")
    assert "救援队" in terms[:3] and "灾区" in terms and "关税" not in terms
    assert all(len(t) > 1 for t in terms)
    assert not any(a != b and a in b for a in terms for b in terms[: terms.index(a)])  # no sub-word after its word


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_key_terms_of_any_text_are_indexed_words_weighted_best_first(searcher, text):
    live = searcher._current()
    terms = related.key_terms(live.whoosh, text)
    words = [word for word, _ in terms]
    assert len(set(words)) == len(words) <= related.KEY_TERMS
    assert all(len(word) > 1 and live.whoosh.doc_frequency("words", word) > 0 for word in words)
    weights = [weight for _, weight in terms]
    assert weights == sorted(weights, reverse=True) and all(0 < w <= 1 for w in weights)
    found = related.related_articles(live.whoosh, terms, range(0), lambda gid: int(live.article_index[gid]),
                                     lambda article: int(live.article_rank[article]), 3)
    assert len(found) <= 3 and all(score > 0 for _, score in found)


def test_unknown_article_and_bad_size(searcher):
    with pytest.raises(ArticleNotFound):
        searcher.related("no-such-article")
    with pytest.raises(ArticleNotFound):
        searcher.key_terms("no-such-article")
    for size in (0, related.MAX_RELATED + 1):
        with pytest.raises(BadQuery):
            searcher.related("quake-1", size=size)


def test_the_whoosh_query_is_bounded_by_the_postings_budget(searcher, monkeypatch):
    """A key term that would push the searched postings past the budget is left out."""
    live = searcher._current()
    terms = related.key_terms(live.whoosh, "救援队 救援队 地震 地震 花园")
    frequency = {word: live.whoosh.doc_frequency("words", word) for word, _ in terms}
    asked = []
    real_search = live.whoosh.search
    monkeypatch.setattr(live.whoosh, "search", lambda q, **kw: asked.append(q) or real_search(q, **kw))
    monkeypatch.setattr(related, "MAX_POSTINGS", frequency["救援队"] + frequency["花园"])
    related.related_articles(live.whoosh, terms, range(0), lambda gid: int(live.article_index[gid]),
                             lambda article: int(live.article_rank[article]), 5)
    searched = {sub.text for sub in asked[0].subqueries} if isinstance(asked[0], query.Or) else {asked[0].text}
    assert "救援队" in searched and "地震" not in searched


def test_related_is_kept_for_the_build(searcher):
    live = searcher._current()
    first = searcher.related("trade-2")
    assert live._alike  # computed once per article and build, then served from memory
    assert searcher.related("trade-2") == first


# -- the API ---------------------------------------------------------------------------------------

def test_related_endpoint_shape(client):
    result = client.simulate_get("/api/articles/quake-1/related", params={"size": "2"})
    assert result.status_code == 200
    body = result.json
    assert set(body) == {"id", "related"} and body["id"] == "quake-1"
    assert len(body["related"]) == 2
    for item in body["related"]:
        assert set(item) == {"article_id", "article_title", "score"}
    default = client.simulate_get("/api/articles/quake-1/related").json
    assert len(default["related"]) == 2  # only two other articles are alike at all


@pytest.mark.parametrize("size", ["0", "-1", str(related.MAX_RELATED + 1), "x", "1.5"])
def test_related_endpoint_size_out_of_range_is_400(client, size):
    result = client.simulate_get("/api/articles/quake-1/related", params={"size": size})
    assert result.status_code == 400 and {"title", "description"} <= set(result.json)


def test_related_endpoint_unknown_id_is_404_json(client):
    result = client.simulate_get("/api/articles/nope/related")
    assert result.status_code == 404
    assert result.headers["content-type"].startswith("application/json") and result.json["title"]


# -- the article page ------------------------------------------------------------------------------

def test_the_article_page_lists_key_terms_and_related_articles(client):
    html = client.simulate_get("/articles/quake-1").text
    assert "<h2>关键词</h2>" in html and "<h2>相关文章</h2>" in html
    assert 'href="/?q=%E6%95%91%E6%8F%B4%E9%98%9F"' in html  # 救援队, a search for it
    assert 'href="/articles/quake-2"' in html and 'href="/articles/quake-1"' not in html


def test_an_article_with_nothing_alike_has_no_related_list(client):
    html = client.simulate_get("/articles/garden").text
    assert "<h2>相关文章</h2>" not in html and 'class="related"' not in html
    assert "<h2>关键词</h2>" in html
