"""The OpenAPI 3 description of the JSON API, served at ``GET /openapi.json``.

Built from :class:`~search.config.Settings` so the documented limits (query length, page size,
page count) are the enforced ones. The schemas are strict on purpose — every field required, exact
types, ``additionalProperties: false`` — so that a test checking real responses against them
(schemathesis, ``tests/test_openapi.py``) catches any drift between the code and SPEC.md.
"""

from __future__ import annotations

from ..config import Settings
from ..paragraphs import KINDS
from ..query.completions import MAX_SIZE as MAX_COMPLETIONS
from ..query.related import MAX_RELATED
from ..query.searcher import MAX_FACETS, SORTS
from ..query.suggest import MAX_SUGGESTIONS
from .openapi_research import research_paths, research_schemas
from .page_openapi import ARTICLE_ID_PARAMETER, page_paths

OPENAPI_VERSION = "3.0.3"
JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


FACETS_PATTERN = rf"^[^,]*(,[^,]*){{0,{MAX_FACETS - 1}}}$"  # at most MAX_FACETS keys


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _schemas(settings: Settings) -> dict:
    kind = {"type": "string", "enum": list(KINDS), "description": "what the paragraph is in its article"}
    metadata = {
        "type": "object",
        "description": "the article's metadata as written in the input (possibly empty)",
        "additionalProperties": {"oneOf": [
            {"type": "string"}, {"type": "number"}, {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
        ]},
    }
    return {
        "Error": {
            "type": "object",
            "description": "Every error the API answers (4xx, 503): a short title and a sentence for the user.",
            "required": ["title", "description"],
            "properties": {
                "title": {"type": "string", "minLength": 1},
                "description": {"type": "string", "minLength": 1},
            },
            "additionalProperties": False,
        },
        "Hit": {
            "type": "object",
            "description": "One matching paragraph.",
            "required": ["article_id", "article_title", "paragraph", "kind", "score", "text", "highlight", "metadata"],
            "properties": {
                "metadata": metadata,
                "article_id": {"type": "string", "minLength": 1},
                "article_title": {"type": "string"},
                "paragraph": {"type": "integer", "minimum": 1, "description": "1-based paragraph number"},
                "kind": kind,
                "score": {"type": "number"},
                "text": {"type": "string", "description": "the paragraph's plain text"},
                "highlight": {
                    "type": "string",
                    "description": "the whole paragraph, HTML-escaped, each match wrapped in <mark>…</mark>",
                },
                "explain": _ref("Explain"),
            },
            "additionalProperties": False,
        },
        "ArticleHit": {
            "type": "object",
            "description": "With `group=article`: one matching article and its best paragraphs.",
            "required": ["article_id", "article_title", "metadata", "score", "total", "paragraphs"],
            "properties": {
                "article_id": {"type": "string", "minLength": 1},
                "article_title": {"type": "string"},
                "metadata": metadata,
                "score": {"type": "number", "description": "its best paragraph's"},
                "total": {"type": "integer", "minimum": 1, "description": "its matching paragraphs"},
                "paragraphs": {"type": "array", "minItems": 1, "maxItems": 3, "items": _ref("Hit")},
            },
            "additionalProperties": False,
        },
        "Explain": {
            "type": "object",
            "description": "With `explain=true`: why the paragraph matched and scored as it did.",
            "required": ["score", "terms"],
            "properties": {
                "score": {"type": "number"},
                "terms": {"type": "array", "items": _ref("ExplainedTerm")},
            },
            "additionalProperties": False,
        },
        "ExplainedTerm": {
            "type": "object",
            "required": ["term", "phrase", "match", "field", "occurrences", "score"],
            "properties": {
                "term": {"type": "string"},
                "phrase": {"type": "boolean"},
                "match": {"type": "string", "enum": ["word", "substring", "title"],
                          "description": "one of jieba's words of the paragraph, or only a substring of it"},
                "field": {"type": "string", "enum": ["text", "title"]},
                "occurrences": {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                                           "items": {"type": "integer", "minimum": 0}},
                                "description": "[start, end) of each occurrence in the original text"},
                "score": {"type": "object", "required": ["bm25", "whole_word_bonus"], "additionalProperties": False,
                          "properties": {"bm25": {"type": "number"}, "whole_word_bonus": {"type": "number"}}},
                "words": {"type": "array", "description": "jieba's words around the first occurrence",
                          "items": {"type": "object", "additionalProperties": False,
                                    "required": ["word", "text", "start", "end", "in_match"],
                                    "properties": {"word": {"type": "string"}, "text": {"type": "string"},
                                                   "start": {"type": "integer", "minimum": 0},
                                                   "end": {"type": "integer", "minimum": 0},
                                                   "in_match": {"type": "boolean"}}}},
            },
            "additionalProperties": False,
        },
        "SearchResult": {
            "type": "object",
            "required": ["query", "total", "page", "size", "took_ms", "hits", "suggestions"],
            "properties": {
                "query": {"type": "string", "description": "the query as received"},
                "total": {"type": "integer", "minimum": 0, "description": "exact number of matching paragraphs"},
                "page": {"type": "integer", "minimum": 1, "maximum": settings.max_page},
                "size": {"type": "integer", "minimum": 1, "maximum": settings.max_page_size},
                "took_ms": {"type": "number", "minimum": 0},
                "hits": {"type": "array", "maxItems": settings.max_page_size,
                         "items": {"oneOf": [_ref("Hit"), _ref("ArticleHit")]},
                         "description": "paragraphs; with `group=article`, articles"},
                "articles": {"type": "integer", "minimum": 0,
                             "description": "with `group=article`: how many articles match"},
                "suggestions": {
                    "type": "array",
                    "maxItems": MAX_SUGGESTIONS,
                    "items": {"type": "string", "minLength": 1},
                    "description": ("did-you-mean, best first, when the query (or a term of it) finds nothing: "
                                    "whole queries, each of which finds something; otherwise empty"),
                },
                "facets": {
                    "type": "object",
                    "description": "with `facets=`: per key asked for, its values with their exact counts of "
                                   "matching paragraphs, most frequent first (at most 50)",
                    "additionalProperties": {"type": "array", "maxItems": 50, "items": {
                        "type": "object", "required": ["value", "count"], "additionalProperties": False,
                        "properties": {"value": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
                                       "count": {"type": "integer", "minimum": 1}}}},
                },
            },
            "additionalProperties": False,
        },
        "Paragraph": {
            "type": "object",
            "required": ["n", "kind", "text"],
            "properties": {
                "n": {"type": "integer", "minimum": 1},
                "kind": kind,
                "text": {"type": "string"},
                "highlight": {"type": "string", "description": "present when the request has a non-empty q"},
            },
            "additionalProperties": False,
        },
        "Article": {
            "type": "object",
            "required": ["id", "title", "source", "metadata", "paragraphs"],
            "properties": {
                "metadata": metadata,
                "id": {"type": "string", "minLength": 1},
                "title": {"type": "string"},
                "source": {"type": "string", "description": "where the article was read from"},
                "paragraphs": {"type": "array", "minItems": 1, "items": _ref("Paragraph")},
            },
            "additionalProperties": False,
        },
        "Related": {
            "type": "object",
            "description": "The articles most like one article (Whoosh's more-like-this over its key terms).",
            "required": ["id", "related"],
            "properties": {
                "id": {"type": "string", "minLength": 1, "description": "the article asked about"},
                "related": {"type": "array", "maxItems": MAX_RELATED, "items": _ref("RelatedArticle"),
                            "description": "best first; never the article itself"},
            },
            "additionalProperties": False,
        },
        "RelatedArticle": {
            "type": "object",
            "required": ["article_id", "article_title", "score"],
            "properties": {
                "article_id": {"type": "string", "minLength": 1},
                "article_title": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
            },
            "additionalProperties": False,
        },
        "Completions": {
            "type": "object",
            "description": "As-you-type completions: the index's words and frequent phrases, most used first.",
            "required": ["query", "suggestions"],
            "properties": {
                "query": {"type": "string", "description": "what was typed, as sent"},
                "suggestions": {"type": "array", "maxItems": MAX_COMPLETIONS, "items": {
                    "type": "object",
                    "required": ["text", "count"],
                    "properties": {
                        "text": {"type": "string", "minLength": 1,
                                 "description": "as the archive most often writes it"},
                        "count": {"type": "integer", "minimum": 1,
                                  "description": "paragraphs that contain it: its quoted phrase's total"},
                    },
                    "additionalProperties": False,
                }},
            },
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "required": ["status", "articles", "paragraphs", "index_built_at"],
            "properties": {
                "status": {"type": "string", "enum": ["ok"]},
                "articles": {"type": "integer", "minimum": 0},
                "paragraphs": {"type": "integer", "minimum": 0},
                "index_built_at": {"type": "string", "format": "date-time"},
            },
            "additionalProperties": False,
        },
    }


def _query_param(settings: Settings, description: str) -> dict:
    return {
        "name": "q",
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "maxLength": settings.max_query_chars, "default": ""},
    }


def openapi_document(settings: Settings) -> dict:
    """The OpenAPI document for the API as configured by ``settings`` (a fresh dict each call)."""
    unavailable = _error("no index has been built yet (retry later)")
    too_much = (f"a query longer than {settings.max_query_chars} characters or with more than "
                f"{settings.max_query_terms} terms; the description names the limit")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "zhsearch",
            "version": "1",
            "description": "Full-text search over Chinese articles: matching paragraphs with highlights.",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Paragraphs matching a query, best first, one page at a time",
                    "parameters": [
                        _query_param(settings, (
                            "terms (AND), `OR`, `-term`/`NOT term`, `\"phrase\"`, `title:term`; "
                            "anything else is searched for literally; empty finds nothing")),
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_page, "default": 1}},
                        {"name": "size", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_page_size,
                                    "default": 10}},
                        {"name": "sort", "in": "query", "required": False,
                         "description": "relevance, or by the article's `date` (undated last)",
                         "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"}},
                        {"name": "facets", "in": "query", "required": False,
                         "description": "comma-separated metadata keys (and `year`, `month` of `date`) to count",
                         "schema": {"type": "string", "pattern": FACETS_PATTERN}},
                        {"name": "group", "in": "query", "required": False,
                         "description": "`article`: one hit per article (its best paragraphs), paged by article",
                         "schema": {"type": "string", "enum": ["paragraph", "article"], "default": "paragraph"}},
                        {"name": "explain", "in": "query", "required": False,
                         "description": "add to each hit why it matched and scored as it did",
                         "schema": {"type": "boolean", "default": False}},
                    ],
                    "responses": {
                        "200": _json(_ref("SearchResult"), "one page of hits and the exact total"),
                        "400": _error(f"page or size out of range or not an integer, or {too_much}"),
                        "503": unavailable,
                    },
                }
            },
            "/api/articles/{article_id}": {
                "get": {
                    "operationId": "article",
                    "summary": "A whole article, paragraph by paragraph",
                    "parameters": [
                        ARTICLE_ID_PARAMETER,
                        _query_param(settings, "when given, each paragraph gets a `highlight` of its matches"),
                    ],
                    "responses": {
                        "200": _json(_ref("Article"), "the article"),
                        "400": _error(f"q is {too_much}"),
                        "404": _error("no article has this id"),
                        "503": unavailable,
                    },
                }
            },
            "/api/articles/{article_id}/related": {
                "get": {
                    "operationId": "related",
                    "summary": "The articles most like this one, best first",
                    "parameters": [
                        ARTICLE_ID_PARAMETER,
                        {"name": "size", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RELATED, "default": 5}},
                    ],
                    "responses": {
                        "200": _json(_ref("Related"), "up to `size` related articles"),
                        "400": _error(f"size is not an integer from 1 to {MAX_RELATED}"),
                        "404": _error("no article has this id"),
                        "503": unavailable,
                    },
                }
            },
            "/api/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Completions of what was typed, most used first",
                    "parameters": [
                        {"name": "q", "in": "query", "required": False,
                         "description": ("characters or pinyin — whole (`beijing`), partial (`beij`), initials "
                                         "(`bj`), or characters then pinyin (`北j`); Traditional and Simplified fold"),
                         "schema": {"type": "string", "default": ""}},
                        {"name": "size", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_COMPLETIONS, "default": 8}},
                    ],
                    "responses": {
                        "200": _json(_ref("Completions"), "up to `size` completions"),
                        "400": _error(f"size is not an integer from 1 to {MAX_COMPLETIONS}"),
                        "503": unavailable,
                    },
                }
            },
            **research_paths(settings, lambda description: _query_param(settings, description)),
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and what the live index holds",
                    "responses": {
                        "200": _json(_ref("Health"), "the service answers from a built index"),
                        "503": unavailable,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": _json({"type": "object", "required": ["openapi", "info", "paths"]},
                                     "the OpenAPI document"),
                    },
                }
            },
            **page_paths(settings, _query_param),
        },
        "components": {"schemas": {**_schemas(settings), **research_schemas(settings)}},
    }


class OpenApiResource:
    """``GET /openapi.json``."""

    def __init__(self, settings: Settings):
        self.document = openapi_document(settings)

    def on_get(self, req, resp):
        resp.media = self.document

    on_head = on_get  # the same headers, no body (Falcon drops it)
