"""The Falcon app: JSON API, health check, and the HTML pages (from :mod:`search.web.page`)."""

from __future__ import annotations

import json

import falcon
import orjson

from ..config import Settings
from ..query.live import IndexMissing
from ..query.related import MAX_RELATED
from ..query.searcher import ArticleNotFound, BadQuery, Searcher
from .completions import add_suggest_route
from .openapi import OpenApiResource
from .research import add_research_routes

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds the same protective headers to every response, errors included."""

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_headers(SECURITY_HEADERS)


class SearchResource:
    """``GET /api/search?q=…&page=1&size=10``."""

    def __init__(self, searcher: Searcher, settings: Settings):
        self.searcher = searcher
        self.settings = settings

    def on_get(self, req, resp):
        q = req.get_param("q", default="")
        page = req.get_param_as_int("page", min_value=1, max_value=self.settings.max_page, default=1)
        size = req.get_param_as_int("size", min_value=1, max_value=self.settings.max_page_size, default=10)
        resp.media = self.searcher.search(q, page=page, size=size, **search_options(req))

    on_head = on_get  # the same headers, no body (Falcon drops it)


def search_options(req) -> dict:
    """The search options of a request beside q, page and size: ``sort``, ``facets``, ``group``, ``explain``."""
    facets = [key.strip() for value in req.get_param_as_list("facets", default=[]) for key in value.split(",")
              if key.strip()]
    return {"sort": req.get_param("sort", default="relevance"), "facets": tuple(dict.fromkeys(facets)),
            "group": req.get_param("group", default=None),
            "explain": _flag(req, "explain")}


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _flag(req, name: str) -> bool:
    """A boolean query parameter: absent is false; a value that is no boolean is a 400."""
    value = req.get_param(name)
    if value is None or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    raise falcon.HTTPInvalidParam("expected true or false", name)


class ArticleResource:
    """``GET /api/articles/{article_id}[?q=…]``."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def on_get(self, req, resp, article_id):
        resp.media = self.searcher.article(article_id, q=req.get_param("q") or None)

    on_head = on_get  # the same headers, no body (Falcon drops it)


class RelatedResource:
    """``GET /api/articles/{article_id}/related?size=5``."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def on_get(self, req, resp, article_id):
        size = req.get_param_as_int("size", min_value=1, max_value=MAX_RELATED, default=5)
        resp.media = self.searcher.related(article_id, size=size)

    on_head = on_get  # the same headers, no body (Falcon drops it)


class HealthResource:
    """``GET /healthz``."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        resp.media = self.searcher.health()

    on_head = on_get  # the same headers, no body (Falcon drops it)


def _serialize_error(req, resp, error: falcon.HTTPError) -> None:
    """Every error as JSON ``{"title", "description"}``, whatever the request's ``Accept`` says.

    Falcon's default sends an empty body to a client that does not accept JSON (a browser) and
    leaves out ``description`` for its own 404 and 405.
    """
    body = error.to_dict()
    if not body.get("description"):
        if error.status_code == 405:
            allowed = resp.get_header("Allow") or "GET"
            body["description"] = f"{req.method} is not allowed here; use {allowed}."
        elif error.status_code == 404:
            body["description"] = "There is nothing at this address."
        else:
            body["description"] = body.get("title") or str(error.status)
    resp.data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    resp.content_type = falcon.MEDIA_JSON


def _bad_query(req, resp, ex, params):
    raise falcon.HTTPBadRequest(title="Bad query", description=str(ex))


def _not_found(req, resp, ex, params):
    raise falcon.HTTPNotFound(title="Article not found", description=str(ex))


def _index_missing(req, resp, ex, params):
    raise falcon.HTTPServiceUnavailable(title="Index not built", description=str(ex), retry_after=5)


def create_app(settings: Settings, searcher: Searcher | None = None) -> falcon.App:
    """The WSGI app for ``settings``; pass ``searcher`` to share or replace the index reader."""
    from .page import add_page_routes
    from .research_page import research_extra

    searcher = searcher or Searcher(settings)
    app = falcon.App(middleware=[SecurityHeaders()])
    app.resp_options.xml_error_serialization = False
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = falcon.media.JSONHandler(dumps=orjson.dumps,
                                                                                 loads=orjson.loads)
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.keep_blank_qs_values = True  # `page=` is a bad page, not a missing one
    app.set_error_serializer(_serialize_error)
    add_page_routes(app, searcher, results_extra=research_extra)  # the timeline above a page's results
    app.add_route("/api/search", SearchResource(searcher, settings))
    app.add_route("/api/articles/{article_id}", ArticleResource(searcher))
    app.add_route("/api/articles/{article_id}/related", RelatedResource(searcher))
    app.add_route("/healthz", HealthResource(searcher))
    add_suggest_route(app, searcher)
    add_research_routes(app, searcher, settings)  # /api/timeline, /api/concordance, /api/export, their pages
    # the last route: Falcon compiles its router now, not on the first request (in gunicorn's
    # master, once, rather than in every worker)
    app.add_route("/openapi.json", OpenApiResource(settings), compile=True)
    app.add_error_handler(BadQuery, _bad_query)
    app.add_error_handler(ArticleNotFound, _not_found)
    app.add_error_handler(IndexMissing, _index_missing)
    return app
