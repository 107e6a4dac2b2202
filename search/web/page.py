"""The HTML face of zhsearch: the search page ``/`` and the article page ``/articles/{id}``.

Server-rendered with Jinja2 (autoescaped) so everything works without JavaScript;
``static/search.js`` then upgrades the search page to results-as-you-type through
``/api/search`` and produces the same markup the templates produce here.

The only HTML inserted unescaped is the searcher's ``highlight``, which the searcher has
already escaped, with ``<mark>`` around matches.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import falcon
import jinja2
from markupsafe import Markup, escape

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

PAGE_SIZE = 10
RELATED_SIZE = 5  # related articles listed under an article

# Shown next to each hit and used for the article's structure. The JavaScript reads
# this mapping from a data attribute, so it lives in one place.
KIND_LABELS = {
    "title": "标题",
    "lead": "导语",
    "heading": "小标题",
    "caption": "图注",
    "body": "正文",
    "byline": "署名",
}

EXAMPLES = [
    ("联合国", "一个词"),
    ('"联合国宪章"', "精确短语"),
    ("中国 美国", "同时包含"),
    ("北京 OR 上海", "任意一个"),
    ("经济 -股市", "排除"),
    ("title:报告", "只搜标题"),
]

_MARK_RE = re.compile(r"<mark>")
TITLE_PREFIX = "原标题："


def title_prefix(html: str) -> Markup:
    """Set a leading ``原标题：`` of an (escaped) title apart, so the title itself stands out."""
    html = html if isinstance(html, Markup) else escape(html)
    if html.startswith(TITLE_PREFIX):
        return Markup('<span class="title-prefix">{}</span>{}').format(TITLE_PREFIX, Markup(html[len(TITLE_PREFIX):]))
    return html


# --- URLs, built identically in static/search.js ------------------------------------


def article_url(article_id: str, q: str = "", n: int | None = None) -> str:
    """``/articles/{id}?q=…#p{n}``; the id is one path segment."""
    url = "/articles/" + quote(article_id, safe="")
    if q:
        url += "?q=" + quote_plus(q, safe="")
    if n is not None:
        url += f"#p{n}"
    return url


def search_url(q: str = "", page: int = 1, view: View | None = None) -> str:
    """``/?q=…&sort=…&group=…&page=N`` (defaults and page 1 are left out)."""
    if not q:
        return "/"
    url = "/?q=" + quote_plus(q, safe="")
    if view is not None:
        url += view.params()
    if page > 1:
        url += f"&page={page}"
    return url


def api_search_url(q: str = "") -> str:
    return "/api/search?q=" + quote_plus(q, safe="")


def format_number(x: float) -> str:
    """A score as JavaScript's ``String(x)`` writes it: shortest round trip, no trailing ``.0``."""
    return repr(float(x)).removesuffix(".0")


def format_count(n: int) -> str:
    return f"{n:,}"


def format_ms(ms: float) -> str:
    return f"{ms:.1f}"


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // max(1, size)))


# --- sort, grouping, facets and filter chips (mirrored in static/search.js) ----------

SORTS = {"relevance": "相关度", "newest": "最新", "oldest": "最早"}
GROUPS = {"paragraph": "按段落", "article": "按文章"}
FACET_LABELS = {"source": "来源", "year": "年份", "month": "月份", "date": "日期"}
FACET_VALUES_SHOWN = 10
MATCH_LABELS = {"word": "整词", "substring": "子串", "title": "标题"}


@dataclass(frozen=True)
class View:
    """How results are shown, kept in the URL: ``sort``, ``group`` and ``explain=1`` (defaults left out).

    Explanations are asked for only on demand: they double the page's time (a jieba cut of each
    hit; ``bench/page_explain.py``: p50 1.96x, p99 1.73x on the president corpus)."""

    sort: str = "relevance"
    group: str = "paragraph"
    explain: bool = False

    @classmethod
    def from_request(cls, req: falcon.Request) -> View:
        """The view a request asks for; an unknown value falls back to the default."""
        sort, group = req.get_param("sort") or "", req.get_param("group") or ""
        return cls(sort if sort in SORTS else "relevance", group if group in GROUPS else "paragraph",
                   req.get_param("explain") == "1")

    def params(self) -> str:
        return ((f"&sort={self.sort}" if self.sort != "relevance" else "")
                + (f"&group={self.group}" if self.group != "paragraph" else "")
                + ("&explain=1" if self.explain else ""))

    def with_sort(self, sort: str) -> View:
        return replace(self, sort=sort)

    def with_group(self, group: str) -> View:
        return replace(self, group=group)

    def with_explain(self, explain: bool = True) -> View:
        return replace(self, explain=explain)


_SPACE = re.compile(r"\s")
# a filter's token as the query parser finds it: ``-`` (without), its key, ``:`` and its value
_FILTER = re.compile(r"-?([^\W\d][\w-]{0,63})[:：](.*)", re.DOTALL)


def filter_token(key: str, value: Any) -> str:
    """The query text of the filter a facet value stands for (``date:2024`` for a year)."""
    value = str(value)
    if _SPACE.search(value) or value.startswith('"'):
        value = '"' + value.replace('"', "") + '"'
    return f"{'date' if key in ('year', 'month') else key}:{value}"


def add_filter(q: str, token: str) -> str:
    return f"{q.strip()} {token}".strip()


def remove_span(q: str, start: int, end: int) -> str:
    return f"{q[:start].rstrip()} {q[end:].lstrip()}".strip()


def active_filters(q: str, keys: frozenset[str]) -> list[dict[str, Any]]:
    """The metadata filters of ``q``, as the search reads them, each with its token, its label and
    the query without it."""
    from ..query.parser import filters_with_spans

    chips = []
    for found, start, end in filters_with_spans(q, keys):
        token = q[start:end]
        key, value = _FILTER.fullmatch(token).groups()
        value = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
        label = FACET_LABELS.get(key.casefold(), key) + "：" + value
        chips.append({"token": token, "label": ("不含 " if found.negated else "") + label,
                      "without": remove_span(q, start, end)})
    return chips


def facet_blocks(q: str, facets: dict[str, list[dict]], chips: list[dict]) -> list[dict[str, Any]]:
    """The sidebar: per key with values, its label and up to ``FACET_VALUES_SHOWN`` values, each
    with the query that adds its filter (or, when already active, removes it)."""
    active = {chip["token"]: chip["without"] for chip in chips}
    blocks = []
    for key, values in facets.items():
        rows = []
        for row in values[:FACET_VALUES_SHOWN]:
            token = filter_token(key, row["value"])
            rows.append({"value": format_value(row["value"]), "count": row["count"], "active": token in active,
                         "q": active.get(token, add_filter(q, token))})
        if rows:
            blocks.append({"key": key, "label": FACET_LABELS.get(key, key), "values": rows})
    return blocks


def format_value(value: Any) -> str:
    """A metadata value for display: list members joined with 、."""
    return "、".join(map(str, value)) if isinstance(value, list) else str(value)


# --- resources ----------------------------------------------------------------------


DEFAULT_MAX_PAGE = 1000


def _parse_page(req: falcon.Request, max_page: int) -> int | None:
    """The ``page`` parameter, or None unless it is a whole number from 1 to ``max_page``."""
    raw = req.get_param("page")
    if raw is None or raw == "":
        return 1
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    value = int(raw)
    return value if 1 <= value <= max_page else None


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The templates' environment, one a process: the templates it compiles are shared by every app."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(
        article_url=article_url,
        search_url=search_url,
        api_search_url=api_search_url,
        format_count=format_count,
        format_ms=format_ms,
        format_number=format_number,
        format_value=format_value,
        sorts=SORTS,
        match_labels=MATCH_LABELS,
        groups=GROUPS,
        kind_labels=KIND_LABELS,
        examples=EXAMPLES,
        asset=asset_url,
    )
    env.filters["title_prefix"] = title_prefix
    return env


@functools.lru_cache(maxsize=None)
def asset_url(name: str) -> str:
    """The URL of a static file, versioned by its content (for cache busting)."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()
    return f"/static/{name}?v={digest[:10]}"


def warm_up() -> None:
    """Compile every template and version every static file now: gunicorn's master does, so that
    its workers share them instead of each compiling its own on its first page (38 ms and 4.6 MiB
    a worker)."""
    env = _environment()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    for path in STATIC_DIR.iterdir():
        if path.is_file():
            asset_url(path.name)


class _Renderer:
    """Renders a template into a response."""

    def __init__(self) -> None:
        self.env = _environment()

    def render(self, resp: falcon.Response, template: str, status: str = falcon.HTTP_200, **context: Any) -> None:
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.env.get_template(template).render(**context)


def _searcher_errors() -> tuple[type[Exception], type[Exception], type[Exception]]:
    from ..query.live import IndexMissing
    from ..query.searcher import ArticleNotFound, BadQuery

    return BadQuery, IndexMissing, ArticleNotFound


class SearchPage:
    def __init__(self, searcher: Any, renderer: _Renderer, results_extra: Any = None) -> None:
        self.searcher = searcher
        self.renderer = renderer
        # (searcher, q, view, req) → more context for a page of results (the research block)
        self.results_extra = results_extra
        self.BadQuery, self.IndexMissing, _ = _searcher_errors()
        settings = getattr(searcher, "settings", None)
        self.max_page = getattr(settings, "max_page", DEFAULT_MAX_PAGE)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = req.get_param("q", default="") or ""
        view = View.from_request(req)
        ctx: dict[str, Any] = {"q": q, "result": None, "error": None, "state": "empty", "pages": 1, "view": view,
                               "chips": [], "facets": [], "filter_keys": [], "facet_keys": []}
        page = _parse_page(req, self.max_page)
        if page is None:
            ctx.update(state="error", error=f"页码需要是 1 到 {self.max_page} 之间的整数，例如 page=2。")
            self.renderer.render(resp, "search.html", falcon.HTTP_400, **ctx)
            return
        if not q.strip():
            try:  # for the script, which draws filter chips as the user types
                ctx.update(filter_keys=sorted(self.searcher.filter_keys()), facet_keys=self.searcher.facet_keys())
            except self.IndexMissing:
                pass
            self.renderer.render(resp, "search.html", **ctx)
            return
        try:
            filter_keys = self.searcher.filter_keys()
            facet_keys = tuple(self.searcher.facet_keys())
            result = self.searcher.search(q, page=page, size=PAGE_SIZE, sort=view.sort, facets=facet_keys,
                                          group=view.group, explain=view.explain)
        except self.BadQuery as exc:
            ctx.update(state="error", error=str(exc) or "无法理解这个查询。")
            self.renderer.render(resp, "search.html", falcon.HTTP_400, **ctx)
            return
        except self.IndexMissing:
            ctx.update(state="error", error="索引正在建立，请稍后刷新页面。")
            resp.set_header("Retry-After", "5")
            self.renderer.render(resp, "search.html", falcon.HTTP_503, **ctx)
            return
        pages = page_count(result["articles"] if view.group == "article" else result["total"], result["size"])
        state = "results" if result["total"] else "none"
        chips = active_filters(q, filter_keys)
        ctx.update(result=result, state=state, pages=pages, chips=chips, filter_keys=sorted(filter_keys),
                   facet_keys=list(facet_keys), facets=facet_blocks(q, result.get("facets", {}), chips))
        if state == "results" and self.results_extra is not None:
            ctx.update(self.results_extra(self.searcher, q, view, req))
        self.renderer.render(resp, "search.html", **ctx)

    on_head = on_get  # the same headers, no body (Falcon drops it)


class ArticlePage:
    def __init__(self, searcher: Any, renderer: _Renderer) -> None:
        self.searcher = searcher
        self.renderer = renderer
        self.BadQuery, self.IndexMissing, self.ArticleNotFound = _searcher_errors()

    def on_get(self, req: falcon.Request, resp: falcon.Response, article_id: str) -> None:
        q = req.get_param("q", default="") or ""
        try:
            article = self.searcher.article(article_id, q=q if q.strip() else None)
        except self.BadQuery as exc:  # the query to mark is over the limits
            self.renderer.render(resp, "error.html", falcon.HTTP_400, q=q, heading="无法理解这个查询",
                                 message=str(exc) or "无法理解这个查询。")
            return
        except self.ArticleNotFound:
            self.renderer.render(
                resp, "error.html", falcon.HTTP_404, q=q, heading="找不到这篇文章",
                message=f"没有编号为 “{article_id}” 的文章。它可能已被移除，或者链接有误。",
            )
            return
        except self.IndexMissing:
            resp.set_header("Retry-After", "5")
            self.renderer.render(
                resp, "error.html", falcon.HTTP_503, q=q, heading="索引正在建立",
                message="索引正在建立，请稍后刷新页面。",
            )
            return
        paragraphs = article["paragraphs"]
        matches = sum(len(_MARK_RE.findall(p.get("highlight", ""))) for p in paragraphs) if q.strip() else 0
        has_title = any(p["kind"] == "title" for p in paragraphs)
        related = self.searcher.related(article_id, size=RELATED_SIZE)["related"]
        key_terms = self.searcher.key_terms(article_id)
        self.renderer.render(resp, "article.html", article=article, q=q, matches=matches,
                             has_title=has_title, related=related, key_terms=key_terms)

    on_head = on_get  # the same headers, no body (Falcon drops it)


def add_page_routes(app: falcon.App, searcher: Any, results_extra: Any = None) -> None:
    """Register ``/``, ``/articles/{article_id}`` and ``/static`` on ``app`` (``results_extra``:
    see :class:`SearchPage`)."""
    renderer = _Renderer()
    app.add_route("/", SearchPage(searcher, renderer, results_extra))
    app.add_route("/articles/{article_id}", ArticlePage(searcher, renderer))
    app.add_static_route("/static", str(STATIC_DIR))
