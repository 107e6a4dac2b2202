"""The HTML pages (issue #6): `/` and `/articles/{id}` rendered on the server.

The content tests go through the real app (`search.web.create_app`) over a small real
index built from the articles below; the error paths that a real index cannot provoke
on demand (index missing) use a stub searcher on a bare Falcon app.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

import falcon
import falcon.testing
import pytest
from hypothesis import example, given, settings as hyp_settings, strategies as st

from search.query.live import IndexMissing
from search.query.parser import Filter, parse as parse_query
from search.query.searcher import ArticleNotFound, BadQuery
from search.web import page as page_mod

# --- fixture articles ------------------------------------------------------------------

XSS = "<script>alert(1)</script>"

ARTICLES = {
    "un_charter": "\n".join([
        "原标题：联合国宪章生效八十周年",
        "（新华社讯）联合国成员国代表周五在纽约集会，纪念《联合国宪章》生效八十周年。",
        "秘书长在讲话中说，宪章的宗旨今天依然重要。与会者回顾了联合国维和行动的历史。",
        "会场外的展览。图源：新华社",
        "各国代表呼吁改革安理会，使其更能代表当今世界。",
        "责任编辑：王小明",
    ]),
    "climate": "\n".join(
        ["气候大会今日闭幕"]
        + [f"第{i}位发言者谈到气候变化对农业的影响，并提出第{i}项建议。" for i in range(1, 24)]
    ),
    "markup": "\n".join([
        "标记与转义测试",
        f"有人在评论里写了{XSS}，还有 &amp; 和 <b>粗体</b>，这些都应当原样显示。",
        "这一段没有特殊字符，只是普通的正文。",
    ]),
    "long_latin": "\n".join([
        "超长英文链接测试",
        "会议资料可在 https://example.org/" + "averyveryverylongpathsegmentwithoutanybreaks" * 4 + " 下载，涉及联合国。",
    ]),
    "traditional": "\n".join([
        "聯合國大會通過決議",
        "聯合國大會今日以壓倒性多數通過決議，呼籲各方保持克制。",
    ]),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> falcon.testing.TestClient:
    from conftest import index_articles
    from search.web.app import create_app

    return falcon.testing.TestClient(create_app(index_articles(tmp_path_factory.mktemp("page"), ARTICLES)))


# --- a small DOM from html.parser ----------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: "Node | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list["Node"]:
        out = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if all(node.has_class(v) if k == "class_" else node.attrs.get(k) == v for k, v in attrs.items()):
                out.append(node)
        return out

    def find(self, tag: str | None = None, **attrs: str) -> "Node | None":
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def has_class(self, name: str) -> bool:
        return name in (self.attrs.get("class") or "").split()

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def in_template(self) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == "template":
                return True
            node = node.parent
        return False


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root
        self.script_count = 0

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def live(nodes: list[Node]) -> list[Node]:
    """Nodes that are in the document, not inside an inert <template>."""
    return [n for n in nodes if not n.in_template()]


def get_html(client, path: str, status: int = 200, **params) -> Node:
    resp = client.simulate_get(path, params=params or None)
    assert resp.status_code == status, (path, params, resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("text/html"), resp.headers["content-type"]
    return parse(resp.text)


def assert_page_basics(doc: Node) -> None:
    html = doc.find("html")
    assert html is not None and html.attrs.get("lang") == "zh-CN"
    assert doc.find("meta", name="viewport") is not None
    assert doc.find("meta", charset="utf-8") is not None
    # No inline script, no inline style, no inline event handlers (the CSP forbids them).
    for script in doc.find_all("script"):
        assert script.attrs.get("src", "").startswith("/static/"), script.attrs
        assert script.text.strip() == ""
    assert doc.find("style") is None
    for node in doc.iter():
        assert "style" not in node.attrs, (node.tag, node.attrs)
        for name in node.attrs:
            assert not name.startswith("on"), (node.tag, name)
        for name in ("href", "src", "action"):
            value = (node.attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "http:", "https:", "//")), (node.tag, value)


def hits(doc: Node) -> list[Node]:
    return live(doc.find_all("li", class_="hit"))


# --- the search page --------------------------------------------------------------------


def test_empty_search_page_has_a_labelled_form_and_help(client):
    doc = get_html(client, "/")
    assert_page_basics(doc)
    form = doc.find("form", role="search")
    assert form is not None and form.attrs.get("method") == "get" and form.attrs.get("action") == "/"
    box = form.find("input", name="q")
    assert box is not None and box.attrs.get("type") == "search"
    assert "autofocus" in box.attrs
    label = doc.find("label", **{"for": box.attrs["id"]})
    assert label is not None and label.text.strip()
    status = doc.find(id="status")
    assert status.attrs.get("aria-live") == "polite" and status.text.strip() == ""
    results = doc.find(id="results")
    assert results.attrs.get("data-state") == "empty"
    assert hits(doc) == []
    empty = live(results.find_all(class_="notice-empty"))
    assert empty, "the empty state explains what to do"
    help_text = empty[0].text
    for syntax in ('"短语"', "OR", "-排除", "title:"):
        assert syntax in help_text
    examples = [a.attrs["href"] for a in empty[0].find_all("a")]
    assert examples and all(href.startswith("/?q=") for href in examples)


def test_query_renders_marked_hits_with_links_kinds_total_and_time(client):
    doc = get_html(client, "/", q="联合国")
    assert_page_basics(doc)
    assert doc.find("input", name="q").attrs["value"] == "联合国"
    results = doc.find(id="results")
    assert results.attrs["data-state"] == "results"
    found = hits(doc)
    assert found
    article_ids = set()
    for hit in found:
        link = hit.find("a", class_="hit-link")
        parts = urlsplit(link.attrs["href"])
        assert parts.path.startswith("/articles/")
        assert parse_qs(parts.query) == {"q": ["联合国"]}
        assert re.fullmatch(r"p\d+", parts.fragment)
        article_ids.add(parts.path.rsplit("/", 1)[1])
        assert hit.find(class_="hit-title").text.strip()
        kind = hit.find("span", class_="kind")
        assert kind.text in page_mod.KIND_LABELS.values()
        text = hit.find("p", class_="hit-text")
        marks = text.find_all("mark")
        assert marks and all(m.text in ("联合国", "聯合國") for m in marks), [m.text for m in marks]
    assert {"un_charter", "traditional"} <= article_ids  # Traditional text found too
    assert doc.find("nav", class_="pager") is None  # one page: nothing to page through
    status = doc.find(id="status")
    assert status.attrs.get("aria-live") == "polite"
    assert re.search(r"找到 \d+ 个段落，用时 [\d.]+ 毫秒", status.text), status.text
    assert int(status.find("strong", class_="total").text.replace(",", "")) >= len(found)


def test_hit_links_point_at_the_matching_paragraph(client):
    doc = get_html(client, "/", q="安理会")
    (hit,) = hits(doc)
    href = hit.find("a", class_="hit-link").attrs["href"]
    article = get_html(client, href.split("#")[0].split("?")[0], q="安理会")
    target = article.find(id=href.split("#")[1])
    assert target is not None
    assert [m.text for m in target.find_all("mark")] == ["安理会"]


def test_pagination_has_prev_and_next_links(client):
    first = get_html(client, "/", q="气候")
    total = int(first.find("strong", class_="total").text.replace(",", ""))
    assert total > 20  # three pages of ten
    assert len(hits(first)) == page_mod.PAGE_SIZE
    assert first.find("ol", class_="hits").attrs["start"] == "1"
    assert first.find("a", rel="prev") is None
    nxt = first.find("a", rel="next")
    assert nxt.attrs["href"] == "/?q=%E6%B0%94%E5%80%99&page=2"

    second = get_html(client, "/", q="气候", page="2")
    assert second.find("ol", class_="hits").attrs["start"] == "11"
    assert second.find("a", rel="prev").attrs["href"] == "/?q=%E6%B0%94%E5%80%99"
    assert second.find("a", rel="next").attrs["href"].endswith("&page=3")
    first_ids = {h.find("a").attrs["href"] for h in hits(first)}
    second_ids = {h.find("a").attrs["href"] for h in hits(second)}
    assert first_ids.isdisjoint(second_ids)

    last_page = -(-total // page_mod.PAGE_SIZE)
    last = get_html(client, "/", q="气候", page=str(last_page))
    assert last.find("a", rel="next") is None and last.find("a", rel="prev") is not None
    assert f"第 {last_page} / {last_page} 页" in last.find("nav", class_="pager").text


def test_page_past_the_end_says_so_and_links_back(client):
    doc = get_html(client, "/", q="气候", page="50")
    assert hits(doc) == []
    past = doc.find(class_="notice-past")
    assert past is not None and past.find("a").attrs["href"].endswith("&page=3")


def test_no_results_state_suggests_what_to_try(client):
    doc = get_html(client, "/", q="不存在的词语组合")
    results = doc.find(id="results")
    assert results.attrs["data-state"] == "none"
    assert "没有找到" in doc.find(id="status").text
    tips = live(results.find_all(class_="notice-none"))[0].text
    assert "引号" in tips and "繁体" in tips


def test_a_typo_gets_did_you_mean_links_that_search_them(client):
    doc = get_html(client, "/", q="联和国宪章")  # 和 for 合: a homophone picked from the pinyin list
    results = doc.find(id="results")
    assert results.attrs["data-state"] == "none"
    (box,) = live(results.find_all(class_="did-you-mean"))
    assert box.text.startswith("您是不是要找：")
    links = box.find_all("a")
    assert links and links[0].text == "联合国宪章"
    assert links[0].attrs["href"] == "/?q=" + quote("联合国宪章")
    for link in links:
        followed = get_html(client, link.attrs["href"].split("?")[0], **{k: v[0] for k, v in
                                                                        parse_qs(urlsplit(link.attrs["href"]).query).items()})
        assert followed.find(id="results").attrs["data-state"] == "results"


def test_results_and_a_miss_without_a_sound_alike_have_no_did_you_mean(client):
    for q in ("联合国", "不存在的词语组合"):
        assert live(get_html(client, "/", q=q).find_all(class_="did-you-mean")) == []


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "1001", "99999999999999", "２"])
def test_bad_page_number_is_a_friendly_html_400(client, bad):
    doc = get_html(client, "/", status=400, q="气候", page=bad)
    assert_page_basics(doc)
    assert doc.find(id="results").attrs["data-state"] == "error"
    assert "页码" in doc.find(id="status").text
    assert doc.find("input", name="q").attrs["value"] == "气候"


def test_query_too_long_is_a_friendly_html_400(client):
    doc = get_html(client, "/", status=400, q="联合国" * 200)
    assert_page_basics(doc)
    assert doc.find(id="results").attrs["data-state"] == "error"
    assert doc.find(id="status").text.strip()


def test_query_with_markup_is_escaped_everywhere(client):
    for q in (XSS, '"><img src=x onerror=alert(1)>', "</title><script>alert(1)</script>"):
        resp = client.simulate_get("/", params={"q": q})
        assert resp.status_code in (200, 400)
        assert "<script>alert" not in resp.text and "<img src=x" not in resp.text
        doc = parse(resp.text)
        assert_page_basics(doc)
        assert doc.find("img") is None
        assert doc.find("input", name="q").attrs["value"] == q
        assert q in doc.find("title").text


def test_article_markup_is_shown_as_text_not_run(client):
    doc = get_html(client, "/articles/markup")
    assert_page_basics(doc)
    assert doc.find("b") is None
    para = doc.find(id="p2")
    assert XSS in para.text and "&amp;" in para.text and "<b>粗体</b>" in para.text

    doc = get_html(client, "/", q="评论")
    (hit,) = hits(doc)
    assert_page_basics(doc)
    assert XSS in hit.find("p", class_="hit-text").text
    assert hit.find("b") is None


# --- the article page ----------------------------------------------------------------


def test_article_page_has_structure_and_paragraph_anchors(client):
    doc = get_html(client, "/articles/un_charter")
    assert_page_basics(doc)
    paras = doc.find_all(class_="para")
    ids = [p.attrs.get("id") for p in paras]
    assert ids == [f"p{n}" for n in range(1, len(paras) + 1)]
    assert len(paras) >= 5
    h1 = doc.find("h1")
    assert h1 is not None and h1.text == "原标题：联合国宪章生效八十周年"
    assert h1.find("span", class_="title-prefix").text == "原标题："
    kinds = {c for p in paras for c in p.attrs["class"].split() if c != "para"}
    assert {"lead", "caption", "byline", "body"} <= kinds | {"article-title"}, kinds
    assert doc.find_all("mark") == []
    assert doc.find("title").text.startswith("联合国宪章生效八十周年")
    back = doc.find("a", class_="back")
    assert back.attrs["href"] == "/"


def test_article_page_marks_the_query_and_links_back_to_it(client):
    doc = get_html(client, "/articles/un_charter", q="联合国")
    marks = doc.find_all("mark")
    assert marks and {m.text for m in marks} == {"联合国"}
    assert str(len(marks)) == doc.find(class_="article-matches").find("strong").text
    back = doc.find("a", class_="back")
    assert back.attrs["href"] == "/?q=" + quote("联合国")
    assert doc.find("input", name="q").attrs["value"] == "联合国"


def test_unknown_article_is_an_html_404(client):
    doc = get_html(client, "/articles/no-such-article", status=404, q="联合国")
    assert_page_basics(doc)
    assert "找不到" in doc.find("h1").text
    assert doc.find("a", href="/?q=" + quote("联合国")) is not None


def test_static_assets_are_served(client):
    doc = get_html(client, "/")
    css = doc.find("link", rel="stylesheet").attrs["href"]
    js = doc.find("script").attrs["src"]
    icon = doc.find("link", rel="icon").attrs["href"]
    for url, kind in ((css, "text/css"), (js, "javascript"), (icon, "image/svg")):
        resp = client.simulate_get(url.split("?")[0])
        assert resp.status_code == 200, url
        assert kind in resp.headers["content-type"], (url, resp.headers["content-type"])
    text = client.simulate_get(css.split("?")[0]).text
    assert '"Noto Sans CJK SC"' in text and "line-height: 1.8" in text
    assert "overflow-wrap: anywhere" in text


def test_pages_carry_the_content_security_policy(client):
    for path in ("/", "/?q=联合国", "/articles/un_charter"):
        csp = client.simulate_get(path).headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, (path, csp)


# --- URL helpers, mirrored in static/search.js ----------------------------------------


def test_urls_quote_ids_and_queries():
    assert page_mod.article_url("a b/c", "x y&z", 3) == "/articles/a%20b%2Fc?q=x+y%26z#p3"
    assert page_mod.search_url("") == "/"
    assert page_mod.search_url("联合国", 1) == "/?q=%E8%81%94%E5%90%88%E5%9B%BD"
    assert page_mod.search_url("a~b*(c)", 2) == "/?q=a~b%2A%28c%29&page=2"


# --- error paths with a stub searcher ---------------------------------------------------


class StubSearcher:
    def __init__(self, error: Exception):
        self.error = error

    def search(self, q, page=1, size=10, **options):
        raise self.error

    def filter_keys(self):
        raise self.error

    def facet_keys(self):
        raise self.error

    def article(self, article_id, q=None):
        raise self.error


def stub_client(error: Exception) -> falcon.testing.TestClient:
    app = falcon.App()
    page_mod.add_page_routes(app, StubSearcher(error))
    return falcon.testing.TestClient(app)


def test_index_missing_is_a_503_page():
    client = stub_client(IndexMissing("no index yet"))
    doc = get_html(client, "/", status=503, q="联合国")
    assert "索引正在建立" in doc.find(id="status").text
    doc = get_html(client, "/articles/x", status=503)
    assert "索引正在建立" in doc.find("h1").text


def test_bad_query_message_is_shown():
    client = stub_client(BadQuery("查询太长了（最多 256 个字符）"))
    doc = get_html(client, "/", status=400, q="x")
    assert doc.find(id="status").text == "查询太长了（最多 256 个字符）"


def test_article_not_found_from_stub():
    client = stub_client(ArticleNotFound("x"))
    doc = get_html(client, "/articles/%3Cscript%3E", status=404)
    assert_page_basics(doc)
    assert "<script>" in doc.find("p").text


# --- metadata, facets, chips, sort, grouping, explain (issues #12, #13) ---------------------

NEWS = Path(__file__).resolve().parent / "fixtures" / "metadata" / "news.jsonl"


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    """(client, searcher) over an index of dated articles from several sources, one of them `<script>`."""
    from conftest import index_seed_files
    from search.query.searcher import Searcher
    from search.web.app import create_app

    settings = index_seed_files(tmp_path_factory.mktemp("news"), NEWS)
    searcher = Searcher(settings)
    yield falcon.testing.TestClient(create_app(settings, searcher=searcher)), searcher
    searcher.close()


def q_of(href: str) -> str:
    return parse_qs(urlsplit(href).query).get("q", [""])[0]


def params_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def chips(doc: Node) -> list[Node]:
    return live(doc.find_all("a", class_="chip"))


def facet_links(doc: Node) -> dict[str, list[Node]]:
    return {s.attrs["data-key"]: s.find_all("a", class_="facet-value") for s in live(doc.find_all("section", class_="facet"))}


def test_each_hit_shows_its_articles_date_and_source(news):
    client, searcher = news
    doc = get_html(client, "/", q="芯片")
    api = searcher.search("芯片", size=10)
    assert len(hits(doc)) == len(api["hits"]) == 10
    for li, h in zip(hits(doc), api["hits"]):
        date, source = li.find("span", class_="meta-date"), li.find("span", class_="meta-source")
        if "date" in h["metadata"]:
            assert date.text == h["metadata"]["date"][:10]
        else:
            assert date is None
        assert source.text == h["metadata"]["source"]
    assert any(li.find("span", class_="meta-date") is None for li in hits(doc))  # the undated article
    assert "2024-07-01" in [n.text for n in live(doc.find_all("span", class_="meta-date"))]  # a date-time, shown as its day


def test_facet_links_add_their_filter_with_the_apis_counts(news):
    client, searcher = news
    doc = get_html(client, "/", q="芯片")
    api = searcher.search("芯片", facets=("source", "year"))["facets"]
    links = facet_links(doc)
    assert list(links) == ["source", "year"]
    for key, nodes in links.items():
        shown = [(n.find("span", class_="facet-name").text, int(n.find("span", class_="facet-count").text.replace(",", "")))
                 for n in nodes]
        assert shown == [(str(row["value"]), row["count"]) for row in api[key]]
    for node, row in zip(links["source"], api["source"]):
        added = q_of(node.attrs["href"])
        value = row["value"]
        assert added == "芯片 source:" + (f'"{value}"' if " " in value else value)
        narrowed = get_html(client, "/", q=added)
        assert narrowed.find(class_="total").text == str(row["count"])
        assert [c.text for c in chips(narrowed)] == ["来源：" + value + "×"]
        assert all(li.find("span", class_="meta-source").text == value for li in hits(narrowed))
    year = links["year"][0]
    assert q_of(year.attrs["href"]) == "芯片 date:2024"


def test_an_active_filter_is_a_chip_that_removes_it_and_its_facet_value_is_marked(news):
    client, _ = news
    doc = get_html(client, "/", q="芯片 date:2024 -source:人民日报", sort="newest", group="article")
    found = chips(doc)
    assert [c.text for c in found] == ["日期：2024×", "不含 来源：人民日报×"]
    assert [q_of(c.attrs["href"]) for c in found] == ["芯片 -source:人民日报", "芯片 date:2024"]
    for c in found:  # the view is kept
        assert params_of(c.attrs["href"])["sort"] == "newest" and params_of(c.attrs["href"])["group"] == "article"
    active = [n for n in facet_links(doc)["year"] if n.has_class("active")]
    assert [n.attrs.get("aria-current") for n in active] == ["true"]
    assert q_of(active[0].attrs["href"]) == "芯片 -source:人民日报"  # clicking it again removes it
    back = get_html(client, "/", q=q_of(found[0].attrs["href"]))
    assert chips(back)[0].text == "不含 来源：人民日报×"


def test_a_miss_under_a_filter_still_shows_its_chip(news):
    client, _ = news
    doc = get_html(client, "/", q="芯片 date:2019")
    assert doc.find(id="results").attrs["data-state"] == "none"
    assert [q_of(c.attrs["href"]) for c in chips(doc)] == ["芯片"]


def test_sort_switch_orders_by_date_and_is_kept_in_every_link(news):
    client, searcher = news
    doc = get_html(client, "/", q="芯片", sort="newest")
    switch = doc.find("nav", class_="switch-sort")
    links = {a.text: a for a in switch.find_all("a")}
    assert list(links) == ["相关度", "最新", "最早"]
    assert links["最新"].attrs.get("aria-current") == "true"
    assert params_of(links["最早"].attrs["href"]) == {"q": "芯片", "sort": "oldest"}
    assert params_of(links["相关度"].attrs["href"]) == {"q": "芯片"}
    dates = [li.find("span", class_="meta-date") for li in hits(doc)]
    days = [d.text for d in dates if d is not None]
    assert days == sorted(days, reverse=True) and days[0] == "2024-07-01"
    last = hits(get_html(client, "/", q="芯片", sort="newest", page="2"))
    assert last[-1].find("span", class_="meta-date") is None  # undated last
    assert [h["article_id"] for h in searcher.search("芯片", sort="newest")["hits"]] == \
        [unquote_plus(urlsplit(li.find("a", class_="hit-link").attrs["href"]).path.split("/")[-1]) for li in hits(doc)]
    kept = [a for a in live(doc.find(id="results").find_all("a")) if a.parent.tag != "nav" or a.parent.has_class("pager")]
    assert len(kept) > 10  # facet values, explain links, the pager
    for node in kept:
        if node.attrs["href"].startswith("/?"):
            assert params_of(node.attrs["href"]).get("sort") == "newest", node.attrs["href"]
    assert doc.find("input", name="sort").attrs["value"] == "newest"  # the form keeps it too


def test_pager_keeps_sort_and_group(news):
    client, _ = news
    doc = get_html(client, "/", q="芯片", sort="oldest")
    nxt = doc.find("a", rel="next")
    assert params_of(nxt.attrs["href"]) == {"q": "芯片", "sort": "oldest", "page": "2"}


def test_grouped_by_article_one_entry_each_with_count_and_linked_paragraphs(news):
    client, searcher = news
    doc = get_html(client, "/", q="芯片", group="article")
    api = searcher.search("芯片", group="article")
    entries = live(doc.find_all("li", class_="hit-article"))
    assert len(entries) == api["articles"] == 5
    assert doc.find(class_="articles").text == "5" and doc.find(class_="total").text == str(api["total"])
    group = {a.text: a for a in doc.find("nav", class_="switch-group").find_all("a")}
    assert group["按文章"].attrs.get("aria-current") == "true"
    assert params_of(group["按段落"].attrs["href"]) == {"q": "芯片"}
    for li, a in zip(entries, api["hits"]):
        assert li.find("span", class_="para-count").text == f"{a['total']} 个段落匹配"
        assert li.find("a", class_="hit-link").attrs["href"] == page_mod.article_url(a["article_id"], "芯片")
        paras = li.find_all("li", class_="hit-paragraph")
        assert 1 <= len(paras) == len(a["paragraphs"]) <= 3
        for p, h in zip(paras, a["paragraphs"]):
            assert p.find("a", class_="para-link").attrs["href"] == page_mod.article_url(a["article_id"], "芯片", h["paragraph"])
            assert p.find("mark").text == "芯片"
    biggest = next(li for li, a in zip(entries, api["hits"]) if a["article_id"] == "chip-2024")
    assert biggest.find("span", class_="para-count").text == "4 个段落匹配"  # title and three paragraphs
    assert len(biggest.find_all("li", class_="hit-paragraph")) == 3  # the best three shown


def test_explain_is_a_link_until_asked_then_shows_match_scores_and_word_boxes(news):
    client, searcher = news
    doc = get_html(client, "/", q="芯片 产业")
    first = hits(doc)[0].find("details", class_="explain")
    assert first.find("summary").text == "为什么匹配"
    more = first.find("a")
    assert params_of(more.attrs["href"]) == {"q": "芯片 产业", "explain": "1"}
    assert more.attrs["href"].endswith("#why-1") and first.find(id="why-1") is not None
    assert first.find("li", class_="explain-term") is None

    doc = get_html(client, "/", q="芯片 产业", explain="1")
    api = searcher.search("芯片 产业", explain=True)
    for li, h in zip(hits(doc), api["hits"]):
        terms = li.find_all("li", class_="explain-term")
        assert len(terms) == len(h["explain"]["terms"]) == 2
        for node, t in zip(terms, h["explain"]["terms"]):
            assert node.find("span", class_="term").text == t["term"]
            assert node.find("span", class_="match").text == {"word": "整词", "substring": "子串"}[t["match"]]
            nums = [n.text for n in node.find_all("span", class_="num")]
            assert nums == [page_mod.format_number(t["score"]["bm25"]), page_mod.format_number(t["score"]["whole_word_bonus"])]
            boxes = node.find_all("span", class_="word")
            assert [b.text for b in boxes] == [w["text"] for w in t["words"]]
            assert [b.has_class("word-match") for b in boxes] == [w["in_match"] for w in t["words"]]
    doc = get_html(client, "/", q="芯片 额创", explain="1")  # …芯片/出口额/创/同期…
    assert [n.text for n in live(doc.find_all("span", class_="match"))] == ["整词", "子串"]
    assert [n.text for n in live(doc.find_all("span", class_="word-match"))] == ["芯片", "创"]
    assert [n.text for n in live(doc.find_all("span", class_="word-part"))] == ["出口额"]  # 额创 cuts through it
    doc = get_html(client, "/", q="芯片", explain="1")
    assert params_of(doc.find("a", rel="next").attrs["href"])["explain"] == "1"  # kept while paging


def test_metadata_markup_is_escaped_in_hits_facets_and_chips(news):
    client, _ = news
    for q in ("芯片", "芯片 source:<script>alert(1)</script>"):
        resp = client.simulate_get("/", params={"q": q})
        assert resp.status_code == 200
        assert "<script>alert" not in resp.text
        doc = parse(resp.text)
        assert "<script>alert(1)</script>" in {n.text for n in live(doc.find_all("span", class_="meta-source"))}
        assert "<script>alert(1)</script>" in {n.text for n in live(doc.find_all("span", class_="facet-name"))}
        assert_page_basics(doc)
    assert chips(doc)[0].text == "来源：<script>alert(1)</script>×"


def test_unknown_sort_or_group_falls_back_to_the_default(news):
    client, _ = news
    doc = get_html(client, "/", q="芯片", sort="<x>", group="bogus")
    assert doc.find("nav", class_="switch-sort").find("a", class_="on").text == "相关度"
    assert doc.find("nav", class_="switch-group").find("a", class_="on").text == "按段落"


def test_a_corpus_without_metadata_has_no_sidebar_or_chips(client):
    doc = get_html(client, "/", q="联合国 source:x")
    assert doc.find("details", class_="facets") is None and chips(doc) == []
    assert doc.find(class_="controls") is not None


KEYS = frozenset({"source", "date"})


@hyp_settings(max_examples=300)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf")), min_size=1, max_size=20)
       .filter(lambda v: '"' not in v and v.strip()))
def test_a_facet_value_becomes_a_filter_for_exactly_that_value(value):
    parsed = parse_query(page_mod.filter_token("source", value), filter_keys=KEYS)
    assert parsed.filters == (Filter("source", value),) and not parsed.groups


@hyp_settings(max_examples=300)
@given(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["source:新闻联播", "-source:x", "date:2024",
                                                                  'source:"a b"', "date:2023..", "date:99", '"', "-"])),
                max_size=6).map(" ".join))
@example('" source:"a b" " source:"a b"')  # the search reads quoted phrases there, and no filter
def test_chips_are_the_filters_of_any_query_and_each_removes_one(q):
    def filters_of(text):  # as the search reads them, whatever the length and number of terms
        return parse_query(text, filter_keys=KEYS, max_chars=10**6, max_terms=10**6).filters

    found = page_mod.active_filters(q, KEYS)
    filters = set(filters_of(q))
    assert {filters_of(chip["token"])[0] for chip in found} <= filters
    for chip in found:
        assert chip["token"] in q and len(chip["without"]) < len(q)
        left = filters_of(chip["without"])
        assert q.count(chip["token"]) > 1 or filters_of(chip["token"])[0] not in left \
            or len(found) > len(filters)  # the same filter written twice
