"""``GET /api/suggest?q=PREFIX&size=8``: as-you-type completions (:meth:`Searcher.complete`)."""

from __future__ import annotations

import falcon

from ..query.completions import MAX_SIZE
from ..query.searcher import Searcher

DEFAULT_SIZE = 8


class SuggestResource:
    """``GET /api/suggest?q=…&size=8`` → ``{"query", "suggestions": [{"text", "count"}]}``."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        q = req.get_param("q", default="") or ""
        size = req.get_param_as_int("size", min_value=1, max_value=MAX_SIZE, default=DEFAULT_SIZE)
        resp.media = self.searcher.complete(q, size)

    on_head = on_get  # the same headers, no body (Falcon drops it)


def add_suggest_route(app: falcon.App, searcher: Searcher) -> None:
    """Register ``/api/suggest`` on ``app``."""
    app.add_route("/api/suggest", SuggestResource(searcher))
