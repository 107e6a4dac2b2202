"""The pages pass an accessibility audit: axe-core (Deque's engine, bundled for Playwright by
``axe-playwright-python``) in real Chromium, WCAG 2.0/2.1 A and AA rules, on every view — the
empty page, results with facets and the timeline, the completion list open, grouped results, an
article, the keyword-in-context (语境) page, and each of them on a 375 px phone, in light and dark
colours — finds no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import require_browser

require_browser()
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from browser_support import browser, new_page, served, shot  # noqa: E402, F401
from playwright.sync_api import expect  # noqa: E402

NEWS = Path(__file__).resolve().parent / "fixtures" / "metadata" / "news.jsonl"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# an experimental rule, off unless asked for: a control's name must hold its visible text (WCAG 2.5.3)
EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def news_url(tmp_path_factory):
    from conftest import index_seed_files

    yield from served(index_seed_files(tmp_path_factory.mktemp("axe"), NEWS))


def violations(page) -> list[dict]:
    """The serious and critical WCAG A/AA violations axe-core finds on the page as it is now."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}, "rules": EXTRA_RULES})
    ran = {rule["id"] for kind in ("passes", "violations", "incomplete", "inapplicable")
           for rule in results.response[kind]}
    assert "color-contrast" in ran and set(EXTRA_RULES) <= ran
    return [{"rule": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results.response["violations"] if v["impact"] in BLOCKING]


def first_article(page) -> str:
    page.goto("/?q=%E8%8A%AF%E7%89%87")
    return page.locator("#results .hit-link").first.get_attribute("href")


def open_completions(page) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("芯")
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "true")


VIEWS = {
    "empty": lambda page: page.goto("/"),
    "results-facets": lambda page: page.goto("/?q=%E8%8A%AF%E7%89%87"),
    "none": lambda page: page.goto("/?q=xinpian"),
    "grouped-explain": lambda page: page.goto("/?q=%E8%8A%AF%E7%89%87&group=article&explain=1"),
    "completions-open": open_completions,
    "article": lambda page: page.goto(first_article(page)),
    "concordance": lambda page: page.goto("/concordance?q=%E8%8A%AF%E7%89%87"),
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_no_serious_or_critical_violation(browser, news_url, view, width, scheme):
    phone = width < 600
    context, page, watch = new_page(browser, news_url, viewport={"width": width, "height": 800 if phone else 900},
                                    color_scheme=scheme, is_mobile=phone, has_touch=phone)
    try:
        VIEWS[view](page)
        expect(page.locator("main")).to_be_visible()
        page.wait_for_load_state("networkidle")
        found = violations(page)
        shot(page, f"axe-{view}-{'phone' if phone else 'desktop'}-{scheme}")
    finally:
        context.close()
    assert found == []
    assert watch.problems == []
