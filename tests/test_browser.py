"""The search page in real headless Chromium.

Drives Debian's ``/usr/bin/chromium`` through the ``playwright`` package (never a downloaded
browser) against the real app over a small real index (:mod:`browser_support`). Screenshots go to
``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from browser_support import require_browser

require_browser()
from browser_support import (  # noqa: E402, F401
    base_url_for,
    browser,
    new_page,
    page,
    page_and_watch,
    phone_page,
    query_of,
    served,
    shot,
    sideways_scroll,
    watched_page,
)
from hypothesis import (  # noqa: E402
    HealthCheck,
    example,
    given,
    settings,
    strategies as st,
)
from playwright.sync_api import expect  # noqa: E402

from search.web import page as page_mod  # noqa: E402

ARTICLES = {
    "un_charter": "\n".join([
        "原标题：联合国宪章生效八十周年",
        "（新华社讯）联合国成员国代表周五在纽约集会，纪念《联合国宪章》生效八十周年。来自一百九十多个国家的代表出席了纪念活动，会场内外气氛庄重。",
        "秘书长在讲话中说，宪章的宗旨今天依然重要。与会者回顾了联合国维和行动的历史，并就多边合作的前景交换了意见。",
        "纽约联合国总部外的纪念展览。图源：新华社",
        "各国代表呼吁改革安理会，使其更能代表当今世界。多位发言者指出，发展中国家在国际事务中的声音应当得到更充分的体现。",
        "责任编辑：王小明",
    ]),
    "climate": "\n".join(
        ["气候大会今日闭幕"]
        + [f"第{i}位发言者谈到气候变化对农业、水资源和沿海城市的影响，并提出第{i}项建议，希望各方在资金和技术上加强合作。"
           for i in range(1, 24)]
    ),
    "markup": "\n".join([
        "标记与转义测试",
        "有人在评论里写了<script>alert(1)</script>，还有 &amp; 和 <b>粗体</b>，这些都应当原样显示。",
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
def base_url(tmp_path_factory):
    yield from base_url_for(tmp_path_factory.mktemp("browser"), ARTICLES)


# JSON-able structure of an element, whitespace-only text dropped, the time taken blanked.
CANON_JS = """(sel) => {
  function canon(node) {
    if (node.nodeType === 3) {
      const t = node.textContent.replace(/\\s+/g, ' ');
      return t.trim() ? t : null;
    }
    if (node.nodeType !== 1) return null;
    const attrs = {};
    for (const a of node.attributes) if (a.name !== 'aria-busy') attrs[a.name] = a.value;
    const kids = node.classList.contains('took')
      ? ['<took>'] : Array.from(node.childNodes).map(canon).filter((x) => x !== null);
    return [node.tagName.toLowerCase(), attrs, kids];
  }
  return canon(document.querySelector(sel));
}"""


def canon(page) -> list:
    return [page.evaluate(CANON_JS, "#status"), page.evaluate(CANON_JS, "#results")]


# --- typing --------------------------------------------------------------------------


def test_typing_shows_marked_results_without_enter_and_updates(page):
    page.goto("/")
    box = page.get_by_role("combobox", name="搜索文章段落")
    expect(box).to_be_focused()
    shot(page, "01-empty-desktop")

    box.press_sequentially("联合国")
    expect(page.locator("#results")).to_have_attribute("data-state", "results")
    marks = page.locator("#results .hit-text mark")
    expect(marks.first).to_be_visible()
    expect(page.locator("#status")).to_contain_text(re.compile(r"找到 \d+ 个段落，用时 [\d.]+ 毫秒"))
    expect(page).to_have_url(re.compile(r"/\?q=%E8%81%94%E5%90%88%E5%9B%BD$"))
    assert set(marks.all_inner_texts()) <= {"联合国", "聯合國"}
    assert page.title().startswith("联合国")
    shot(page, "02-results-desktop")

    box.fill("安理会")
    expect(page.locator("#results .hit")).to_have_count(1)
    expect(marks).to_have_text(["安理会"])
    assert query_of(page.url) == {"q": ["安理会"]}

    box.fill("")
    expect(page.locator("#results")).to_have_attribute("data-state", "empty")
    expect(page.locator("#results .notice-empty")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))


def test_enter_submits_and_slash_focuses_the_box(page):
    page.goto("/?q=%E5%AE%89%E7%90%86%E4%BC%9A")
    box = page.locator("#q")
    page.locator("footer.site a").first.focus()
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("安理会")  # the "/" was not typed into the box
    box.fill("气候")
    box.press("Enter")
    expect(page.locator("#results .hit")).to_have_count(10)
    assert query_of(page.url) == {"q": ["气候"]}


def test_a_stale_request_is_aborted_and_never_shown(page):
    held = []
    page.goto("/")
    page.route("**/api/search?*", lambda route: held.append(route) if "%E8%81%94" in route.request.url
               else route.continue_())
    box = page.locator("#q")
    with page.expect_request(lambda r: "/api/search?q=%E8%81%94" in r.url):
        box.fill("联合国")  # its response is held back by the route above
    with page.expect_event("requestfailed", predicate=lambda r: "%E8%81%94" in r.url) as failed:
        box.fill("安理会")
    assert failed.value.failure == "net::ERR_ABORTED"
    expect(page.locator("#results .hit")).to_have_count(1)
    expect(page.locator("#results mark")).to_have_text(["安理会"])
    assert len(held) == 1


SPY_ON_FETCH = """() => {
  window.__searches = [];
  const original = window.fetch;
  window.fetch = (url, options) => {
    const asked = new URL(url, location.href);  // searches only, not the box's completions
    if (asked.pathname === '/api/search') window.__searches.push(decodeURIComponent(asked.searchParams.get('q')));
    return original(url, options);
  };
}"""


def test_typing_is_debounced_and_waits_for_the_ime(page):
    page.clock.install()  # timers advance only when the test says so
    page.goto("/")
    page.evaluate(SPY_ON_FETCH)
    box = page.locator("#q")
    box.press_sequentially("气候变化")
    page.clock.run_for(100)
    assert page.evaluate("window.__searches") == []  # still typing: nothing sent yet
    page.clock.run_for(200)
    assert page.evaluate("window.__searches") == ["气候变化"]  # one request for the whole word
    expect(page.locator("#results .hit").first).to_be_visible()

    # An IME composing pinyin: no search for the Latin letters, one for the committed word.
    page.evaluate("""() => {
      const box = document.getElementById('q');
      box.value = 'anlihui';
      box.dispatchEvent(new InputEvent('input', {bubbles: true, isComposing: true, data: 'anlihui'}));
    }""")
    page.clock.run_for(1000)
    assert page.evaluate("window.__searches") == ["气候变化"]
    page.evaluate("""() => {
      const box = document.getElementById('q');
      box.value = '安理会';
      box.dispatchEvent(new CompositionEvent('compositionend', {bubbles: true, data: '安理会'}));
    }""")
    page.clock.run_for(1000)
    assert page.evaluate("window.__searches") == ["气候变化", "安理会"]
    expect(page.locator("#results mark")).to_have_text(["安理会"])


def test_result_count_is_announced(page):
    page.goto("/")
    status = page.get_by_role("status")
    expect(status).to_have_attribute("aria-live", "polite")
    page.locator("#q").press_sequentially("气候")
    expect(status).to_contain_text("找到")


# --- into the article ------------------------------------------------------------------


def test_a_hit_leads_to_its_paragraph_in_view_and_emphasised(page):
    page.set_viewport_size({"width": 1000, "height": 600})
    page.goto("/")
    page.locator("#q").press_sequentially("第20位")
    hit = page.locator("#results .hit-link")
    expect(page.locator("#results mark").first).to_have_text("第20位")  # the whole query's results, not 第20's
    expect(hit).to_have_count(1)
    hit.click()
    expect(page).to_have_url(re.compile(r"/articles/climate\?q=.+#p21$"))
    target = page.locator("#p21")
    expect(target).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 100  # it had to scroll: the paragraph is far down
    expect(target.locator("mark")).to_have_text(["第20位"])
    # Emphasised: the :target paragraph looks different from its neighbours.
    style = "(el) => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderLeftColor]; }"
    assert target.evaluate(style) != page.locator("#p20").evaluate(style)
    assert target.evaluate("(el) => el.matches(':target')")
    expect(page.locator("h1")).to_have_text("气候大会今日闭幕")
    shot(page, "04-article-target", full_page=False)

    page.locator("a.back").click()
    expect(page).to_have_url(re.compile(r"/\?q=%E7%AC%AC20%E4%BD%8D$"))
    expect(page.locator("#results mark").first).to_have_text("第20位")


def test_article_structure_is_styled_apart(page):
    page.goto("/articles/un_charter?q=%E8%81%94%E5%90%88%E5%9B%BD")
    expect(page.locator("h1#p1")).to_contain_text("联合国宪章生效八十周年")
    sizes = page.evaluate("""() => Object.fromEntries(
        ['#p1', '#p2', '#p3', '#p4', '#p6'].map((s) => [s, parseFloat(getComputedStyle(document.querySelector(s)).fontSize)]))""")
    assert sizes["#p1"] > sizes["#p2"] > sizes["#p3"] > sizes["#p4"]  # title > lead > body > caption
    assert sizes["#p6"] < sizes["#p3"]  # byline smaller than body
    line_height = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#p3')).lineHeight)")
    assert 1.6 <= line_height / sizes["#p3"] <= 2.0
    expect(page.locator("mark")).to_have_count(5)
    shot(page, "05-article-marked")
    page.keyboard.press("/")  # the header's search box, from the article too
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value("联合国")


# --- paging ----------------------------------------------------------------------------


def test_paging_with_rel_links(page):
    page.goto("/")
    page.locator("#q").press_sequentially("气候")
    expect(page.locator("#results .hit")).to_have_count(10)
    first_page = page.locator("#results .hit-link").evaluate_all("(els) => els.map((e) => e.href)")
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"page=2$"))
    expect(page.locator("ol.hits")).to_have_attribute("start", "11")
    expect(page.locator(".pager-info")).to_have_text("第 2 / 3 页")
    second_page = page.locator("#results .hit-link").evaluate_all("(els) => els.map((e) => e.href)")
    assert not set(first_page) & set(second_page)
    page.locator("a[rel=next]").click()
    expect(page.locator("ol.hits")).to_have_attribute("start", "21")
    expect(page.locator("a[rel=next]")).to_have_count(0)
    page.locator("a[rel=prev]").click()
    expect(page.locator("ol.hits")).to_have_attribute("start", "11")


def test_javascript_renders_the_same_markup_as_the_server(browser, base_url, page):
    _, nojs, watch = new_page(browser, base_url, java_script_enabled=False)
    try:
        server = {}
        for q in ("气候", "联合国", "评论", "没有这个词组合", "联和国宪章"):
            nojs.goto("/?q=" + q)
            server[q] = canon(nojs)
        nojs.goto("/")
        server[""] = canon(nojs)
    finally:
        nojs.context.close()
    assert watch.problems == []

    page.goto("/")
    box = page.locator("#q")
    for q in ("气候", "联合国", "评论", "没有这个词组合", "联和国宪章", ""):
        previous = page.locator("#status").inner_text()
        box.fill(q)
        if q:
            expect(page.locator("#status")).not_to_have_text(previous)
        else:
            expect(page.locator("#results")).to_have_attribute("data-state", "empty")
        expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")
        assert canon(page) == server[q], q
        if q == "没有这个词组合":
            shot(page, "08-no-results")
        if q == "联和国宪章":  # a homophone typo: 您是不是要找 links, the same from the server and the script
            expect(page.locator(".did-you-mean a").first).to_have_text("联合国宪章")
            shot(page, "09-did-you-mean")
    box.fill("联和国宪章")
    page.locator(".did-you-mean a").first.click()
    expect(page.locator("#results")).to_have_attribute("data-state", "results")
    expect(page.locator("#q")).to_have_value("联合国宪章")


# --- safety ----------------------------------------------------------------------------


def test_an_injection_attempt_executes_nothing(page):
    attack = "<img src=x onerror=window.__pwned=1>"
    page.goto("/")
    page.locator("#q").press_sequentially(attack)
    expect(page.locator("#status")).to_contain_text(attack)
    expect(page.locator("#results")).to_have_attribute("data-state", re.compile("none|error|results"))
    page.locator("#q").press("Enter")
    page.goto(page.url)  # the shared URL, rendered by the server
    expect(page.locator("#q")).to_have_value(attack)
    assert page.evaluate("window.__pwned") is None
    expect(page.locator("img")).to_have_count(0)

    page.goto("/?q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    page.locator("#q").fill("评论")
    expect(page.locator(".hit-text")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator(".hit-text b")).to_have_count(0)
    page.locator(".hit-link").click()
    expect(page.locator("#p2")).to_contain_text("<b>粗体</b>")
    assert page.evaluate("window.__pwned") is None  # and the Watch saw no dialog


def test_error_state_when_the_api_fails(page_and_watch):
    page, watch = page_and_watch
    watch.allow(r"HTTP 500 .*/api/search|status of 500|request failed: .*/api/search|ERR_CONNECTION_REFUSED")
    page.goto("/")
    page.route("**/api/search?*", lambda route: route.fulfill(status=500, body="boom"))
    page.locator("#q").press_sequentially("联合国")
    expect(page.locator("#results")).to_have_attribute("data-state", "error")
    expect(page.locator("#status")).to_have_text("搜索服务暂时不可用，请稍后再试。")
    expect(page.locator("#results .notice-error")).to_be_visible()
    shot(page, "06-error-state")

    page.unroute("**/api/search?*")
    page.route("**/api/search?*", lambda route: route.abort("connectionrefused"))
    page.locator("#q").fill("安理会")
    expect(page.locator("#status")).to_have_text("无法连接搜索服务，请检查网络后再试。")

    page.unroute("**/api/search?*")
    page.locator("#q").fill("安理会")
    expect(page.locator("#results .hit")).to_have_count(1)


def test_a_bad_query_shows_the_servers_reason(page_and_watch):
    page, watch = page_and_watch
    watch.allow(r"HTTP 400 .*/api/search|status of 400")
    page.goto("/")
    page.locator("#q").fill("联合国" * 200)
    expect(page.locator("#results")).to_have_attribute("data-state", "error")
    expect(page.locator("#status")).not_to_be_empty()
    assert "搜索服务暂时不可用" not in page.locator("#status").inner_text()


def test_unknown_article_is_a_friendly_404(page_and_watch):
    page, watch = page_and_watch
    watch.allow(r"HTTP 404 .*/articles/nope|status of 404")
    response = page.goto("/articles/nope")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("找不到这篇文章")


# --- keyboard, phone, no JavaScript ----------------------------------------------------


def test_keyboard_reaches_hits_with_a_visible_focus_ring(page):
    page.goto("/")
    page.locator("#q").press_sequentially("安理会")
    expect(page.locator("#results .hit")).to_have_count(1)
    for _ in range(30):  # past the box, the sort, the timeline's controls and the export links
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('hit-link')"):
            break
    else:
        pytest.fail("Tab never reached the hit")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/articles/un_charter\?q=.+#p5$"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width_has_no_horizontal_scroll(browser, base_url, scheme):
    with phone_page(browser, base_url, color_scheme=scheme) as page:
        paths = {
            "empty": "/",
            "results": "/?q=%E8%81%94%E5%90%88%E5%9B%BD",
            "paged": "/?q=%E6%B0%94%E5%80%99&page=2",
            "long": "/articles/long_latin?q=%E8%81%94%E5%90%88%E5%9B%BD",
            "article": "/articles/un_charter?q=%E8%81%94%E5%90%88%E5%9B%BD#p3",
        }
        for name, path in paths.items():
            page.goto(path)
            expect(page.locator("main")).to_be_visible()
            assert sideways_scroll(page) == 0, path
            shot(page, f"03-phone-{scheme}-{name}")


def test_without_javascript_the_server_renders_marked_results(browser, base_url):
    context, page, watch = new_page(browser, base_url, java_script_enabled=False)
    try:
        page.goto("/?q=%E8%81%94%E5%90%88%E5%9B%BD")
        expect(page.locator("#results .hit-text mark").first).to_have_text(re.compile("联合国|聯合國"))
        expect(page.locator("#status")).to_contain_text("找到")
        page.locator("#q").fill("气候")
        page.locator("#q").press("Enter")  # a plain GET form
        expect(page).to_have_url(re.compile(r"/\?q=%E6%B0%94%E5%80%99$"))
        page.locator("a[rel=next]").click()
        expect(page.locator("ol.hits")).to_have_attribute("start", "11")
        shot(page, "07-no-js-page-2")
    finally:
        context.close()
    assert watch.problems == []


# --- metadata: facets, chips, sort, grouping, explain (issues #12, #13) --------------------

NEWS = Path(__file__).resolve().parent / "fixtures" / "metadata" / "news.jsonl"


@pytest.fixture(scope="module")
def news_url(tmp_path_factory):
    """A server over dated articles from several sources (tests/fixtures/metadata/news.jsonl)."""
    from conftest import index_seed_files

    yield from served(index_seed_files(tmp_path_factory.mktemp("news-browser"), NEWS))


@pytest.fixture
def news_page(browser, news_url):
    with watched_page(browser, news_url, viewport={"width": 1280, "height": 900}) as (page, _):
        yield page


def settled(page) -> None:
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")


def test_javascript_renders_facets_chips_grouping_and_explain_as_the_server_does(browser, news_url, news_page):
    cases = [
        ("芯片", ""),
        ("芯片 source:新闻联播", ""),
        ('芯片 source:"晚间 新闻"', ""),
        ("芯片 date:2024 -source:人民日报", "sort=newest"),
        ("芯片", "group=article&sort=oldest"),
        ("芯片 额创", "explain=1"),
        ("芯片", "group=article&explain=1"),
        ("芯片 date:2019", ""),
        ("芯片 source:<script>alert(1)</script>", ""),
        ('" source:"晚间 新闻" " source:"晚间 新闻"', ""),  # the quotes pair up as phrases: no filter
        ('芯片 -source:"晚间 新闻" title:date:2024', ""),
        ("芯片\U000e0001source:新闻联播 date:2024", ""),  # a format character two UTF-16 units long
    ]
    _, nojs, watch = new_page(browser, news_url, java_script_enabled=False)
    try:
        server = {}
        for q, view in cases:
            nojs.goto("/?q=" + quote_plus(q) + ("&" + view if view else ""))
            server[q, view] = canon(nojs)
    finally:
        nojs.context.close()
    assert watch.problems == []

    for q, view in cases:
        news_page.goto("/?" + view)
        previous = news_page.locator("#status").inner_text()
        news_page.locator("#q").fill(q)
        expect(news_page.locator("#status")).not_to_have_text(previous)
        settled(news_page)
        assert canon(news_page) == server[q, view], (q, view)
        assert query_of(news_page.url) == query_of("/?q=" + quote_plus(q) + ("&" + view if view else ""))
    assert news_page.evaluate("window.__pwned") is None


def test_clicking_a_facet_value_narrows_and_its_chip_takes_it_back(news_page):
    news_page.goto("/?q=" + quote_plus("芯片"))
    total = news_page.locator("#status .total").inner_text()
    shot(news_page, "20-facets-desktop")
    source = news_page.locator(".facet[data-key=source] .facet-value", has_text="新闻联播")
    expect(source).to_be_visible()
    count = source.locator(".facet-count").inner_text()
    source.click()
    expect(news_page.locator(".chip")).to_have_text(["来源：新闻联播×"])
    expect(news_page.locator("#status .total")).to_have_text(count)
    assert query_of(news_page.url) == {"q": ["芯片 source:新闻联播"]}
    assert set(news_page.locator(".hit .meta-source").all_inner_texts()) == {"新闻联播"}
    expect(news_page.locator(".facet[data-key=source] .facet-value.active")).to_have_count(1)
    shot(news_page, "21-facet-chosen")

    news_page.locator(".facet[data-key=year] .facet-value", has_text="2024").click()
    expect(news_page.locator(".chip")).to_have_text(["来源：新闻联播×", "日期：2024×"])
    news_page.locator(".chip", has_text="新闻联播").click()
    expect(news_page.locator(".chip")).to_have_text(["日期：2024×"])
    news_page.locator(".chip").click()
    expect(news_page.locator(".chip")).to_have_count(0)
    expect(news_page.locator("#status .total")).to_have_text(total)
    assert query_of(news_page.url) == {"q": ["芯片"]}


def test_typing_a_filter_draws_its_chip_live(news_page):
    news_page.goto("/")
    news_page.locator("#q").press_sequentially("芯片 date:2023")
    expect(news_page.locator(".chip")).to_have_text(["日期：2023×"])
    expect(news_page.locator(".hit")).to_have_count(2)


def test_sort_switch_and_grouping_by_article(news_page):
    news_page.goto("/?q=" + quote_plus("芯片"))
    news_page.locator(".switch-sort a", has_text="最新").click()
    expect(news_page.locator(".switch-sort a.on")).to_have_text("最新")
    assert query_of(news_page.url) == {"q": ["芯片"], "sort": ["newest"]}
    expect(news_page.locator(".hit .meta-date").first).to_have_text("2024-07-01")

    news_page.locator(".switch-group a", has_text="按文章").click()
    expect(news_page.locator(".hit-article")).to_have_count(5)
    assert query_of(news_page.url) == {"q": ["芯片"], "sort": ["newest"], "group": ["article"]}
    expect(news_page.locator("#status .articles")).to_have_text("5")
    first = news_page.locator(".hit-article").first
    expect(first.locator(".meta-date")).to_have_text("2024-07-01")
    shot(news_page, "22-grouped-newest")
    # typing keeps the view: the script asks for the same sort and grouping
    news_page.locator("#q").fill("芯片 出口")
    expect(news_page.locator(".hit-article")).to_have_count(1)
    assert query_of(news_page.url) == {"q": ["芯片 出口"], "sort": ["newest"], "group": ["article"]}
    news_page.locator(".hit-article .para-link").first.click()
    expect(news_page).to_have_url(re.compile(r"/articles/chip-2024-late\?q=.+#p\d+$"))


def test_explain_toggle_opens_with_match_kinds_and_word_boxes(news_page):
    news_page.goto("/?q=" + quote_plus("芯片 额创"))
    toggle = news_page.locator(".hit .explain").first
    expect(toggle.locator(".explain-body")).to_be_hidden()
    toggle.locator("summary").click()
    more = toggle.locator(".explain-more a")
    expect(more).to_be_visible()
    more.click()  # the server explains this page; the fragment opens the same hit's toggle
    expect(news_page).to_have_url(re.compile(r"explain=1#why-1$"))
    body = news_page.locator(".hit .explain-body").first
    expect(body).to_be_visible()
    expect(body.locator(".match")).to_have_text(["整词", "子串"])
    expect(body.locator(".word-match")).to_have_text(["芯片", "创"])
    expect(body.locator(".word").first).to_be_visible()
    shot(news_page, "23-explain-open")


def test_phone_width_shows_the_sidebar_collapsed(browser, news_url):
    with phone_page(browser, news_url) as page:
        page.goto("/?q=" + quote_plus("芯片 date:2024"))
        facets = page.locator("details.facets")
        expect(facets.locator("summary")).to_be_visible()
        expect(facets.locator(".facet").first).to_be_hidden()
        assert sideways_scroll(page) == 0
        shot(page, "24-phone-facets-closed", full_page=False)
        facets.locator("summary").click()
        expect(facets.locator(".facet").first).to_be_visible()
        shot(page, "25-phone-facets-open", full_page=False)


def test_desktop_shows_the_sidebar_open_without_javascript(browser, news_url):
    context, page, watch = new_page(browser, news_url, viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        page.goto("/?q=" + quote_plus("芯片"))
        expect(page.locator("details.facets .facet").first).to_be_visible()
        expect(page.locator("details.facets summary")).to_be_hidden()
        page.locator(".facet[data-key=year] .facet-value", has_text="2023").click()
        expect(page.locator(".chip")).to_have_text(["日期：2023×"])
        expect(page.locator("#status .total")).to_have_text("2")
    finally:
        context.close()
    assert watch.problems == []


QUERY_PIECES = st.one_of(st.text(max_size=6), st.sampled_from([
    'source:"晚间 新闻"', "-source:新闻联播", "date:2024", "date:2023..", "date:2024-02-30", '"', "-", "title:", "NOT",
    "SOURCE：x", "ｓｏｕｒｃｅ:y", "ſource:z", "DATE:2024", "\u00a0", "\x1c", "\u200b", "\U000e0001", "\u3000"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.lists(QUERY_PIECES, max_size=6).map(lambda pieces: "".join(p + " " * (i % 2) for i, p in enumerate(pieces))))
@example(q='" source:"晚间 新闻" " source:"晚间 新闻"')
@example(q="芯片\U000e0001source:新闻联播 date:2024")
@example(q='ſource:"晚间 新闻" 芯片\x1f')  # ſ casefolds to s; U+001F is white space to Python
def test_the_scripts_chips_are_the_servers_for_any_query(news_page, q):
    """search.js finds a query's filters by the rules of search/query.py's lexer, ported: the
    chips it draws while typing are those the server renders, for any query."""
    if news_page.url == "about:blank":  # the first example: load the search page once
        news_page.goto("/")
    keys = frozenset(json.loads(news_page.get_attribute("#results", "data-filter-keys")))
    assert keys
    script = news_page.evaluate("q => window.zhsearchActiveFilters(q)", q)
    assert script == page_mod.active_filters(q, keys)
