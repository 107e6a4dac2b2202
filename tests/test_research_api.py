"""The research API over HTTP (Falcon's test client): CSV and JSON agree, the export streams as an
attachment in memory that does not grow with its rows and stops at its limit with a note, the
page's blocks render, and no query or parameter gives a 5xx."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import index_articles
from search.query import export as export_mod, tabular
from search.web.app import create_app

ARTICLES = {
    f"n{i:03d}": "\n".join([f"第{i}条新闻"] + [f"第{i}条第{j}段：中国与美国在合作中，哈哈哈，经济增长{'。' * (j % 3)}"
                                            for j in range(1, 8)])
    for i in range(60)
}


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(index_articles(tmp_path_factory.mktemp("research-api"), ARTICLES)))


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_timeline_csv_is_the_json(client):
    # these articles carry no dates: every match is undated and there are no periods
    body = client.simulate_get("/api/timeline", params={"q": ["中国", "美国 NEAR/3 合作"]}).json
    assert [s["query"] for s in body["series"]] == ["中国", "美国 NEAR/3 合作"]
    assert body["series"][0]["total"] == body["series"][0]["undated"] == len(ARTICLES)
    response = client.simulate_get("/api/timeline", params={"q": "中国", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "query,period,matches,articles,share"


def test_concordance_csv_has_every_line_unless_a_page_is_asked_for(client):
    first = client.simulate_get("/api/concordance", params={"q": "哈哈", "width": 4, "size": 200}).json
    assert first["total"] == 2 * 7 * len(ARTICLES)  # 哈哈 twice in 哈哈哈, 7 paragraphs an article
    every = rows(client.simulate_get("/api/concordance", params={"q": "哈哈", "width": 4, "format": "csv"}))
    assert len(every) == first["total"]
    assert every[:200] == [{k: str(v) if v is not None else "" for k, v in line.items()} for line in first["lines"]]
    page = rows(client.simulate_get("/api/concordance", params={"q": "哈哈", "width": 4, "format": "csv", "page": 2,
                                                                 "size": 5}))
    assert page == every[5:10]


def test_export_is_a_streamed_attachment_of_every_hit(client):
    response = client.simulate_get("/api/export", params={"q": "经济 增长", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="zhsearch-export.csv"'
    table = rows(response)
    assert len(table) == int(response.headers["x-total-count"]) == 7 * len(ARTICLES)
    search = client.simulate_get("/api/search", params={"q": "经济 增长", "size": 10}).json
    assert [(r["article_id"], int(r["paragraph"])) for r in table[:10]] == [
        (h["article_id"], h["paragraph"]) for h in search["hits"]]
    lines = client.simulate_get("/api/export", params={"q": "经济 增长", "format": "jsonl"}).text.splitlines()
    assert [json.loads(line)["text"] for line in lines] == [r["text"] for r in table]
    assert client.simulate_head("/api/export", params={"q": "经济"}).status_code == 200


def test_export_stops_at_the_limit_with_a_note(client, monkeypatch):
    monkeypatch.setattr(export_mod, "MAX_ROWS", 30)
    response = client.simulate_get("/api/export", params={"q": "中国"})
    lines = response.text.splitlines()
    assert lines[-1] == f"# truncated at 30 of {7 * len(ARTICLES)}" and len(rows(response)) == 31


def test_exporting_takes_memory_that_does_not_grow_with_the_rows(tmp_path_factory):
    """Once the result is ordered (its first chunk out), streaming the rest of an export holds a
    chunk at a time: the peak stays the same whether there are 800 rows or 2,400, a small part
    of what is sent (read and dropped, as a server does)."""
    articles = {f"m{i:03d}": "\n".join(f"第{i}篇{j}段{'：经济增长合作，' * 6}{'甲' if j < 2 else '乙'}" for j in range(8))
                for i in range(400)}
    app = create_app(index_articles(tmp_path_factory.mktemp("export-memory"), articles))

    def streamed(q: str) -> tuple[int, int]:
        tracemalloc.start()
        try:
            chunks = iter(app(falcon.testing.create_environ("/api/export", query_string=f"q={q}"), lambda *a: None))
            sizes = [len(next(chunks))]
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            sizes += [len(chunk) for chunk in chunks]
            # written a chunk at a time: none much over a chunk's characters in UTF-8
            assert len(sizes) > 5 and max(sizes) < 4 * tabular.CHUNK, sizes
            return tracemalloc.get_traced_memory()[1] - before, sum(sizes)
        finally:
            tracemalloc.stop()

    streamed("%E7%94%B2")  # warm up
    small_peak, small_bytes = streamed("%E7%94%B2")  # 甲: two paragraphs an article
    large_peak, large_bytes = streamed("%E4%B9%99")  # 乙: six
    assert large_bytes > 2.5 * small_bytes > 0
    assert large_peak < 1.25 * small_peak and large_peak < large_bytes / 4, (small_peak, large_peak, large_bytes)


def test_pages_render(client):
    page = client.simulate_get("/", params={"q": "中国", "vs": "美国", "chart": "count"})
    assert page.status_code == 200 and 'id="exports"' in page.text and "export-csv" in page.text
    assert client.simulate_get("/research", params={"q": "中国"}).status_code == 200
    kwic = client.simulate_get("/concordance", params={"q": "哈哈", "sort": "left", "width": "40", "page": "x"})
    assert kwic.status_code == 200 and kwic.text.count('class="kwic-match"') == 50
    assert client.simulate_get("/concordance", params={"q": '"?"'}).status_code == 400


@given(q=st.text(max_size=40) | st.sampled_from(['"*"', '"a', "NEAR", "a NEAR/1000 b", '"中?合作"', "-x NEAR y",
                                                 '"\\?"', "title:\"中*国\"", "中国 NEAR \"合?\""]),
       interval=st.sampled_from(["year", "week", "x"]), sort=st.sampled_from(["left", "right", "newest", ""]))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_query_or_parameter_gives_a_server_error(client, q, interval, sort):
    for path, params in [("/api/timeline", {"q": [q, q], "interval": interval, "format": "csv"}),
                         ("/api/concordance", {"q": q, "sort": sort, "width": 3}),
                         ("/api/concordance", {"q": q, "format": "csv"}),
                         ("/api/export", {"q": q, "sort": sort or "relevance", "format": "jsonl"}),
                         ("/", {"q": q, "vs": q, "interval": interval}), ("/research", {"q": q, "vs": "中国"}),
                         ("/concordance", {"q": q, "sort": sort})]:
        response = client.simulate_get(path, params=params)
        assert response.status_code < 500, (path, params, response.text[:200])
        if path.startswith("/api/") and response.status_code >= 400:
            assert set(response.json) == {"title", "description"}


def test_the_command_line_writes_the_same_export(tmp_path_factory, capsysbinary):
    from search.cli import EXIT_FAILED, main

    settings_ = index_articles(tmp_path_factory.mktemp("cli-export"), dict(list(ARTICLES.items())[:5]))
    client = falcon.testing.TestClient(create_app(settings_))
    for fmt in ("csv", "jsonl"):
        assert main(["query", "--index", str(settings_.index_dir), "--all", "--format", fmt, "--sort", "newest",
                     "经济 OR 第2条"]) == 0
        served = client.simulate_get("/api/export", params={"q": "经济 OR 第2条", "format": fmt, "sort": "newest"})
        assert capsysbinary.readouterr().out == served.content and served.content.count(b"\n") > 30
    assert main(["query", "--index", str(settings_.index_dir), "--format", "csv", "经济"]) == EXIT_FAILED
    assert b"--all" in capsysbinary.readouterr().err
    assert main(["query", "--index", str(settings_.index_dir), "--all", '"?"']) == EXIT_FAILED
