"""Properties of the HTML pages over arbitrary parameters, and of ``search/web/page.py``'s URL and
filter helpers: whatever a URL carries, the pages answer HTML, never a 5xx, and an error page
(4xx) says what was wrong; each URL the pages build reads back as what it was built from.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, unquote, urlsplit

import falcon.testing
from hypothesis import example, given, settings, strategies as st
from markupsafe import escape

from search.query.parser import parse as parse_query
from search.query.searcher import BadQuery
from search.web import page as page_mod

# anything a URL can carry: every character but lone surrogates, which UTF-8 cannot encode
ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
QUERY = st.one_of(
    ANY,
    st.lists(st.one_of(st.sampled_from(["联合国", "宪章", "OR", "-", "NOT", '"', "title:", "source:新闻",
                                        "date:2024..", "国", "(", "*"]), ANY), max_size=20).map(" ".join),
    st.text(st.sampled_from("联合国宪章 ab"), min_size=250, max_size=270),  # at the length limit
)
PAGE = st.one_of(ANY, st.integers(-3, 1100).map(str), st.sampled_from(["", " 2 ", "２", "²", "1e3", "0x10", "+3"]))
SORT = st.one_of(ANY, st.sampled_from(sorted(page_mod.SORTS)))
GROUP = st.one_of(ANY, st.sampled_from(sorted(page_mod.GROUPS)))
KEYS = frozenset({"source", "date"})


def valid_page(raw: str | None, max_page: int) -> int | None:
    """The page a ``page`` parameter asks for, or None when it is not one (the brute-force oracle)."""
    if raw is None or raw == "":
        return 1
    raw = raw.strip()
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        return None
    return int(raw) if 1 <= int(raw) <= max_page else None


def assert_html(response) -> None:
    assert response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    assert response.text.lstrip().lower().startswith("<!doctype html>")


@settings(max_examples=300)
@given(q=QUERY, page=PAGE, size=ANY, sort=SORT, group=GROUP)
@example(q="联合国", page="2", size="x", sort="newest", group="article")
@example(q="a" * 300, page="1", size="", sort="", group="")
@example(q="x", page="0", size="", sort="", group="")
def test_the_search_page_answers_any_parameters_in_html(client, corpus, q, page, size, sort, group):
    response = client.simulate_get("/", params={"q": q, "page": page, "size": size, "sort": sort, "group": group})
    assert_html(response)
    number = valid_page(page, corpus.settings.max_page)
    if number is None:
        assert response.status_code == 400
        assert "页码需要是 1 到" in response.text
        return
    if not q.strip():
        assert response.status_code == 200
        return
    view = page_mod.View(sort if sort in page_mod.SORTS else "relevance",
                         group if group in page_mod.GROUPS else "paragraph")
    try:
        corpus.searcher.search(q, page=number, size=page_mod.PAGE_SIZE, sort=view.sort, group=view.group)
    except BadQuery as refused:
        assert response.status_code == 400
        assert str(escape(str(refused))) in response.text
    else:
        assert response.status_code == 200


@settings(max_examples=200)
@given(article_id=ANY.filter(lambda s: s and "/" not in s), q=QUERY)
@example(article_id="nope", q="a" * 300)
def test_the_article_page_answers_any_id_and_query_in_html(client, corpus, article_id, q):
    """An id is one path segment: article_url quotes it, and the page names one it does not know."""
    url = urlsplit(page_mod.article_url(article_id, q))
    response = client.simulate_get(url.path, query_string=url.query)
    assert_html(response)
    try:
        corpus.searcher.article(article_id, q=q if q.strip() else None)
    except BadQuery as refused:
        assert response.status_code == 400
        assert str(escape(str(refused))) in response.text
    except LookupError:
        assert response.status_code == 404
        assert str(escape(article_id)) in response.text
    else:
        assert response.status_code == 200


def request_of(url: str) -> falcon.Request:
    """The request Falcon makes of a URL the pages link to (query string only: the pages read no other)."""
    parts = urlsplit(url)
    req = falcon.testing.create_req(path=unquote(parts.path), query_string=parts.query)
    req.options.keep_blank_qs_values = True  # as the app sets it
    return req


@settings(max_examples=300)
@given(q=ANY, page=st.integers(1, 10**6), sort=st.sampled_from(sorted(page_mod.SORTS)),
       group=st.sampled_from(sorted(page_mod.GROUPS)), explain=st.booleans())
def test_a_search_url_reads_back_as_its_query_page_and_view(q, page, sort, group, explain):
    view = page_mod.View(sort, group, explain)
    url = page_mod.search_url(q, page, view)
    if not q:
        assert url == "/"
        return
    req = request_of(url)
    assert req.path == "/"
    assert req.get_param("q") == q
    assert req.get_param_as_int("page", default=1) == page
    assert page_mod.View.from_request(req) == view
    # defaults are left out, so that equal views have equal URLs
    assert ("page=" in url) == (page > 1)
    assert ("sort=" in url) == (sort != "relevance") and ("group=" in url) == (group != "paragraph")


@settings(max_examples=300)
@given(article_id=ANY.filter(bool), q=ANY, n=st.none() | st.integers(1, 10**4))
def test_an_article_url_reads_back_as_its_id_query_and_paragraph(article_id, q, n):
    url = page_mod.article_url(article_id, q, n)
    parts = urlsplit(url)
    assert parts.path.startswith("/articles/") and parts.path.count("/") == 2  # one segment
    assert unquote(parts.path.removeprefix("/articles/")) == article_id
    assert parse_qs(parts.query, keep_blank_values=True) == ({"q": [q]} if q else {})
    assert parts.fragment == ("" if n is None else f"p{n}")


@settings(max_examples=200)
@given(q=ANY)
def test_an_api_search_url_reads_back_as_its_query(q):
    req = request_of(page_mod.api_search_url(q))
    assert req.path == "/api/search"
    assert (req.get_param("q") or "") == q


@settings(max_examples=300)
@given(total=st.integers(0, 10**7), size=st.integers(1, 1000))
def test_page_count_is_the_fewest_pages_that_hold_the_total(total, size):
    pages = page_mod.page_count(total, size)
    assert pages >= 1 and pages * size >= total
    assert pages == 1 or (pages - 1) * size < total
    assert pages == max(1, math.ceil(total / size))


FACET_VALUE = st.one_of(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf")), min_size=1, max_size=12)
                        .filter(lambda v: '"' not in v and v.strip()), st.integers(1990, 2030))


@settings(max_examples=200)
@given(q=st.lists(st.sampled_from(["联合国", "source:新闻联播", "-source:x", "date:2024", 'source:"a b"', "OR"]),
                  max_size=4).map(" ".join),
       sources=st.lists(FACET_VALUE, max_size=5, unique_by=str), years=st.lists(st.integers(1990, 2030), max_size=3,
                                                                                 unique=True))
@example(q="source:新闻联播", sources=["新闻联播"], years=[])
def test_a_facet_value_adds_its_filter_or_removes_it_when_active(q, sources, years):
    """Each row of the sidebar links to the query with that value's filter added, or, when the
    query already has it, to the query without it."""

    def filters_of(text):
        return set(parse_query(text, filter_keys=KEYS, max_chars=10**6, max_terms=10**6).filters)

    chips = page_mod.active_filters(q, KEYS)
    facets = {"source": [{"value": v, "count": 1} for v in sources], "year": [{"value": y, "count": 1} for y in years]}
    blocks = page_mod.facet_blocks(q, facets, chips)
    assert [b["key"] for b in blocks] == [k for k, values in facets.items() if values]
    for block in blocks:
        assert len(block["values"]) <= page_mod.FACET_VALUES_SHOWN
        for row, value in zip(block["values"], facets[block["key"]]):
            token = page_mod.filter_token(block["key"], value["value"])
            (wanted,) = filters_of(token)
            if row["active"]:
                assert wanted in filters_of(q) and row["q"] in {chip["without"] for chip in chips}
            else:
                assert filters_of(row["q"]) == filters_of(q) | {wanted}
                assert row["q"] == page_mod.add_filter(q, token)
