"""Timeline, concordance and export: every count against brute force over the texts of a real
index (dated, undated, with sources), and the context cutting over arbitrary text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re

import pytest
from hypothesis import example, given, settings, strategies as st

from conftest import fetch_all, index_records
from search.paragraphs import read_articles
from search.query.concordance import cut
from search.query.parser import BadQuery
from search.query.searcher import Searcher
from search.query.timeline import period_label, period_numbers
from search.text.normalize import fold, folds_in_place

WORDS = ["中国", "美国", "合作", "经济", "哈哈", "哈", "发展", "，", "。", "的", "會議", " ", "Ａ"]
SOURCES = ["甲报", "乙台", "丙网"]


def _articles() -> list[dict]:
    rng = random.Random(11)
    articles = []
    for i in range(120):
        text = "\n".join("".join(rng.choice(WORDS) for _ in range(rng.randint(2, 30))) for _ in range(rng.randint(1, 5)))
        article = {"id": f"a{i:03d}", "title": f"第{i}篇", "text": text, "source": rng.choice(SOURCES)}
        if i % 9:  # every ninth undated
            day = dt.date(2021, 11, 20) + dt.timedelta(days=rng.randint(0, 800))
            article["date"] = day.isoformat() if i % 4 else f"{day.isoformat()}T23:30:00+08:00"
        if i % 13 == 0:
            article["tags"] = ["x", "y;z"]
        articles.append(article)
    return articles


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    articles = _articles()
    settings_ = index_records(tmp_path_factory.mktemp("research"), articles)
    searcher = Searcher(settings_)
    meta = {a["id"]: a for a in articles}
    paragraphs = [(article.id, p.n, p.text, fold(p.text).skeleton)
                  for article in read_articles(settings_.seeds_dir, lambda problem: None) for p in article.paragraphs]
    yield searcher, meta, paragraphs
    searcher.close()


# --- timeline ------------------------------------------------------------------------------------


def label(day: dt.date, interval: str) -> str:
    if interval == "year":
        return f"{day.year:04d}"
    if interval == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if interval == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


def every_period(first: dt.date, last: dt.date, interval: str) -> list[str]:
    labels, day = [], first
    while day <= last:
        labels.append(label(day, interval))
        day += dt.timedelta(days=1)
    return list(dict.fromkeys(labels))


# (query, does a paragraph's skeleton match, does an article's metadata pass the filters)
QUERIES = [
    ("中国", lambda s: "中国" in s, lambda m: True),
    ("中国 合作", lambda s: "中国" in s and "合作" in s, lambda m: True),
    ("哈哈 OR 会议", lambda s: "哈哈" in s or "会议" in s, lambda m: True),
    ("经济 source:乙台", lambda s: "经济" in s, lambda m: m["source"] == "乙台"),
    ("发展 -source:甲报 date:2022", lambda s: "发展" in s,
     lambda m: m["source"] != "甲报" and m.get("date", "")[:4] == "2022"),
    ("date:2022-03..2023-01 美国", lambda s: "美国" in s, lambda m: "2022-03" <= m.get("date", "")[:7] <= "2023-01"),
    ("中国 NEAR/2 美国", lambda s: bool(re.search("中国.{0,2}美国|美国.{0,2}中国", s)), lambda m: True),
    ('"中?合作"', lambda s: bool(re.search("中[^。!?;]合作", s)), lambda m: True),
]


def brute_timeline(corpus, matches, admits, interval):
    _, meta, paragraphs = corpus
    matched = {aid for aid, _, _, skel in paragraphs if matches(skel) and admits(meta[aid])}
    dated = {aid: dt.date.fromisoformat(m["date"][:10]) for aid, m in meta.items() if "date" in m and admits(m)}
    return matched, dated


@pytest.mark.parametrize("interval", ["year", "month", "week", "day"])
def test_timeline_points_are_brute_force_counts(corpus, interval):
    searcher = corpus[0]
    result = searcher.timeline([q for q, _, _ in QUERIES[:5]], interval)
    assert result["interval"] == interval
    expected_axis: set = set()
    for (q, matches, admits), series in zip(QUERIES, result["series"]):
        matched, dated = brute_timeline(corpus, matches, admits, interval)
        assert series["query"] == q
        assert series["total"] == len(matched)
        assert series["undated"] == len([a for a in matched if a not in dated])
        per_period = {}
        for aid, day in dated.items():
            point = per_period.setdefault(label(day, interval), [0, 0])
            point[1] += 1
            point[0] += aid in matched
        for point in series["points"]:
            m, a = per_period.get(point["period"], [0, 0])
            assert (point["matches"], point["articles"]) == (m, a), point
            assert point["share"] == pytest.approx(m / a if a else 0.0, abs=1e-12)
        expected_axis |= {min(dated.values()), max(dated.values())} if dated else set()
    axis = every_period(min(expected_axis), max(expected_axis), interval)
    assert all([p["period"] for p in series["points"]] == axis for series in result["series"])


@pytest.mark.parametrize("interval", ["year", "month", "week", "day"])
@pytest.mark.parametrize("query", QUERIES[5:], ids=lambda q: q[0])
def test_timeline_of_one_filtered_query_spans_its_admitted_articles(corpus, interval, query):
    q, matches, admits = query
    (series,) = corpus[0].timeline([q], interval)["series"]
    matched, dated = brute_timeline(corpus, matches, admits, interval)
    assert [p["period"] for p in series["points"]] == every_period(min(dated.values()), max(dated.values()), interval)
    assert sum(p["matches"] for p in series["points"]) == len([a for a in matched if a in dated])
    assert sum(p["articles"] for p in series["points"]) == len(dated)


@given(day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
@settings(max_examples=500, deadline=None)
@example(day=dt.date(2021, 1, 3))  # ISO week 53 of 2020
@example(day=dt.date(2024, 12, 30))  # ISO week 1 of 2025
def test_period_numbers_and_labels_agree_with_the_calendar(day):
    number = int(day.strftime("%Y%m%d"))
    for interval in ("year", "month", "week", "day"):
        (period,) = period_numbers([number], interval).tolist()
        assert period_label(period, interval) == label(day, interval)
        (next_period,) = period_numbers([int((day + dt.timedelta(days=1)).strftime("%Y%m%d"))], interval).tolist() \
            if day < dt.date(9999, 12, 31) else (period,)
        assert next_period - period in (0, 1)  # consecutive: no period skipped


def test_timeline_limits(corpus):
    searcher = corpus[0]
    with pytest.raises(BadQuery):
        searcher.timeline(["a"] * 6)
    with pytest.raises(BadQuery):
        searcher.timeline([])
    with pytest.raises(BadQuery):
        searcher.timeline(["a"], "hour")
    (series,) = searcher.timeline(["   "], "year")["series"]
    assert series["total"] == 0 and all(p["matches"] == 0 for p in series["points"]) and series["points"]


# --- concordance ---------------------------------------------------------------------------------


def brute_lines(corpus, q, keys, width):
    """Every line of ``q`` (whose matches are the occurrences of ``keys``) in the search's order,
    each with its left and right sort keys."""
    searcher, meta, paragraphs = corpus
    texts = {(aid, n): text for aid, n, text, _ in paragraphs}
    lines = []
    for rank, hit in enumerate(fetch_all(searcher, q)[1]):
        text = texts[(hit["article_id"], hit["paragraph"])]
        folded = fold(text)
        skel = folded.skeleton
        spans = sorted({(i, i + len(k)) for k in keys for i in range(len(skel)) if skel.startswith(k, i)})
        for start, end in spans:
            o_start, o_end = folded.original_span(start, end)
            left_chars = [skel[k] for k in range(start) if folded.starts[k] >= o_start - width]
            right_chars = [skel[k] for k in range(end, len(skel)) if folded.ends[k] <= o_end + width]
            lines.append({"line": {"article_id": hit["article_id"], "article_title": hit["article_title"],
                                   "paragraph": hit["paragraph"], "date": meta[hit["article_id"]].get("date"),
                                   "left": text[max(0, o_start - width):o_start], "match": text[o_start:o_end],
                                   "right": text[o_end:o_end + width]},
                          "left": "".join(left_chars)[::-1], "right": "".join(right_chars), "rank": rank,
                          "start": start})
    return lines


def every_page(searcher, q, size, **options):
    first = searcher.concordance(q, size=size, **options)
    lines, page = list(first["lines"]), 2
    while len(lines) < first["total"]:
        more = searcher.concordance(q, size=size, page=page, **options)["lines"]
        assert more
        lines += more
        page += 1
    assert searcher.concordance(q, size=size, page=page, **options)["lines"] == []
    return first["total"], lines


@pytest.mark.parametrize("q, keys", [("中国", ["中国"]), ("哈哈", ["哈哈"]), ("哈哈哈", ["哈哈哈"]), ("中国 OR 会议", ["中国", "会议"]), ("经济 合作", ["经济", "合作"]),
                                     ("哈 source:丙网", ["哈"])])
@pytest.mark.parametrize("width", [1, 5, 20])
def test_concordance_lines_totals_and_pages_are_brute_force(corpus, q, keys, width):
    expected = brute_lines(corpus, q, keys, width)
    total, lines = every_page(corpus[0], q, 7, width=width)
    assert total == len(expected)
    assert lines == [e["line"] for e in expected]
    for line, e in zip(lines, expected):
        assert (line["left"] + line["match"] + line["right"]) in corpus[0].article(line["article_id"])[
            "paragraphs"][line["paragraph"] - 1]["text"]


@pytest.mark.parametrize("sort", ["left", "right"])
@pytest.mark.parametrize("q, keys", [("哈", ["哈"]), ("中国 OR 合作", ["中国", "合作"])])
def test_concordance_sorts_by_context_read_outwards(corpus, sort, q, keys):
    expected = sorted(brute_lines(corpus, q, keys, 6), key=lambda e: (e[sort], e["rank"], e["start"]))
    total, lines = every_page(corpus[0], q, 11, width=6, sort=sort)
    assert total == len(expected) and lines == [e["line"] for e in expected]
    csv_lines = list(corpus[0].concordance_of(q, width=6, sort=sort).lines())
    assert csv_lines == lines


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_concordance_by_date_follows_the_searchs_order(corpus, sort):
    searcher = corpus[0]
    order = [(h["article_id"], h["paragraph"]) for h in fetch_all_sorted(searcher, "合作", sort)]
    _, lines = every_page(searcher, "合作", 13, sort=sort)
    assert list(dict.fromkeys((line["article_id"], line["paragraph"]) for line in lines)) == order


def fetch_all_sorted(searcher, q, sort):
    result = searcher.search(q, size=100, sort=sort)
    hits, page = list(result["hits"]), 2
    while len(hits) < result["total"]:
        hits += searcher.search(q, size=100, page=page, sort=sort)["hits"]
        page += 1
    return hits


def test_concordance_of_patterns_and_near_has_a_line_per_marked_occurrence(corpus):
    searcher = corpus[0]
    for q in ['"中?合作"', "中国 NEAR/2 美国", '中国 NEAR/2 美国 中国']:
        total, lines = every_page(searcher, q, 50)
        marks = sum(h["highlight"].count("<mark>") for h in fetch_all(searcher, q)[1])
        assert total == len(lines) >= marks > 0  # touching occurrences are marked as one


def test_concordance_limits(corpus):
    searcher = corpus[0]
    for options in ({"width": 0}, {"width": 101}, {"size": 201}, {"size": 0}, {"page": 0}, {"sort": "up"}):
        with pytest.raises(BadQuery):
            searcher.concordance("中国", **options)


@given(text=st.text(max_size=40), key=st.text(min_size=1, max_size=3), width=st.integers(1, 12))
@settings(max_examples=400, deadline=None)
@example(text="ＡＢ聯合 國ab", key="合国", width=2)
@example(text="e\u0301 café", key="é", width=1)
def test_cutting_a_context_keeps_the_original_characters_around_the_match(text, key, width):
    from search.text.normalize import normalize, skeleton

    folded = fold(text)
    needle = skeleton(normalize(key))
    if not needle:
        return
    at = folded.skeleton.find(needle)
    if at < 0:
        return
    left, match, right = cut(text, at, at + len(needle), width, folded)
    if folds_in_place(text, folded.skeleton):  # its skeleton's places are its own
        assert cut(text, at, at + len(needle), width) == (left, match, right)
    start, end = folded.original_span(at, at + len(needle))
    assert match == text[start:end] and skeleton(normalize(match)) == needle or fold(match).skeleton
    assert left == text[max(0, start - width):start] and right == text[end:end + width]
    assert text[start - len(left):end + len(right)] == left + match + right
    assert len(left) == min(width, start) and len(right) == min(width, len(text) - end)


# --- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
@pytest.mark.parametrize("q", ["中国", "哈 OR 会议 source:乙台", '"中?合作"'])
def test_export_rows_are_the_searchs_hits_in_its_order(corpus, q, sort):
    searcher = corpus[0]
    hits = fetch_all_sorted(searcher, q, sort)
    export = searcher.export(q, sort=sort)
    rows = [json.loads(line) for line in b"".join(export.chunks("jsonl")).decode().splitlines()]
    assert export.total == len(hits) == len(rows)
    assert rows == [{"article_id": h["article_id"], "article_title": h["article_title"],
                     "date": h["metadata"].get("date"), "paragraph": h["paragraph"], "kind": h["kind"],
                     "score": h["score"], "text": h["text"], "metadata": h["metadata"]} for h in hits]
    table = list(csv.DictReader(io.StringIO(b"".join(export.chunks("csv")).decode())))
    assert [[r["article_id"], int(r["paragraph"]), r["text"], r["source"], r["date"]] for r in table] == [
        [h["article_id"], h["paragraph"], h["text"], h["metadata"]["source"], h["metadata"].get("date", "")]
        for h in hits]
    assert list(table[0]) == ["article_id", "article_title", "date", "paragraph", "kind", "score", "text", "source",
                              "tags"]
    tagged = [r["tags"] for r, h in zip(table, hits) if "tags" in h["metadata"]]
    assert all(t == "x;y;z" for t in tagged)


def test_export_stops_at_its_limit_with_a_note(corpus):
    searcher = corpus[0]
    export = searcher.export("哈", limit=5)
    text = b"".join(export.chunks("csv")).decode()
    assert text.splitlines()[-1] == f"# truncated at 5 of {export.total}" and export.total > 5
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 5 + 1
    lines = b"".join(export.chunks("jsonl")).decode().splitlines()
    assert len(lines) == 6 and json.loads(lines[-1]) == {"truncated": {"rows": 5, "total": export.total}}


def test_months_summed_into_years_are_the_year_timeline(corpus):
    from search.web.research_page import by_year

    queries = ["中国", "合作 source:乙台", "发展 date:2022-05..2023-02"]
    assert by_year(corpus[0].timeline(queries, "month")) == corpus[0].timeline(queries, "year")


counts = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=200)


@given(series=st.lists(counts, min_size=1, max_size=5), mode=st.sampled_from(["share", "count"]))
@settings(max_examples=200, deadline=None)
@example(series=[[(0, 0)]], mode="share")
@example(series=[[(3, 3), (1, 7)]], mode="count")
def test_the_chart_keeps_every_point_and_label_inside_its_frame(series, mode):
    from search.web import chart

    length = min(map(len, series))
    timeline_ = {"interval": "month", "series": [
        {"query": f"q{n}", "total": 0, "undated": 0, "points": [
            {"period": f"{2000 + i // 12:04d}-{i % 12 + 1:02d}", "matches": min(m, a), "articles": a,
             "share": min(m, a) / a if a else 0.0} for i, (m, a) in enumerate(points[:length])]}
        for n, points in enumerate(series)]}
    layout = chart.layout(timeline_, mode)
    top = max(p["share"] if mode == "share" else p["matches"] for s in timeline_["series"] for p in s["points"])
    for frame, spec in zip(layout["frames"], chart.FRAMES):
        for line in frame["lines"]:
            xy = [tuple(map(float, pair.split(","))) for pair in line["points"].split()]
            assert len(xy) == length
            assert all(spec.left <= x <= spec.width - spec.right and spec.top <= y <= spec.height - spec.bottom
                       for x, y in xy)
        assert len(frame["labels"]) <= spec.labels and frame["labels"][0]["text"] == timeline_["series"][0][
            "points"][0]["period"]
        tick_values = [t["y"] for t in frame["ticks"]]
        assert len(tick_values) <= spec.ticks + 1 and min(tick_values) <= spec.top + 1e-9 or top == 0
