"""The search box as an accessible combobox of completions (``static/suggest.js``), in real
headless Chromium: typing ``beij`` offers 北京, the keyboard picks it and its results come; the
WAI-ARIA combobox pattern (``role="combobox"``, ``aria-expanded``, ``aria-controls``,
``aria-activedescendant``, a ``listbox`` of ``option``s, arrow keys, Enter, Escape); debounced,
never holding up the results as you type; a plain form without JavaScript; usable on a phone."""

from __future__ import annotations

import re

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
    shot,
    sideways_scroll,
)
from playwright.sync_api import expect  # noqa: E402

ARTICLES = {
    "beijing": "北京举办科技周\n北京市今天开幕科技周活动，北京的市民踊跃参观。\n科技周的背景是创新发展。\n",
    "bank": "银行行长谈北京经济\n北京的银行行长今天表示，银行业务平稳。\n中国银行在北京举行发布会。\n",
    "weather": "北极寒潮南下\n北极的冷空气影响北方，北京气温下降。\n报警电话保持畅通。\n",
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    yield from base_url_for(tmp_path_factory.mktemp("suggest-browser"), ARTICLES)


def listbox(page):
    return page.get_by_role("listbox", name="搜索建议")


def test_typing_beij_offers_beijing_and_the_keyboard_searches_it(page):
    page.goto("/")
    box = page.get_by_role("combobox", name="搜索文章段落")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("beij")
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox(page).get_by_role("option")
    expect(options.first).to_contain_text("北京")
    assert box.get_attribute("aria-controls") == listbox(page).get_attribute("id")
    counts = [int(re.sub(r"\D", "", text)) for text in page.locator(".suggestion-count").all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and len(counts) >= 2
    shot(page, "suggest-01-open-desktop")

    box.press("ArrowDown")
    first = options.first
    expect(first).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    expect(box).to_be_focused()
    expect(box).to_have_value("beij")  # moving through the list leaves what was typed
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("aria-selected", "false")
    box.press("ArrowUp")
    expect(first).to_have_attribute("aria-selected", "true")
    box.press("Enter")

    expect(box).to_have_value("北京")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox(page)).to_be_hidden()
    expect(page.locator("#results .hit-text mark").first).to_have_text("北京")
    expect(page).to_have_url(re.compile(r"/\?q=%E5%8C%97%E4%BA%AC$"))
    shot(page, "suggest-02-chosen-desktop")


def test_escape_closes_the_list_and_keeps_the_text(page):
    page.goto("/")
    box = page.locator("#q")
    box.press_sequentially("北")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox(page)).to_be_hidden()
    assert box.get_attribute("aria-activedescendant") is None
    expect(box).to_have_value("北")
    box.press("ArrowDown")  # opens it again
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Enter")  # nothing chosen: the form searches what was typed
    expect(box).to_have_value("北")
    expect(box).to_have_attribute("aria-expanded", "false")
    assert query_of(page.url) == {"q": ["北"]}


def test_a_click_on_an_option_searches_it_and_nothing_to_offer_closes_the_list(page):
    page.goto("/")
    box = page.locator("#q")
    box.press_sequentially("yinh")
    listbox(page).get_by_role("option", name=re.compile("^银行 ")).click()
    expect(box).to_have_value("银行")
    expect(page.locator("#results .hit-text mark").first).to_have_text("银行")
    box.fill("zzzzq")
    expect(box).to_have_attribute("aria-expanded", "false")


def test_typing_is_debounced_and_the_results_keep_coming(page):
    asked = []
    page.on("request", lambda req: "/api/suggest?" in req.url and asked.append(req.url))
    page.goto("/")
    box = page.locator("#q")
    box.press_sequentially("beijing", delay=20)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#results")).to_have_attribute("data-state", "none")  # the search ran as typed
    page.wait_for_timeout(400)
    assert 1 <= len(asked) <= 3, asked
    assert query_of(asked[-1])["q"] == ["beijing"]
    box.fill("北京")
    expect(page.locator("#results")).to_have_attribute("data-state", "results")


def test_without_javascript_it_is_a_plain_form(browser, base_url):
    context, page, watch = new_page(browser, base_url, java_script_enabled=False)
    try:
        page.goto("/")
        box = page.get_by_role("searchbox", name="搜索文章段落")
        assert box.get_attribute("role") is None and box.get_attribute("aria-expanded") is None
        expect(page.locator("#q-suggestions")).to_have_count(0)
        box.fill("北京")
        box.press("Enter")
        expect(page.locator("#results .hit-text mark").first).to_have_text("北京")
    finally:
        context.close()
    assert watch.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_list_fits_and_a_tap_chooses(browser, base_url, scheme):
    with phone_page(browser, base_url, color_scheme=scheme) as page:
        page.goto("/")
        box = page.locator("#q")
        box.press_sequentially("bj")
        expect(box).to_have_attribute("aria-expanded", "true")
        shot(page, f"suggest-03-open-phone-{scheme}", full_page=False)
        assert sideways_scroll(page) == 0
        rect = listbox(page).bounding_box()
        assert rect["x"] >= 0 and rect["x"] + rect["width"] <= 375
        option = listbox(page).get_by_role("option").first
        assert option.bounding_box()["height"] >= 40  # a finger's target
        option.tap()
        expect(box).to_have_value("北京")
        expect(page.locator("#results .hit-text mark").first).to_have_text("北京")


def test_the_article_pages_box_completes_too(page):
    page.goto("/articles/beijing")
    box = page.locator("#q")
    box.press_sequentially("beij")
    expect(listbox(page).get_by_role("option").first).to_contain_text("北京")
    shot(page, "suggest-04-article-desktop", full_page=False)
    box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?q=%E5%8C%97%E4%BA%AC$"))
