"""The OpenAPI description of the HTML pages, ``/`` and ``/articles/{article_id}``, which
``/openapi.json`` lists beside the JSON API: their parameters and status codes, every answer a
page (``text/html``), so that schemathesis checks them as it checks the API.
"""

from __future__ import annotations

from typing import Callable

from ..config import Settings

# the path parameter of every ``/…/{article_id}`` path, page and API alike
ARTICLE_ID_PARAMETER = {"name": "article_id", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1}}

HTML = "text/html"


def _html(description: str) -> dict:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


def page_paths(settings: Settings, query_param: Callable[[Settings, str], dict]) -> dict:
    """The pages' path items; ``query_param`` makes the ``q`` parameter as the API documents it."""
    unavailable = _html("no index has been built yet: a page that says so (retry later)")
    return {
        "/": {
            "get": {
                "operationId": "searchPage",
                "summary": "The search page: a form, and with q one page of results (the same search as /api/search)",
                "parameters": [
                    query_param(settings, "the query, as for /api/search; empty shows the form and help"),
                    {"name": "page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_page, "default": 1}},
                    {"name": "sort", "in": "query", "required": False,
                     "description": "relevance, newest or oldest; any other value is the default",
                     "schema": {"type": "string", "default": "relevance"}},
                    {"name": "group", "in": "query", "required": False,
                     "description": "paragraph or article; any other value is the default",
                     "schema": {"type": "string", "default": "paragraph"}},
                    {"name": "explain", "in": "query", "required": False,
                     "description": "`1`: each hit shows why it matched; any other value does not",
                     "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _html("the form, the results or a page saying none were found"),
                    "400": _html("a page naming what is wrong: the page number, or the query's limits"),
                    "503": unavailable,
                },
            }
        },
        "/articles/{article_id}": {
            "get": {
                "operationId": "articlePage",
                "summary": "A whole article, its matches of q marked, with related articles",
                "parameters": [
                    ARTICLE_ID_PARAMETER,
                    query_param(settings, "when given, its matches are marked in the article"),
                ],
                "responses": {
                    "200": _html("the article"),
                    "400": _html("a page naming the query's limit it is over"),
                    "404": _html("a page saying no article has this id"),
                    "503": unavailable,
                },
            }
        },
    }
