"""The research API: ``/api/timeline``, ``/api/concordance`` and ``/api/export`` — thin resources
over the searcher's research views (:mod:`search.query.research`), JSON or CSV (or JSON lines)."""

from __future__ import annotations

import falcon

from ..config import Settings
from ..query import concordance, timeline
from ..query import export as exports
from ..query.research import SEARCH_SORTS
from ..query.searcher import Searcher
from ..query.tabular import csv_chunks

CSV = exports.MEDIA_TYPES["csv"]


def _choice(req: falcon.Request, name: str, choices, default: str) -> str:
    """A parameter that must be one of ``choices`` (a 400 naming them otherwise)."""
    value = req.get_param(name, default=default)
    if value not in choices:
        raise falcon.HTTPInvalidParam(f"expected one of {', '.join(choices)}", name)
    return value


def _csv(resp: falcon.Response, chunks, filename: str) -> None:
    resp.content_type = CSV
    resp.downloadable_as = filename
    resp.stream = chunks


class TimelineResource:
    """``GET /api/timeline?q=…[&q=…]&interval=month[&format=csv]``."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        queries = req.get_param_as_list("q", required=True)
        interval = _choice(req, "interval", timeline.INTERVALS, "month")
        fmt = _choice(req, "format", ("json", "csv"), "json")
        result = self.searcher.timeline(queries, interval)
        if fmt == "csv":
            _csv(resp, csv_chunks(timeline.CSV_COLUMNS, timeline.csv_rows(result)), f"timeline-{interval}.csv")
        else:
            resp.media = result

    on_head = on_get  # the same headers, no body (Falcon drops it)


class ConcordanceResource:
    """``GET /api/concordance?q=…&width=20&sort=relevance&page=1&size=50[&format=csv]``; the CSV
    holds every line (in the same order) unless ``page`` or ``size`` asks for one page."""

    def __init__(self, searcher: Searcher, settings: Settings):
        self.searcher = searcher
        self.settings = settings

    def on_get(self, req, resp):
        q = req.get_param("q", required=True)
        width = req.get_param_as_int("width", min_value=1, max_value=concordance.MAX_WIDTH, default=20)
        sort = _choice(req, "sort", concordance.SORTS, "relevance")
        page = req.get_param_as_int("page", min_value=1, max_value=self.settings.max_page, default=1)
        size = req.get_param_as_int("size", min_value=1, max_value=concordance.MAX_SIZE, default=50)
        fmt = _choice(req, "format", ("json", "csv"), "json")
        if fmt == "json":
            resp.media = self.searcher.concordance(q, width=width, sort=sort, page=page, size=size)
            return
        if req.has_param("page") or req.has_param("size"):
            lines = self.searcher.concordance(q, width=width, sort=sort, page=page, size=size)["lines"]
            note = None
        else:
            found = self.searcher.concordance_of(q, width=width, sort=sort)
            lines, note = _at_most(found.lines(), found.total)
        _csv(resp, csv_chunks(concordance.CSV_COLUMNS, map(concordance.csv_row, lines), note), "concordance.csv")

    on_head = on_get


def _at_most(lines, total: int):
    most = exports.MAX_ROWS
    if total <= most:
        return lines, None
    return (line for _, line in zip(range(most), lines)), f"truncated at {most} of {total}"


class ExportResource:
    """``GET /api/export?q=…&format=csv|jsonl[&sort=…]``: every matching paragraph, streamed."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        q = req.get_param("q", required=True)
        fmt = _choice(req, "format", exports.FORMATS, "csv")
        sort = _choice(req, "sort", SEARCH_SORTS, "relevance")
        export = self.searcher.export(q, sort=sort)
        resp.content_type = exports.MEDIA_TYPES[fmt]
        resp.downloadable_as = f"zhsearch-export.{fmt}"
        resp.set_header("X-Total-Count", str(export.total))
        resp.stream = export.chunks(fmt)

    on_head = on_get


def add_research_routes(app: falcon.App, searcher: Searcher, settings: Settings) -> None:
    """Register the research API and pages (``/research``, ``/concordance``) on ``app``."""
    from .research_page import add_research_pages

    app.add_route("/api/timeline", TimelineResource(searcher))
    app.add_route("/api/concordance", ConcordanceResource(searcher, settings))
    app.add_route("/api/export", ExportResource(searcher))
    add_research_pages(app, searcher, settings.max_page)
