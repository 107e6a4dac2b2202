"""Answering queries from the live index: matching, ranking, paging, highlighting.

Returns plain data shaped like the JSON API; knows nothing of HTTP. One :class:`Searcher` per
process, opened lazily (after gunicorn forks) and refreshed when a new build is swapped in.

Matching, ranking and the whole-word test run on the match index (:mod:`search.match`, through
:mod:`search.query.evaluate`), which also knows where each article's paragraphs start; Whoosh holds
the stored paragraph texts (its document numbers are the paragraph ids; :mod:`search.query.live`).
Whoosh itself answers only the bounded extras: the did-you-mean of a query that finds nothing (its
lexicon, :mod:`search.query.suggest`) and an article's related articles (more-like-this,
:mod:`search.query.related`).
"""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path

from whoosh import index as whoosh_index

from ..config import Settings
from ..formats.layout import IndexLayout
from . import related
from .completions import MAX_SIZE as MAX_COMPLETIONS
from .evaluate import evaluate, match_unit, result_order
from .hits import HitMaker, articles_ranked
from .live import IndexMissing, LiveBuild
from .operators import is_plain
from .parser import BadQuery, ParsedQuery, parse
from .pruned import search_page
from .research import ResearchViews

__all__ = ["ArticleNotFound", "BadQuery", "IndexMissing", "Searcher"]

SORTS = ("relevance", "newest", "oldest")
MAX_FACETS = 8


# What opening a build and answering import on first use: Whoosh's searcher and what
# more-like-this collects with, the schema's field types (unpickled from the schema), numpy.ma
# (np.unique loads it), the codecs of the stored texts and of the page.
IMPORTED_ON_FIRST_USE = ("whoosh.searching", "whoosh.scoring", "whoosh.classify", "whoosh.collectors",
                         "whoosh.sorting", "search.segment.words_format", "search.segment.schema", "numpy.ma",
                         "encodings.utf_16_le", "encodings.unicode_escape")


class ArticleNotFound(LookupError):
    """No article has that id."""


class Searcher(ResearchViews):
    """Searches the live index under ``settings.index_dir``; the research views (timeline,
    concordance, export) come from :class:`~.research.ResearchViews`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.layout = IndexLayout(Path(settings.index_dir))
        self._lock = threading.Lock()
        self._version = None
        self._live: LiveBuild | None = None
        self._checked_at = float("-inf")
        self._closed = threading.Event()

    # -- the live index -------------------------------------------------------------------------

    def _current(self) -> LiveBuild:
        """The live build, reopened when the ``CURRENT`` pointer changed."""
        now = time.monotonic()
        with self._lock:
            if self._live is not None and now - self._checked_at < self.settings.refresh_interval:
                return self._live
            self._checked_at = now
            version = self.layout.version()
            if self._live is not None and version == self._version:
                return self._live
            build = self.layout.current()
            if build is None:
                if self._live is not None:
                    return self._live
                raise IndexMissing(f"no index at {self.settings.index_dir}; run `zhsearch index`")
            try:
                live = LiveBuild.open(build)
            except (OSError, ValueError, IndexMissing, whoosh_index.IndexError) as problem:
                if self._live is None:
                    if isinstance(problem, IndexMissing):
                        raise
                    raise IndexMissing(f"the index at {build} cannot be opened; run `zhsearch index`") from None
                return self._live  # keep answering from the build we have; try again next time
            old, self._live = self._live, live
            self._version = version
            if old is not None:
                old.close()
            return self._live

    def warm(self) -> bool:
        """Open the live index now; False when there is none yet."""
        try:
            self._current()
        except IndexMissing:
            return False
        return True

    def follow_swaps(self) -> threading.Thread:
        """Look for a newly swapped-in build every refresh interval in a daemon thread and open it
        there, so that no request pays for opening it (#14); gunicorn starts one per worker."""

        def follow() -> None:
            while not self._closed.wait(max(self.settings.refresh_interval, 0.05)):
                try:
                    self._current()
                except IndexMissing:
                    pass

        thread = threading.Thread(target=follow, name="zhsearch-follow-swaps", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Release the open index files."""
        self._closed.set()
        with self._lock:
            if self._live is not None:
                self._live.close()
                self._live = None

    # -- public API -----------------------------------------------------------------------------

    def parse(self, q: str, live: LiveBuild | None = None) -> ParsedQuery:
        """Parse ``q`` under the configured limits (raises :class:`BadQuery`); with the live build,
        its metadata keys are filters and its synonym groups widen bare terms."""
        extra = {} if live is None else {"filter_keys": live.metadata.filter_keys(), "synonyms": live.synonyms}
        return parse(q, max_chars=self.settings.max_query_chars, max_terms=self.settings.max_query_terms, **extra)

    def search(self, q: str, page: int = 1, size: int = 10, *, sort: str = "relevance",
               facets: tuple[str, ...] = (), group: str | None = None, explain: bool = False) -> dict:
        """One page of matching paragraphs, best first (or newest / oldest first), with the exact
        total, and with ``facets`` the exact count of matching paragraphs per value of each key.

        ``group="article"`` pages through articles instead (each with its matching-paragraph count
        and its best paragraphs); ``explain`` tells, per hit and term, why it matched and scored."""
        started = time.perf_counter()
        if page < 1 or not 1 <= size <= self.settings.max_page_size:
            raise BadQuery(f"page must be ≥ 1 and size between 1 and {self.settings.max_page_size}")
        if sort not in SORTS:
            raise BadQuery(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if len(facets) > MAX_FACETS:
            raise BadQuery(f"at most {MAX_FACETS} facets")
        if group not in (None, "paragraph", "article"):
            raise BadQuery(f"group must be article or paragraph, not {group!r}")
        by_article = group == "article"
        live = self._current() if q.strip() else None
        parsed = self.parse(q, live)
        hits: list[dict] = []
        suggestions: list[str] = []
        facet_counts = {key: [] for key in facets}
        total = articles = 0
        # a page of paragraphs: only what can enter it is ranked (pruned.py); else every match
        found = None if parsed.is_empty or by_article else search_page(live, parsed, sort, (page - 1) * size, size,
                                                                       facets)
        if found is not None:
            total, facet_counts = found.total, found.facets
            suggestions = [] if total else self._suggest(live, q, parsed)
            hit = HitMaker(live, parsed, found.gids, found.scores, explain)
            hits = [hit(i) for i in range(len(found.gids))]
        elif not parsed.is_empty:
            gids, scores = evaluate(live, parsed)
            total = len(gids)
            if not total:
                suggestions = self._suggest(live, q, parsed)
            elif facets:
                articles_of = live.article_index[gids]
                facet_counts = {key: live.metadata.facet(key, articles_of) for key in facets}
            offset = (page - 1) * size
            hit = HitMaker(live, parsed, gids, scores, explain)
            if by_article and total:
                ranked, paragraphs_of = articles_ranked(live, gids, result_order(live, gids, scores, sort))
                articles = len(ranked)
                hits = [hit.article(position, *paragraphs_of(position)) for position in ranked[offset:offset + size].tolist()]
            elif offset < total:
                hits = [hit(i) for i in result_order(live, gids, scores, sort, offset + size)[offset : offset + size].tolist()]
        result = {
            "query": q,
            "total": total,
            "page": page,
            "size": size,
            "took_ms": 0.0,
            "hits": hits,
            "suggestions": suggestions,
        }
        if facets:
            result["facets"] = facet_counts
        if by_article:
            result["articles"] = articles
        result["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _suggest(self, live: LiveBuild, q: str, parsed: ParsedQuery) -> list[str]:
        """Did-you-mean for a query that finds nothing: whole queries that find something."""

        def query_finds(suggestion: str) -> bool:
            try:
                return len(evaluate(live, self.parse(suggestion, live))[0]) > 0
            except BadQuery:
                return False

        suggester = live.suggester
        if suggester is None:  # the build was closed under us (swapped out): nothing to draw on
            return []
        # a pattern or a NEAR is no word to correct: it counts as finding something
        return suggester.suggest(q, parsed, query_finds=query_finds,
                                 unit_finds=lambda unit: not is_plain(unit) or len(match_unit(live, unit)[0]) > 0)

    def complete(self, q: str, size: int = 8) -> dict:
        """As-you-type completions of ``q``, most used first (:mod:`search.query.completions`)."""
        if not 1 <= size <= MAX_COMPLETIONS:
            raise BadQuery(f"size must be between 1 and {MAX_COMPLETIONS}")
        return {"query": q, "suggestions": self._current().completer.complete(q, size) if q.strip() else []}

    def article(self, article_id: str, q: str | None = None) -> dict:
        """A whole article's paragraphs in order; with ``q``, each with its highlight."""
        live = self._current()
        keys = self.parse(q, live).highlight_keys() if q else None
        position = self._position(live, article_id)
        _, title, source = live.articles[position]
        paragraphs = []
        for gid in live.grams.article_gids(position):
            found = live.paragraph(gid)
            paragraph = {"n": found["n"], "kind": found["kind"], "text": found["text"]}
            if keys is not None:
                paragraph["highlight"] = live.highlight(gid, found["text"], keys)
            paragraphs.append(paragraph)
        return {"id": article_id, "title": title, "source": source, "metadata": live.metadata.of_article(position),
                "paragraphs": paragraphs}

    def related(self, article_id: str, size: int = 5) -> dict:
        """The ``size`` articles most like ``article_id``, best first (Whoosh's more-like-this over
        the article's key terms; never the article itself)."""
        if not 1 <= size <= related.MAX_RELATED:
            raise BadQuery(f"size must be between 1 and {related.MAX_RELATED}")
        live = self._current()
        _, alike = live.alike(self._position(live, article_id))
        return {"id": article_id, "related": [
            {"article_id": live.articles[position][0], "article_title": live.articles[position][1],
             "score": round(score, 4)} for position, score in alike[:size]]}

    def key_terms(self, article_id: str, count: int = 8) -> list[str]:
        """The words most characteristic of ``article_id`` against the whole index, best first."""
        live = self._current()
        terms, _ = live.alike(self._position(live, article_id))
        return [word for word, _ in terms[:count]]

    @staticmethod
    def _position(live: LiveBuild, article_id: str) -> int:
        position = live.articles.position_of(article_id)
        if position is None:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        return position

    def filter_keys(self) -> frozenset[str]:
        """The metadata keys a ``KEY:VALUE`` filter may name in the live index (``date`` among them when dated)."""
        return self._current().metadata.filter_keys()

    def facet_keys(self, limit: int = 5, max_values: int = 50) -> list[str]:
        """Keys worth a facet sidebar, at most ``limit``: ``source``, ``year`` when articles are dated,
        then the other metadata keys with at most ``max_values`` distinct values."""
        metadata = self._current().metadata
        few = sorted(key for key, entry in metadata.keys.items() if key != "source" and len(entry.written) <= max_values)
        keys = (["source"] if "source" in metadata.keys else []) + (["year"] if metadata.has_dates else []) + few
        return keys[:limit]

    def health(self) -> dict:
        """Counts and build time of the live index."""
        meta = self._current().meta
        return {
            "status": "ok",
            "articles": meta.get("articles", 0),
            "paragraphs": meta.get("paragraphs", 0),
            "index_built_at": meta.get("built_at", ""),
        }


# -- matching and ranking ------------------------------------------------------------------------


def warm_up() -> None:
    """Import now the modules that opening a build and answering would import on first use
    (gunicorn's master does, so that its workers share them instead of each compiling its own)."""
    for name in IMPORTED_ON_FIRST_USE:
        importlib.import_module(name)


