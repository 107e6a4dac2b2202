"""Answering queries from the live index: matching, ranking, paging, highlighting.

Returns plain data shaped like the JSON API; knows nothing of HTTP. One :class:`Searcher` per
process, opened lazily (after gunicorn forks) and refreshed when a new build is swapped in.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from whoosh import collectors
from whoosh import index as whoosh_index
from whoosh import query as wq

from . import analysis
from .config import Settings
from .highlight import highlight
from .query import TITLE, BadQuery, ParsedQuery, Unit, parse
from .store import IndexLayout, read_meta

__all__ = ["ArticleNotFound", "BadQuery", "IndexMissing", "Searcher"]

# Added once per term whose match in a paragraph is one of jieba's words there, so whole-word
# matches always rank above sub-word matches; BM25 on the characters orders within each group.
WHOLE_WORD_BONUS = 1000.0


class IndexMissing(RuntimeError):
    """No index has been built yet at the configured folder."""


class ArticleNotFound(LookupError):
    """No article has that id."""


class Searcher:
    """Searches the live index under ``settings.index_dir``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.layout = IndexLayout(Path(settings.index_dir))
        self._lock = threading.Lock()
        self._version = None
        self._searcher = None
        self._meta: dict = {}
        self._checked_at = float("-inf")

    # -- the live index -------------------------------------------------------------------------

    def _current(self):
        """The Whoosh searcher for the live build, reopened when the pointer changed."""
        now = time.monotonic()
        with self._lock:
            if self._searcher is not None and now - self._checked_at < self.settings.refresh_interval:
                return self._searcher, self._meta
            self._checked_at = now
            version = self.layout.version()
            if self._searcher is not None and version == self._version:
                return self._searcher, self._meta
            build = self.layout.current()
            if build is None:
                if self._searcher is not None:
                    return self._searcher, self._meta
                raise IndexMissing(f"no index at {self.settings.index_dir}; run `zhsearch index`")
            searcher = whoosh_index.open_dir(str(build)).searcher()
            old, self._searcher = self._searcher, searcher
            self._version, self._meta = version, read_meta(build)
            if old is not None:
                old.close()
            return self._searcher, self._meta

    def close(self) -> None:
        """Release the open index files."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    # -- public API -----------------------------------------------------------------------------

    def parse(self, q: str) -> ParsedQuery:
        """Parse ``q`` under the configured limits (raises :class:`BadQuery`)."""
        return parse(q, max_chars=self.settings.max_query_chars, max_terms=self.settings.max_query_terms)

    def search(self, q: str, page: int = 1, size: int = 10) -> dict:
        """One page of matching paragraphs, best first, with the exact total."""
        started = time.perf_counter()
        if page < 1 or not 1 <= size <= self.settings.max_page_size:
            raise BadQuery(f"page must be ≥ 1 and size between 1 and {self.settings.max_page_size}")
        parsed = self.parse(q)
        hits: list[dict] = []
        total = 0
        whoosh_query = to_whoosh(parsed)
        if whoosh_query is not None:
            searcher, _ = self._current()
            offset = (page - 1) * size
            limit = min(offset + size, max(1, searcher.doc_count()))
            # Whoosh's default collector prunes matchers it thinks cannot reach the top N (and
            # then undercounts): collect without those shortcuts so the total is exact.
            collector = collectors.TopCollector(limit=limit, usequality=False, replace=0)
            searcher.search_with_collector(whoosh_query, collector)
            results = collector.results()
            total = len(results)
            keys = parsed.highlight_keys()
            for hit in results[offset : offset + size]:
                stored = hit.fields()
                hits.append({
                    "article_id": stored["article_id"],
                    "article_title": stored.get("article_title", ""),
                    "paragraph": stored["n"],
                    "kind": stored["kind"],
                    "score": round(hit.score, 4),
                    "text": stored["text"],
                    "highlight": highlight(stored["text"], keys),
                })
        return {
            "query": q,
            "total": total,
            "page": page,
            "size": size,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "hits": hits,
        }

    def article(self, article_id: str, q: str | None = None) -> dict:
        """A whole article's paragraphs in order; with ``q``, each with its highlight."""
        keys = self.parse(q).highlight_keys() if q else None
        searcher, _ = self._current()
        stored = sorted(searcher.documents(article_id=article_id), key=lambda d: d["n"])
        if not stored:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        paragraphs = []
        for doc in stored:
            paragraph = {"n": doc["n"], "kind": doc["kind"], "text": doc["text"]}
            if keys is not None:
                paragraph["highlight"] = highlight(doc["text"], keys)
            paragraphs.append(paragraph)
        first = stored[0]
        return {"id": article_id, "title": first.get("article_title", ""), "source": first.get("source", ""),
                "paragraphs": paragraphs}

    def health(self) -> dict:
        """Counts and build time of the live index."""
        _, meta = self._current()
        return {
            "status": "ok",
            "articles": meta.get("articles", 0),
            "paragraphs": meta.get("paragraphs", 0),
            "index_built_at": meta.get("built_at", ""),
        }


# -- query translation ----------------------------------------------------------------------------


def gram_query(field: str, key: str) -> wq.Query:
    """Paragraphs whose ``field`` skeleton contains ``key`` as a contiguous substring."""
    grams = analysis.query_grams(key)
    if len(grams) == 1:
        return wq.Term(field, grams[0])
    return wq.Phrase(field, grams)


def word_query(unit: Unit) -> wq.Query | None:
    """The unit as jieba words, for the whole-word bonus; None when it has no words."""
    words = analysis.cut(unit.normalized)
    if not words:
        return None
    if len(words) == 1:
        return wq.Term("words", words[0])
    return wq.Phrase("words", words)


def unit_query(unit: Unit) -> wq.Query:
    """Match on characters (full recall), with a bonus when the match is whole words."""
    if unit.field == TITLE:
        return gram_query("title_chars", unit.key)
    matching = gram_query("chars", unit.key)
    words = word_query(unit)
    if words is None:
        return matching
    return wq.AndMaybe(matching, wq.ConstantScoreQuery(words, WHOLE_WORD_BONUS))


def to_whoosh(parsed: ParsedQuery) -> wq.Query | None:
    """The Whoosh query for a parsed query, or None when nothing can match."""
    if parsed.is_empty:
        return None
    positives = [wq.Or([unit_query(u) for u in group]) if len(group) > 1 else unit_query(group[0])
                 for group in parsed.groups]
    positive = (wq.And(positives) if len(positives) > 1 else positives[0]) if positives else wq.Every()
    if not parsed.excluded:
        return positive
    excluded = [unit_query(u) for u in parsed.excluded]
    return wq.AndNot(positive, wq.Or(excluded) if len(excluded) > 1 else excluded[0])
