"""Filters, sorting and facets end to end (searcher and API), against truth computed by brute
force over the articles and their metadata (Ctrl+F over the paragraphs)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from falcon import testing

from search.build.indexer import build_index
from search.config import Settings
from search.paragraphs import read_articles
from search.query.parser import date_bounds
from search.query.searcher import Searcher
from search.text.normalize import normalize, skeleton
from search.web.app import create_app

SOURCES = ["新闻联播", "總統府新聞", "本报"]
WORDS = ["芯片", "经济", "碳中和", "會議", "港口"]


def records() -> list[dict]:
    out = []
    for i in range(60):
        record = {"id": f"a{i:02d}", "title": f"第{i}号 {WORDS[i % 5]}", "source": SOURCES[i % 3],
                  "text": f"{WORDS[i % 5]}相关的第一段。\n{WORDS[(i * 2) % 5]}与{WORDS[(i + 1) % 5]}的第二段。"}
        if i % 7:
            record["date"] = f"{2019 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        if i % 4 == 0:
            record["tags"] = ["重点", WORDS[i % 5]]
        out.append(record)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("meta")
    seeds = root / "seeds"
    seeds.mkdir()
    (seeds / "feed.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records()), encoding="utf-8")
    (seeds / "note.md").write_text("---\nsource: 博客\ndate: 2024-03-05\n---\n芯片博客文章。\n", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=root / "index", refresh_interval=0)
    build_index(settings, jobs=1)
    articles = list(read_articles(seeds, lambda problem: None))
    searcher = Searcher(settings)
    yield searcher, articles, settings
    searcher.close()


def key(text: str) -> str:
    return skeleton(normalize(text))


def truth(articles, term: str, keep=lambda article: True) -> list[tuple[str, int]]:
    return [(a.id, p.n) for a in articles if keep(a) for p in a.paragraphs if key(term) in key(p.text)]


def all_hits(searcher, q: str, **options) -> tuple[int, list[dict]]:
    first = searcher.search(q, size=100, **options)
    return first["total"], first["hits"]


def day(article) -> int:
    date = article.metadata.get("date")
    return int(date[:10].replace("-", "")) if date else 0


@pytest.mark.parametrize("query, keep", [
    ("芯片 source:新闻联播", lambda a: key(a.metadata.get("source", "")) == key("新闻联播")),
    ("芯片 source:总统府新闻", lambda a: key(a.metadata.get("source", "")) == key("總統府新聞")),
    ("经济 -source:本报", lambda a: key(a.metadata.get("source", "")) != key("本报")),
    ("经济 tags:重点", lambda a: "重点" in a.metadata.get("tags", [])),
    ("港口 date:2024", lambda a: 20240000 <= day(a) <= 20249999),
    ("芯片 date:2021-03", lambda a: 20210300 <= day(a) <= 20210399),
    ("经济 date:2020-06..2022-05", lambda a: day(a) and 20200600 <= day(a) <= 20220599),
    ("会议 date:2023..", lambda a: day(a) >= 20230000),
    ("芯片 date:..2020", lambda a: 0 < day(a) <= 20209999),
    ("芯片 date:2024-03-05", lambda a: day(a) == 20240305),
])
def test_every_filter_form_matches_brute_force(corpus, query: str, keep) -> None:
    searcher, articles, _ = corpus
    term = query.split()[0]
    total, hits = all_hits(searcher, query)
    expected = truth(articles, term, keep)
    assert total == len(expected) and expected
    assert sorted((h["article_id"], h["paragraph"]) for h in hits) == sorted(expected)


def test_a_word_with_a_colon_that_is_no_key_is_text(corpus) -> None:
    searcher, _, _ = corpus
    assert searcher.search("colour:red")["total"] == 0 and searcher.search("date:someday")["total"] == 0


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sorting_by_date_undated_last(corpus, sort: str) -> None:
    searcher, articles, _ = corpus
    by_id = {a.id: a for a in articles}
    total, hits = all_hits(searcher, "芯片", sort=sort)
    days = [day(by_id[h["article_id"]]) for h in hits]
    dated = [d for d in days if d]
    assert dated == sorted(dated, reverse=sort == "newest")
    assert days == dated + [0] * (len(days) - len(dated))  # undated last
    assert total == len(truth(articles, "芯片"))


def test_facets_are_exact_paragraph_counts_most_frequent_first(corpus) -> None:
    searcher, articles, _ = corpus
    result = searcher.search("芯片", facets=("source", "year", "month", "tags", "nokey"))
    matched = [(a, p) for a in articles for p in a.paragraphs if key("芯片") in key(p.text)]
    sources = Counter(a.metadata["source"] for a, _ in matched if "source" in a.metadata)
    years = Counter(a.metadata["date"][:4] for a, _ in matched if "date" in a.metadata)
    months = Counter(a.metadata["date"][:7] for a, _ in matched if "date" in a.metadata)
    assert {f["value"]: f["count"] for f in result["facets"]["source"]} == sources
    assert {f["value"]: f["count"] for f in result["facets"]["year"]} == years
    assert {f["value"]: f["count"] for f in result["facets"]["month"]} == months
    counts = [f["count"] for f in result["facets"]["source"]]
    assert counts == sorted(counts, reverse=True)
    assert result["facets"]["nokey"] == []
    assert "facets" not in searcher.search("芯片")


def test_hits_and_articles_carry_their_metadata(corpus) -> None:
    searcher, articles, _ = corpus
    by_id = {a.id: a for a in articles}
    for hit in searcher.search("芯片", size=50)["hits"]:
        assert hit["metadata"] == dict(by_id[hit["article_id"]].metadata)
    assert searcher.article("note")["metadata"] == {"source": "博客", "date": "2024-03-05"}


def test_a_filter_alone_lists_the_articles_paragraphs(corpus) -> None:
    searcher, articles, _ = corpus
    total, _ = all_hits(searcher, "source:博客")
    assert total == sum(len(a.paragraphs) for a in articles if a.metadata.get("source") == "博客")


def test_the_api_takes_sort_and_facets_and_refuses_a_bad_sort(corpus) -> None:
    searcher, _, settings = corpus
    client = testing.TestClient(create_app(settings, searcher=searcher))
    ok = client.simulate_get("/api/search", params={"q": "芯片 date:2019..", "sort": "newest", "facets": "source,year"})
    assert ok.status_code == 200 and set(ok.json["facets"]) == {"source", "year"}
    assert all("metadata" in hit for hit in ok.json["hits"])
    bad = client.simulate_get("/api/search", params={"q": "芯片", "sort": "sideways"})
    assert bad.status_code == 400 and "sort" in bad.json["description"]
    assert date_bounds("2024") == (20240000, 20249999)


def test_the_cli_takes_sort_and_facets(corpus, capsys) -> None:
    from search import cli

    _, articles, settings = corpus
    code = cli.main(["query", "--index", str(settings.index_dir), "--sort", "newest", "--facets", "source,year",
                     "--size", "3", "芯片"], environ={})
    out, _ = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert lines[1].startswith("source: ") and lines[2].startswith("year: ")
    newest = max((a for a in articles if "date" in a.metadata and any("芯片" in p.text for p in a.paragraphs)),
                 key=lambda a: a.metadata["date"])
    assert f"[{newest.id}]  {newest.metadata['date']} · {newest.metadata['source']}" in out
    code = cli.main(["query", "--index", str(settings.index_dir), "--json", "--facets", "month", "芯片"], environ={})
    assert code == 0 and "month" in json.loads(capsys.readouterr().out)["facets"]
