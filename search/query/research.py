"""The research views of a :class:`~search.query.searcher.Searcher` (mixed into it): attention over
time, keyword in context and the export of every matching paragraph, on the same matching as the
search (plain data; the work is in :mod:`.timeline`, :mod:`.concordance` and :mod:`.export`)."""

from __future__ import annotations

import numpy as np

from .concordance import MAX_SIZE, MAX_WIDTH, SORTS as CONCORDANCE_SORTS, Concordance
from .evaluate import evaluate, match_unit
from .operators import is_plain, special_matches
from . import export as exports
from .parser import TEXT, BadQuery
from .timeline import INTERVALS, MAX_QUERIES, timeline

SEARCH_SORTS = ("relevance", "newest", "oldest")


class ResearchViews:
    """Needs the host's ``_current()`` (the live build) and ``parse(q, live)``."""

    def timeline(self, queries: list[str], interval: str = "month") -> dict:
        """Per query, its matching articles per period against every article its filters admit."""
        if not 1 <= len(queries) <= MAX_QUERIES:
            raise BadQuery(f"give from 1 to {MAX_QUERIES} queries (q), not {len(queries)}")
        if interval not in INTERVALS:
            raise BadQuery(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
        live = self._current()
        return timeline(live, [(q, self.parse(q, live)) for q in queries], interval)

    def concordance(self, q: str, *, width: int = 20, sort: str = "relevance", page: int = 1,
                    size: int = 50) -> dict:
        """One page of keyword-in-context lines, with their exact total."""
        if not 1 <= size <= MAX_SIZE or page < 1:
            raise BadQuery(f"page must be ≥ 1 and size between 1 and {MAX_SIZE}")
        found = self.concordance_of(q, width=width, sort=sort)
        return {"query": q, "total": found.total, "page": page, "size": size, "lines": found.page(page, size)}

    def concordance_of(self, q: str, *, width: int = 20, sort: str = "relevance") -> Concordance:
        """Every keyword-in-context line of ``q`` (its ``total``, its ``lines()`` in order)."""
        if not 1 <= width <= MAX_WIDTH:
            raise BadQuery(f"width must be between 1 and {MAX_WIDTH}")
        if sort not in CONCORDANCE_SORTS:
            raise BadQuery(f"sort must be one of {', '.join(CONCORDANCE_SORTS)}, not {sort!r}")
        live, parsed, gids, scores, counts = self._research_result(q)
        return Concordance(live, parsed.highlight_keys(), gids, scores, width, sort, counts)

    def export(self, q: str, *, sort: str = "relevance", limit: int | None = None) -> exports.Export:
        """Every matching paragraph of ``q`` in the search's order, as rows to write."""
        if sort not in SEARCH_SORTS:
            raise BadQuery(f"sort must be one of {', '.join(SEARCH_SORTS)}, not {sort!r}")
        live, _, gids, scores, _ = self._research_result(q)
        keys = tuple(sorted(live.metadata.metadata_keys()))
        return exports.Export(live, gids, scores, sort, keys, exports.MAX_ROWS if limit is None else limit)

    def _research_result(self, q: str):
        """The live build, the parsed query, its result (ids, scores) as the search has it, and for
        a query of one term or phrase its occurrences in each paragraph (else None)."""
        live = self._current()
        parsed = self.parse(q, live)
        if parsed.is_empty:
            return live, parsed, np.empty(0, dtype=np.uint32), np.empty(0), None
        (group, *more) = parsed.groups or [()]
        if len(group) == 1 and not more and not parsed.excluded and not parsed.filters and group[0].field == TEXT:
            # what evaluate() answers for one term, phrase, pattern or NEAR, from one lookup whose
            # counts are the lines'
            unit = group[0]
            matches = live.grams.find(unit.key) if is_plain(unit) else special_matches(live.grams, unit)
            return (live, parsed, *match_unit(live, unit, matches), matches.tf)
        return (live, parsed, *evaluate(live, parsed), None)
