"""The research views in real headless Chromium: the timeline chart with and without JavaScript,
the compare box, the 语境 view's sorts and the export link's download (:mod:`browser_support`).
Screenshots (desktop and a 375 px phone) go to ``artifacts/screenshots/``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re

import pytest
from browser_support import require_browser

require_browser()
from browser_support import (  # noqa: E402, F401
    browser,
    new_page,
    phone_page,
    served,
    shot,
    sideways_scroll,
    watched_page,
)
from playwright.sync_api import expect  # noqa: E402

WORDS = ["芯片", "产业", "合作", "出口", "增长", "，", "。", "的", "国产芯片", "研发", "美国", "中国"]


def _feed() -> list[dict]:
    rng = random.Random(5)
    records = []
    for i in range(80):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
        text = "\n".join("".join(rng.choice(WORDS) for _ in range(rng.randint(4, 24))) for _ in range(rng.randint(1, 4)))
        records.append({"id": f"n{i:02d}", "title": f"新闻{i}：{rng.choice(WORDS)}{rng.choice(WORDS)}", "text": text,
                        "date": day.isoformat(), "source": rng.choice(["甲报", "乙台"])})
    return records


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    from conftest import index_records

    yield from served(index_records(tmp_path_factory.mktemp("research-browser"), _feed()))


@pytest.fixture
def desktop(browser, base_url):
    with watched_page(browser, base_url, viewport={"width": 1200, "height": 900}, accept_downloads=True) as (page, _):
        yield page


def test_the_chart_is_drawn_by_the_server_without_javascript(browser, base_url):
    context, page, watch = new_page(browser, base_url, java_script_enabled=False, viewport={"width": 1200, "height": 900})
    try:
        page.goto("/?q=%E8%8A%AF%E7%89%87")  # 芯片
        chart = page.locator("#research svg.chart-wide")
        expect(chart).to_be_visible()
        expect(chart.locator(".series-0 polyline")).to_have_count(1)
        assert chart.locator(".series-0 circle").count() > 10  # a dot a month, each with its tooltip
        expect(page.locator("#research .switch-mode a.on")).to_have_text("占比")
        expect(page.locator("#exports")).to_be_visible()
        page.locator("#research .switch-mode a", has_text="篇数").click()
        expect(page.locator("#research .switch-mode a.on")).to_have_text("篇数")
        expect(page.locator("#research figure")).to_have_attribute("data-mode", "count")
        shot(page, "research-01-chart-no-js-counts")
    finally:
        context.close()
    assert watch.problems == []


def test_the_chart_follows_the_query_as_the_user_types(desktop):
    desktop.goto("/")
    expect(desktop.locator("#research svg")).to_have_count(0)
    desktop.locator("#q").fill("出口")
    expect(desktop.locator("#research svg.chart-wide")).to_be_visible()
    expect(desktop.locator("#research .legend-query")).to_have_text(["出口"])
    expect(desktop.locator("#exports")).to_be_visible()
    expect(desktop.locator("#exports a.export-csv")).to_have_attribute("href", re.compile(r"q=%E5%87%BA%E5%8F%A3"))
    desktop.locator("#q").fill("没有这个词啊")
    expect(desktop.locator("#results")).to_have_attribute("data-state", "none")
    expect(desktop.locator("#exports")).to_be_hidden()
    expect(desktop.locator("#research svg")).to_have_count(0)


def test_the_compare_box_adds_a_second_line(desktop):
    desktop.goto("/?q=%E8%8A%AF%E7%89%87")
    expect(desktop.locator("#research svg.chart-wide .series polyline")).to_have_count(1)
    desktop.locator("#vs").fill("合作")
    desktop.locator("form.compare button").click()
    chart = desktop.locator("#research svg.chart-wide")
    expect(chart.locator(".series polyline")).to_have_count(2)
    expect(desktop.locator("#research .legend-query")).to_have_text(["芯片", "合作"])
    # the two lines are the API's two series, point for point
    api = desktop.request.get("/api/timeline?q=%E8%8A%AF%E7%89%87&q=%E5%90%88%E4%BD%9C&interval=month").json()
    assert chart.locator(".series-1 circle").count() == len(api["series"][1]["points"])
    shot(desktop, "research-02-compare-desktop")
    desktop.locator("#research .legend-remove").click()
    expect(desktop.locator("#research svg.chart-wide .series polyline")).to_have_count(1)


def test_the_timeline_csv_link_downloads_what_the_chart_shows(desktop):
    desktop.goto("/?q=%E8%8A%AF%E7%89%87&interval=year")
    with desktop.expect_download() as download:
        desktop.locator("#research a.timeline-csv").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r["period"] for r in rows] == ["2023", "2024", "2025"][: len(rows)] and rows
    labels = desktop.locator("#research svg.chart-wide .x-labels text").all_text_contents()
    assert labels == [r["period"] for r in rows]


def test_the_export_link_downloads_a_csv_of_every_matching_paragraph(desktop):
    desktop.goto("/?q=%E8%8A%AF%E7%89%87")
    total = int(desktop.locator("#status .total").inner_text().replace(",", ""))
    with desktop.expect_download() as download:
        desktop.locator("#exports a.export-csv").click()
    assert download.value.suggested_filename == "zhsearch-export.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(rows) == total
    assert list(rows[0]) == ["article_id", "article_title", "date", "paragraph", "kind", "score", "text", "source"]
    assert all("芯片" in r["text"] for r in rows)


def test_the_concordance_view_aligns_matches_and_sorts_by_context(desktop):
    desktop.goto("/?q=%E8%8A%AF%E7%89%87")
    desktop.locator("#research .tabs a", has_text="语境").click()
    expect(desktop).to_have_url(re.compile(r"/concordance\?q="))
    matches = desktop.locator("table.kwic .kwic-match")
    expect(matches.first).to_have_text("芯片")
    lefts = [box["x"] for box in (m.bounding_box() for m in matches.all()[:10])]
    assert max(lefts) - min(lefts) < 1  # one centre column
    for sort in ("left", "right"):
        desktop.locator(".switch-kwic-sort a", has_text="按左侧" if sort == "left" else "按右侧").click()
        expect(desktop.locator("table.kwic")).to_have_attribute("data-sort", sort)
        api = desktop.request.get(f"/api/concordance?q=%E8%8A%AF%E7%89%87&sort={sort}&width=20&size=50").json()
        rows = desktop.locator("table.kwic tbody tr")
        assert rows.locator(".kwic-left").all_inner_texts() == [line["left"] for line in api["lines"]]
        assert rows.locator(".kwic-right").all_inner_texts() == [line["right"] for line in api["lines"]]
    shot(desktop, "research-03-concordance-desktop")
    first = desktop.locator("table.kwic .kwic-match a").first
    href = first.get_attribute("href")
    first.click()
    expect(desktop).to_have_url(re.compile(r"/articles/n\d\d\?q=.+#p\d+$"))
    assert href.split("#")[1] == desktop.url.split("#")[1]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_narrow_chart_shows_and_nothing_scrolls_sideways(browser, base_url, scheme):
    with phone_page(browser, base_url, height=800, color_scheme=scheme) as page:
        page.goto("/?q=%E8%8A%AF%E7%89%87&vs=%E5%90%88%E4%BD%9C")
        expect(page.locator("#research svg.chart-narrow")).to_be_visible()
        expect(page.locator("#research svg.chart-wide")).to_be_hidden()
        # axis labels at a readable size: at least 10 CSS pixels tall on the screen
        heights = page.locator("#research svg.chart-narrow text").evaluate_all(
            "(els) => els.map((e) => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 10, heights
        assert sideways_scroll(page) == 0
        shot(page, f"research-04-phone-{scheme}-chart", full_page=False)
        page.goto("/concordance?q=%E8%8A%AF%E7%89%87&sort=left")
        assert sideways_scroll(page) == 0
        shot(page, f"research-05-phone-{scheme}-concordance", full_page=False)
