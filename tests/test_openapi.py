"""`/openapi.json` describes the API exactly: the document is valid OpenAPI, and schemathesis
(every built-in check: no 5xx, documented status codes, content types, response schemas, negative
data rejected) finds nothing against the real app over a small real index.
"""

from __future__ import annotations

import falcon.testing
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode

from conftest import index_articles
from search.config import Settings
from search.web.app import create_app
from search.web.openapi import openapi_document

MAX_EXAMPLES = 40  # per operation and mode; the whole module stays well under 30 s

ARTICLES = {
    "un": "联合国宪章生效八十周年\n联合国成员国代表周五在纽约集会，纪念《联合国宪章》生效八十周年。\n责任编辑：王小明\n",
    "climate": "气候大会今日闭幕\n气候变化对农业的影响很大。与会者呼吁各国合作。\n",
    "latin": "Hello World 测试\n会议资料 https://example.org/a?b=1 下载，涉及 OR 与 NOT 等英文词。\n",
    "trad": "聯合國大會通過決議\n聯合國大會今日以壓倒性多數通過決議，呼籲各方保持克制。\n",
}


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory) -> Settings:
    return index_articles(tmp_path_factory.mktemp("openapi"), ARTICLES)


@pytest.fixture(scope="module")
def app(app_settings):
    return create_app(app_settings)


@pytest.fixture(scope="module")
def client(app) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(app)


def test_document_is_valid_openapi(client, app_settings):
    response = client.simulate_get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json
    validate(document)  # raises on an invalid document
    assert document == openapi_document(app_settings)
    assert set(document["paths"]) == {"/api/search", "/api/articles/{article_id}",
                                      "/api/articles/{article_id}/related", "/api/suggest", "/healthz", "/openapi.json",
                                      "/api/timeline", "/api/concordance", "/api/export", "/",
                                      "/articles/{article_id}"}


def test_document_states_the_enforced_limits(client, app_settings):
    search = client.simulate_get("/openapi.json").json["paths"]["/api/search"]["get"]
    params = {p["name"]: p["schema"] for p in search["parameters"]}
    assert params["q"]["maxLength"] == app_settings.max_query_chars
    assert params["page"]["minimum"] == 1 and params["page"]["maximum"] == app_settings.max_page
    assert params["size"]["minimum"] == 1 and params["size"]["maximum"] == app_settings.max_page_size
    # ...and the app enforces exactly those bounds
    ok = {"page": app_settings.max_page, "size": app_settings.max_page_size, "q": "联" * app_settings.max_query_chars}
    assert client.simulate_get("/api/search", params=ok).status_code == 200
    for name, bad in [("page", app_settings.max_page + 1), ("size", app_settings.max_page_size + 1),
                      ("q", "联" * (app_settings.max_query_chars + 1)), ("page", 0), ("size", 0)]:
        response = client.simulate_get("/api/search", params={**ok, name: bad})
        assert response.status_code == 400, (name, bad)
        assert set(response.json) == {"title", "description"}


def _strict_objects(schema, where="#"):
    """Every object schema with fixed properties forbids extra ones and requires its fields."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            assert schema.get("additionalProperties") is False, where
            assert schema.get("required"), where
        for key, value in schema.items():
            yield from _strict_objects(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _strict_objects(value, f"{where}/{i}")
    yield where


def test_schemas_are_strict(app_settings):
    document = openapi_document(app_settings)
    list(_strict_objects(document["components"]["schemas"]))
    hit = document["components"]["schemas"]["Hit"]
    assert set(hit["required"]) == {"article_id", "article_title", "paragraph", "kind", "score", "text", "highlight",
                                    "metadata"}
    result = document["components"]["schemas"]["SearchResult"]
    assert set(result["required"]) == {"query", "total", "page", "size", "took_ms", "hits", "suggestions"}


def draft4(schema):
    """OpenAPI 3.0's ``nullable: true`` as draft 4 says it (a ``null`` type besides)."""
    if isinstance(schema, list):
        return [draft4(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: draft4(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        out["type"] = [schema["type"], "null"]
    return out


def test_real_responses_match_the_schemas(client, app_settings):
    """A response that drifted from the document fails here even before schemathesis runs."""
    from jsonschema import Draft4Validator, FormatChecker  # OpenAPI 3.0 schemas are close to draft 4

    document = openapi_document(app_settings)
    schemas = draft4(document["components"]["schemas"])
    resolver_doc = {"components": {"schemas": schemas}}

    def check(name, body):
        schema = {**schemas[name], "components": resolver_doc["components"]}
        errors = list(Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(body))
        assert not errors, (name, [e.message for e in errors])

    check("SearchResult", client.simulate_get("/api/search", params={"q": "联合国"}).json)
    typo = client.simulate_get("/api/search", params={"q": "联和国"}).json
    assert typo["suggestions"]
    check("SearchResult", typo)
    check("Article", client.simulate_get("/api/articles/un", params={"q": "联合国"}).json)
    check("Health", client.simulate_get("/healthz").json)
    related = client.simulate_get("/api/articles/un/related", params={"size": 3}).json
    assert related["related"]
    check("Related", related)
    check("Timeline", client.simulate_get("/api/timeline", params={"q": ["联合国", "气候"], "interval": "day"}).json)
    check("Concordance", client.simulate_get("/api/concordance", params={"q": "联合国 OR 气候", "width": 3}).json)
    check("Error", client.simulate_get("/api/timeline").json)
    check("Error", client.simulate_get("/api/export", params={"q": '"?"'}).json)
    check("Error", client.simulate_get("/api/articles/nope").json)
    check("Error", client.simulate_get("/api/search", params={"size": "x"}).json)
    # the checker does bite: an extra field and a missing one are both refused
    body = client.simulate_get("/api/search", params={"q": "联合国"}).json
    with pytest.raises(AssertionError):
        check("SearchResult", {**body, "extra": 1})
    with pytest.raises(AssertionError):
        check("Hit", {k: v for k, v in body["hits"][0].items() if k != "highlight"})


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


OPERATIONS = [("/api/search", "GET"), ("/api/articles/{article_id}", "GET"),
              ("/api/articles/{article_id}/related", "GET"), ("/healthz", "GET"), ("/openapi.json", "GET"),
              ("/api/timeline", "GET"), ("/api/concordance", "GET"), ("/api/export", "GET"),
              ("/", "GET"), ("/articles/{article_id}", "GET")]
WITH_PARAMETERS = {"/api/search", "/api/articles/{article_id}", "/api/articles/{article_id}/related", "/",
                   "/articles/{article_id}", "/api/timeline", "/api/concordance", "/api/export"}


# negative data (wrong types, out of range) only where there are parameters to break
RUNS = [(path, method, mode) for path, method in OPERATIONS for mode in GenerationMode
        if mode is GenerationMode.POSITIVE or path in WITH_PARAMETERS]


@pytest.mark.parametrize("path,method,mode", RUNS, ids=[f"{m} {p} {mode}" for p, m, mode in RUNS])
def test_schemathesis(api_schema, path, method, mode):
    """Schemathesis' default checks (all of them) over generated requests, in-process (WSGI)."""
    operation = api_schema[path][method]
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def run(case):
        calls.append(case.call_and_validate().status_code)

    run()
    assert calls, "schemathesis generated no requests"
    if mode is GenerationMode.POSITIVE and "{article_id}" not in path:
        assert 200 in calls, calls
