"""The JSON API through Falcon's test client: shapes, status codes, escaping."""

import re
from html import unescape

import pytest


def test_search_returns_the_contract_shape(client, corpus):
    result = client.simulate_get("/api/search", params={"q": "图书馆", "size": 2})
    assert result.status_code == 200
    body = result.json
    assert set(body) == {"query", "total", "page", "size", "took_ms", "hits", "suggestions"}
    assert body["query"] == "图书馆" and body["page"] == 1 and body["size"] == 2 and body["suggestions"] == []
    assert body["total"] == len(corpus.containing("图书馆")) and len(body["hits"]) == 2
    for hit in body["hits"]:
        assert set(hit) == {"article_id", "article_title", "paragraph", "kind", "score", "text", "highlight", "metadata"}
        assert unescape(re.sub(r"</?mark>", "", hit["highlight"])) == hit["text"]


@pytest.mark.parametrize(
    "params",
    [{"q": "国", "page": "0"}, {"q": "国", "size": "0"}, {"q": "国", "size": "101"}, {"q": "国", "page": "x"},
     {"q": "国" * 1000}],
)
def test_out_of_range_parameters_are_400_json(client, params):
    result = client.simulate_get("/api/search", params=params)
    assert result.status_code == 400
    assert {"title", "description"} <= set(result.json)


def test_missing_query_is_an_empty_answer(client):
    result = client.simulate_get("/api/search")
    assert result.status_code == 200 and result.json["total"] == 0 and result.json["suggestions"] == []


def test_a_query_that_finds_nothing_has_suggestions_that_find_something(client):
    body = client.simulate_get("/api/search", params={"q": "夜读 图书官"}).json  # 官 for 馆: a homophone
    assert body["total"] == 0 and body["hits"] == []
    assert body["suggestions"][0] == "夜读 图书馆"
    for suggestion in body["suggestions"]:
        assert client.simulate_get("/api/search", params={"q": suggestion}).json["total"] > 0


def test_article_endpoint_and_404(client):
    result = client.simulate_get("/api/articles/wire-002", params={"q": "图书室"})
    assert result.status_code == 200
    body = result.json
    assert set(body) == {"id", "title", "source", "metadata", "paragraphs"}
    assert body["source"].startswith("test-articles/wire.jsonl")
    assert any("<mark>圖書室</mark>" in p["highlight"] for p in body["paragraphs"])
    missing = client.simulate_get("/api/articles/nope")
    assert missing.status_code == 404 and missing.json["title"]


def test_article_without_query_has_no_highlight(client):
    body = client.simulate_get("/api/articles/wire-001").json
    assert all("highlight" not in p for p in body["paragraphs"])


def test_healthz_counts_the_index(client, corpus):
    body = client.simulate_get("/healthz").json
    assert body["status"] == "ok"
    assert body["paragraphs"] == len(corpus.paragraphs)
    assert body["articles"] == len({aid for aid, *_ in corpus.paragraphs})
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body["index_built_at"])


def test_security_headers_on_api_and_errors(client):
    for path in ("/api/search?q=国", "/api/articles/nope", "/no/such/route"):
        headers = client.simulate_get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]


def test_unknown_route_is_json_404(client):
    result = client.simulate_get("/api/nothing", headers={"Accept": "application/xml"})
    assert result.status_code == 404
    assert result.headers["content-type"].startswith("application/json")


def test_missing_index_is_503_not_a_crash(tmp_path):
    from falcon import testing

    from search.config import Settings
    from search.web.app import create_app

    app = create_app(Settings(seeds_dir=tmp_path, index_dir=tmp_path / "index"))
    result = testing.TestClient(app).simulate_get("/api/search", params={"q": "国"})
    assert result.status_code == 503 and "zhsearch index" in result.json["description"]


@pytest.mark.parametrize("path", ["/api/search?q=港口", "/api/articles/wire-001", "/api/articles/wire-001/related",
                                  "/healthz", "/openapi.json", "/", "/?q=港口", "/articles/wire-001"])
def test_head_answers_like_get_without_a_body(client, path):
    get = client.simulate_get(path)
    head = client.simulate_head(path)
    assert get.status_code == head.status_code == 200
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.content == b""
