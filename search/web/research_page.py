"""The research views on the page: the timeline chart above a search's results (with its switches,
compare box and CSV link) and the export links beside its total (``research_block``), the same
block alone for the script to swap in as the query changes (``/research``), and the 语境 page of
keyword-in-context lines (``/concordance``). Everything works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote_plus

import falcon

from . import chart
from .page import View, _Renderer, _searcher_errors, search_url

INTERVALS = {"auto": "自动", "year": "年", "month": "月", "week": "周", "day": "日"}
AUTO_MOST = 120  # periods a month axis may have before the automatic interval is the year
CONCORDANCE_SORTS = {"relevance": "相关度", "left": "按左侧", "right": "按右侧", "newest": "最新",
                     "oldest": "最早"}
WIDTHS = (10, 20, 40)
CONCORDANCE_PAGE = 50


def _q(value: str) -> str:
    return quote_plus(value, safe="")


@dataclass(frozen=True)
class ChartView:
    """The chart's state, kept in its own links: ``chart=count`` (share by default), the
    ``interval`` (chosen by the span when ``auto``) and ``vs``, a second query to compare."""

    mode: str = "share"
    interval: str = "auto"
    vs: str = ""

    @classmethod
    def from_request(cls, req: falcon.Request) -> ChartView:
        mode, interval = req.get_param("chart") or "", req.get_param("interval") or ""
        return cls(mode if mode in chart.MODES else "share", interval if interval in INTERVALS else "auto",
                   (req.get_param("vs") or "").strip())

    def params(self) -> str:
        return ((f"&chart={self.mode}" if self.mode != "share" else "")
                + (f"&interval={self.interval}" if self.interval != "auto" else "")
                + (f"&vs={_q(self.vs)}" if self.vs else ""))


def research_block(searcher: Any, q: str, view: View, chart_view: ChartView) -> dict | None:
    """What ``_research.html`` shows for query ``q``, or None when there is nothing to show."""
    BadQuery, IndexMissing, _ = _searcher_errors()
    if not q.strip() or not hasattr(searcher, "timeline"):
        return None
    queries = [q] + ([chart_view.vs] if chart_view.vs else [])
    interval = "month" if chart_view.interval == "auto" else chart_view.interval
    try:
        timeline = searcher.timeline(queries, interval)
    except BadQuery:  # the compare box's query: drop it, keep the chart of the search
        chart_view = replace(chart_view, vs="")
        try:
            timeline = searcher.timeline([q], interval)
        except (BadQuery, IndexMissing):
            return None
    except IndexMissing:
        return None
    if not timeline["series"][0]["total"]:  # nothing matches: no chart, no links (as the page's results)
        return None
    if chart_view.interval == "auto" and len(timeline["series"][0]["points"]) > AUTO_MOST:
        timeline, interval = by_year(timeline), "year"
    base = search_url(q, 1, view)
    return {
        "q": q, "view": view, "chart_view": chart_view, "interval": interval,
        "timeline": timeline, "chart": chart.layout(timeline, chart_view.mode),
        "modes": [(key, label, base + replace(chart_view, mode=key).params()) for key, label in chart.MODES.items()],
        "intervals": [(key, label, base + replace(chart_view, interval=key).params())
                      for key, label in INTERVALS.items()],
        "without_vs": base + replace(chart_view, vs="").params(),
        "csv_url": "/api/timeline?" + "&".join(f"q={_q(x)}" for x in queries) + f"&interval={interval}&format=csv",
        "concordance_url": concordance_url(q),
        "export_urls": [(fmt, f"/api/export?q={_q(q)}&format={fmt}" + (f"&sort={view.sort}" if view.sort != "relevance"
                                                                        else "")) for fmt in ("csv", "jsonl")],
    }


def research_extra(searcher: Any, q: str, view: View, req: falcon.Request) -> dict:
    """The search page's context for the research block above its results."""
    return {"research": research_block(searcher, q, view, ChartView.from_request(req))}


def by_year(timeline: dict) -> dict:
    """A month timeline summed into years (months nest in years, so the counts stay exact)."""
    series = []
    for s in timeline["series"]:
        years: dict[str, list[int]] = {}
        for point in s["points"]:
            counts = years.setdefault(point["period"][:4], [0, 0])
            counts[0] += point["matches"]
            counts[1] += point["articles"]
        series.append({**s, "points": [{"period": year, "matches": m, "articles": a, "share": m / a if a else 0.0}
                                       for year, (m, a) in years.items()]})
    return {"interval": "year", "series": series}


def concordance_url(q: str, sort: str = "relevance", width: int = 20, page: int = 1) -> str:
    return (f"/concordance?q={_q(q)}" + (f"&sort={sort}" if sort != "relevance" else "")
            + (f"&width={width}" if width != 20 else "") + (f"&page={page}" if page > 1 else ""))


class ResearchFragment:
    """``GET /research?q=…``: the research block alone (for the script, as the query changes)."""

    def __init__(self, searcher: Any, renderer: _Renderer) -> None:
        self.searcher, self.renderer = searcher, renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = req.get_param("q", default="") or ""
        found = research_block(self.searcher, q, View.from_request(req), ChartView.from_request(req))
        self.renderer.render(resp, "_research.html", research=found)


class ConcordancePage:
    """``GET /concordance?q=…&sort=…&width=…&page=…``: the 语境 view, a line per occurrence."""

    def __init__(self, searcher: Any, renderer: _Renderer, max_page: int) -> None:
        self.searcher, self.renderer, self.max_page = searcher, renderer, max_page
        self.BadQuery, self.IndexMissing, _ = _searcher_errors()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = req.get_param("q", default="") or ""
        sort = req.get_param("sort") or "relevance"
        sort = sort if sort in CONCORDANCE_SORTS else "relevance"
        width = _whole(req.get_param("width"), 20)
        width = width if width in WIDTHS else 20
        page = _whole(req.get_param("page"), 1)
        page = page if 1 <= page <= self.max_page else 1
        ctx: dict[str, Any] = {"q": q, "sort": sort, "width": width, "found": None, "error": None,
                               "sorts": CONCORDANCE_SORTS, "widths": WIDTHS, "url": concordance_url}
        status = falcon.HTTP_200
        if q.strip():
            try:
                ctx["found"] = self.searcher.concordance(q, width=width, sort=sort, page=page, size=CONCORDANCE_PAGE)
            except self.BadQuery as problem:
                ctx["error"], status = str(problem) or "无法理解这个查询。", falcon.HTTP_400
            except self.IndexMissing:
                ctx["error"], status = "索引正在建立，请稍后刷新页面。", falcon.HTTP_503
                resp.set_header("Retry-After", "5")
        found = ctx["found"]
        ctx["pages"] = max(1, -(-found["total"] // CONCORDANCE_PAGE)) if found else 1
        ctx["csv_url"] = (f"/api/concordance?q={_q(q)}&width={width}" + (f"&sort={sort}" if sort != "relevance" else "")
                          + "&format=csv")
        self.renderer.render(resp, "concordance.html", status, **ctx)

    on_head = on_get


def _whole(raw: str | None, default: int) -> int:
    """A whole number from a page's link, or ``default`` for anything else."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else default


def add_research_pages(app: falcon.App, searcher: Any, max_page: int) -> None:
    """Register ``/research`` and ``/concordance``."""
    renderer = _Renderer()
    app.add_route("/research", ResearchFragment(searcher, renderer))
    app.add_route("/concordance", ConcordancePage(searcher, renderer, max_page))
