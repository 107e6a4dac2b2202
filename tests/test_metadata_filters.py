"""Metadata filters in the query language, and the per-article arrays that answer them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from search.formats.metadata import MetadataIndex, MetadataIndexBuilder
from search.query.parser import DateRange, Filter, date_bounds, parse

KEYS = frozenset({"source", "date", "tags"})


@pytest.mark.parametrize("query, filters, terms", [
    ("芯片 source:新闻联播", (Filter("source", "新闻联播"),), ["芯片"]),
    ("Source:新闻联播", (Filter("source", "新闻联播"),), []),
    ('-source:"总统府 新闻" 经济', (Filter("source", "总统府 新闻", negated=True),), ["经济"]),
    ("date:2024", (DateRange(20240000, 20249999),), []),
    ("date:2024-03", (DateRange(20240300, 20240399),), []),
    ("date:2024-03-05", (DateRange(20240305, 20240305),), []),
    ("date:2023-06..2024-05", (DateRange(20230600, 20240599),), []),
    ("date:2024..", (DateRange(20240000, None),), []),
    ("date:..2019", (DateRange(None, 20199999),), []),
    ("date：2024 经济", (DateRange(20240000, 20249999),), ["经济"]),
])
def test_filters_parse(query: str, filters: tuple, terms: list[str]) -> None:
    parsed = parse(query, filter_keys=KEYS)
    assert parsed.filters == filters
    assert [u.key for g in parsed.groups for u in g] == terms


@pytest.mark.parametrize("query", ["foo:bar", "date:abc", "date:2024-02-30", "date:..", "source:", "date:2024-13"])
def test_what_is_no_filter_is_searched_literally(query: str) -> None:
    parsed = parse(query, filter_keys=KEYS)
    assert parsed.filters == ()
    assert [u.key for g in parsed.groups for u in g] == [query]


def test_without_metadata_keys_a_colon_word_is_text() -> None:
    assert parse("source:新闻联播").filters == ()
    assert parse("source:新闻联播").groups[0][0].key == "source:新闻联播"


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_property_any_query_parses_with_filters(query: str) -> None:
    try:
        parsed = parse(query, filter_keys=KEYS)
    except Exception as exc:  # only the documented limits may refuse a query
        assert type(exc).__name__ == "BadQuery"
        return
    for f in parsed.filters:
        assert isinstance(f, (Filter, DateRange))
        if isinstance(f, DateRange) and f.first is not None and f.last is not None:
            assert f.first <= f.last


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_property_date_bounds_raise_only_value_error(text: str) -> None:
    try:
        first, last = date_bounds(text)
    except ValueError:
        return
    assert first is not None or last is not None


ARTICLES = [
    {"source": "新闻联播", "date": "2024-03-05", "tags": ["芯片", "经济"]},
    {"source": "總統府新聞", "date": "2023-06-30T23:30:00+08:00"},
    {"source": "新闻联播", "date": "2019-12-31"},
    {"tags": ["经济"]},
    {},
]


@pytest.fixture
def index(tmp_path: Path) -> MetadataIndex:
    builder = MetadataIndexBuilder(tmp_path)
    for metadata in ARTICLES:
        builder.add_article(metadata)
    builder.finish()
    return MetadataIndex(tmp_path, len(ARTICLES))


def brute(predicate) -> list[int]:
    return [a for a, m in enumerate(ARTICLES) if predicate(m)]


def test_filters_match_a_brute_force_oracle(index: MetadataIndex) -> None:
    assert np.flatnonzero(index.articles_with("source", "新闻联播")).tolist() == brute(lambda m: m.get("source") == "新闻联播")
    assert np.flatnonzero(index.articles_with("source", "总统府新闻")).tolist() == [1]  # normalised on both sides
    assert np.flatnonzero(index.articles_with("tags", "经济")).tolist() == brute(lambda m: "经济" in m.get("tags", []))
    assert not index.articles_with("source", "nowhere").any() and not index.articles_with("nokey", "x").any()
    assert np.flatnonzero(index.articles_dated(*date_bounds("2023-06..2024-05"))).tolist() == [0, 1]
    assert np.flatnonzero(index.articles_dated(*date_bounds("..2019"))).tolist() == [2]
    assert np.flatnonzero(index.articles_dated(*date_bounds("2023-06-30"))).tolist() == [1]  # the date as written
    assert index.filter_keys() == {"source", "tags", "date"}


def test_facets_count_paragraphs_and_show_values_as_written(index: MetadataIndex) -> None:
    counts = np.repeat(np.arange(5), [3, 1, 2, 5, 4])  # the article of each matching paragraph
    assert index.facet("source", counts) == [{"value": "新闻联播", "count": 5}, {"value": "總統府新聞", "count": 1}]
    assert index.facet("tags", counts) == [{"value": "经济", "count": 8}, {"value": "芯片", "count": 3}]
    assert index.facet("year", counts) == [{"value": "2024", "count": 3}, {"value": "2019", "count": 2},
                                           {"value": "2023", "count": 1}]
    assert index.facet("month", counts)[0] == {"value": "2024-03", "count": 3}
    assert index.facet("nokey", counts) == []
    assert index.facet("year", np.array([], dtype=np.int64)) == []


def test_dates_sort_as_moments(index: MetadataIndex) -> None:
    assert np.argsort(index.date_order(newest=True), kind="stable").tolist() == [0, 1, 2, 3, 4]  # undated last
    assert np.argsort(index.date_order(newest=False), kind="stable").tolist() == [2, 1, 0, 3, 4]


def opening_allocates(folder: Path, distinct: int) -> int:
    """Bytes traced while opening metadata where each of ``distinct`` articles has its own url."""
    from conftest import traced

    builder = MetadataIndexBuilder(folder)
    for n in range(distinct):
        builder.add_article({"url": f"https://example.com/新闻/{n:06d}", "source": "新闻联播"})
    builder.finish()
    peak, index = traced(lambda: MetadataIndex(folder, distinct))
    assert index.facet("url", np.array([distinct - 1]))[0]["value"] == f"https://example.com/新闻/{distinct - 1:06d}"
    assert np.flatnonzero(index.articles_with("url", "https://example.com/新闻/000007")).tolist() == [7]
    return peak


def test_opening_costs_nothing_per_distinct_value(tmp_path: Path) -> None:
    """A key with a value per article (a url) is not read into memory when a build is opened (#14)."""
    small = opening_allocates(tmp_path / "small", 20)
    large = opening_allocates(tmp_path / "large", 20_000)
    assert large - small < 64 << 10, (small, large)
