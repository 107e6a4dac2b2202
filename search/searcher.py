"""Answering queries from the live index: matching, ranking, paging, highlighting.

Returns plain data shaped like the JSON API; knows nothing of HTTP. One :class:`Searcher` per
process, opened lazily (after gunicorn forks) and refreshed when a new build is swapped in.

Matching, ranking and the whole-word test run on the match index (:mod:`search.grams`), which
also knows where each article's paragraphs start; Whoosh holds the stored paragraph texts (its
document numbers are the paragraph ids). Whoosh itself answers only the bounded extras: the
did-you-mean of a query that finds nothing (its lexicon, :mod:`search.suggest`) and an article's
related articles (more-like-this, :mod:`search.related`).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from . import analysis, related
from .articles import ArticleTable
from .config import Settings
from .grams import GramIndex
from .postings import contained
from .mapped_whoosh import open_index
from .whoosh_codec import skeleton_column_path, text_reader
from .whoosh_columns import skeleton_arrays
from .explain import explain_hit
from .highlight import highlight, mark, skeleton_spans
from .query import TITLE, BadQuery, DateRange, ParsedQuery, Unit, parse
from .paragraphs import KINDS
from .suggest import PinyinCorrector, PinyinIndex, Suggester, Vocabulary
from .metadata_index import MetadataIndex
from .synonyms import FILE_NAME as SYNONYMS, Synonyms, read_synonyms
from .userdict import FILE_NAME as USERDICT, read_user_dictionary
from .store import GRAMS, IN_PLACE, PARAGRAPH_KINDS, IndexLayout, is_current_format, read_meta

__all__ = ["ArticleNotFound", "BadQuery", "IndexMissing", "Searcher"]

SORTS = ("relevance", "newest", "oldest")
MAX_FACETS = 8
GROUP_PARAGRAPHS = 3  # a grouped hit's best paragraphs
RELATED_CACHE = 256  # articles whose key terms and related articles a build keeps at hand

# Added once per term whose match in a paragraph is one of jieba's words there, so whole-word
# matches always rank above sub-word matches; BM25 on the characters orders within each group.
WHOLE_WORD_BONUS = 1000.0

# What opening a build and answering import on first use: Whoosh's searcher and what
# more-like-this collects with, the words field's format (unpickled from the schema), numpy.ma
# (np.unique loads it), the codecs of the stored texts and of the page.
IMPORTED_ON_FIRST_USE = ("whoosh.searching", "whoosh.scoring", "whoosh.classify", "whoosh.collectors",
                         "whoosh.sorting", "search.whoosh_writer", "numpy.ma", "encodings.utf_16_le",
                         "encodings.unicode_escape")


class IndexMissing(RuntimeError):
    """No index has been built yet at the configured folder."""


class ArticleNotFound(LookupError):
    """No article has that id."""


@dataclass
class _Live:
    """One open build: stored paragraph texts (Whoosh), the match index, the articles table and
    each paragraph's kind."""

    whoosh: object
    grams: GramIndex
    articles: ArticleTable  # (id, title, source) per article, in paragraph-id order
    kinds: np.ndarray  # paragraph id → position in paragraphs.KINDS
    in_place: np.ndarray  # paragraph id → 1 when its text folds in place
    meta: dict
    metadata: MetadataIndex = None  # per-article metadata arrays: filters, dates, facets
    synonyms: Synonyms = field(default_factory=Synonyms)  # the build's synonym groups
    article_index: np.ndarray = None  # paragraph id → position in ``articles``
    article_of: memoryview = None  # the same, as Python ints
    pinyin: PinyinIndex = None  # how the words sound (mapped), for did-you-mean
    suggester: Suggester = None  # did-you-mean, made on the first zero-hit query
    _alike: OrderedDict = field(default_factory=OrderedDict)  # article position → (key terms, related)
    build: Path = None
    text: object = None  # paragraph id → its text (Whoosh's stored text, read directly)

    def __post_init__(self):
        self.text = text_reader(self.whoosh, self.build, self.grams.units, self.grams.bounds)
        sizes = self.grams.article_ends - self.grams.article_starts
        self.article_index = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        # the same arrays as Python sequences, for a hit's few lookups: a Python int each, without
        # numpy's scalar machinery
        self.article_of = memoryview(self.article_index)
        self._kinds, self._in_place = memoryview(self.kinds), memoryview(self.in_place)
        self._article_starts = memoryview(self.grams.article_starts)
        # not ``self``: the suggester must not keep the build alive (#14). The match index maps the
        # words of Whoosh's ``words`` lexicon (the same sorted list), and the build their pinyin
        whoosh, lexicon, pinyin = self.whoosh, self.grams.words, self.pinyin
        self.suggester = Suggester(lambda: PinyinCorrector(Vocabulary.from_whoosh(whoosh.reader(), lexicon=lexicon),
                                                           pinyin))

    @classmethod
    def open(cls, build: Path) -> "_Live":
        meta = read_meta(build)
        if not is_current_format(meta):
            raise IndexMissing(f"the index at {build} was built by another version; run `zhsearch index`")
        searcher = open_index(build).searcher()  # shared, not copied per worker
        try:
            grams = GramIndex(build / GRAMS, *skeleton_arrays(skeleton_column_path(searcher, build)))
            kinds = np.asarray(np.load(build / PARAGRAPH_KINDS, mmap_mode="r"))
            in_place = np.asarray(np.load(build / IN_PLACE, mmap_mode="r"))
            articles = ArticleTable(build)
            pinyin = PinyinIndex.load(build / GRAMS)
        except BaseException:
            searcher.close()
            raise
        if (not searcher.doc_count_all() == grams.count == len(kinds) == len(in_place)
                or len(articles) != len(grams.article_starts)):
            searcher.close()
            raise IndexMissing(f"the index at {build} is incomplete; run `zhsearch index`")
        metadata = MetadataIndex(build, len(articles))
        synonyms = read_synonyms(build / SYNONYMS, lambda problem: None)  # reported when it was built
        analysis.add_user_words(read_user_dictionary(build / USERDICT, lambda problem: None))
        return cls(searcher, grams, articles, kinds, in_place, meta, metadata, synonyms, pinyin=pinyin, build=build)

    def paragraph(self, gid: int) -> dict:
        """Paragraph ``gid``: its article's id and title, its number in the article, kind, text."""
        position = self.article_of[gid]
        article_id, title, _ = self.articles[position]
        return {"article_id": article_id, "article_title": title,
                "n": gid - self._article_starts[position] + 1, "kind": KINDS[self._kinds[gid]],
                "text": self.text(gid)}

    def alike(self, position: int) -> tuple[list[tuple[str, float]], list[tuple[int, float]]]:
        """The key terms of the ``position``-th article and the articles most like it (up to
        ``related.MAX_RELATED``, best first), kept for the most recently asked articles."""
        found = self._alike.get(position)
        if found is None:
            gids = self.grams.article_gids(position)
            texts, length = [], 0
            for gid in gids:
                if length >= related.MAX_TEXT_CHARS:
                    break
                texts.append(self.text(gid))
                length += len(texts[-1]) + 1
            terms = related.key_terms(self.whoosh, "\n".join(texts))
            found = terms, related.related_articles(self.whoosh, terms, gids, self.article_of.__getitem__,
                                                    related.MAX_RELATED)
            self._alike[position] = found
            if len(self._alike) > RELATED_CACHE:
                self._alike.popitem(last=False)
        else:
            self._alike.move_to_end(position)
        return found

    def highlight(self, gid: int, text: str, keys: list[str]) -> str:
        """Paragraph ``gid``'s text with ``keys`` marked; its skeleton is at hand in the match index,
        so a text that folds in place is not folded again: the keys' spans in its skeleton are
        its own."""
        if self._in_place[gid]:
            return mark(text, skeleton_spans(self.grams.skeletons[gid], keys))
        return highlight(text, keys)

    def close(self) -> None:
        self.whoosh.close()
        # the suggester's loader refers back to this build; dropping it lets the build's mapped
        # files go as soon as the last reference does, not at the next cyclic GC (#14)
        self.suggester = None


class Searcher:
    """Searches the live index under ``settings.index_dir``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.layout = IndexLayout(Path(settings.index_dir))
        self._lock = threading.Lock()
        self._version = None
        self._live: _Live | None = None
        self._checked_at = float("-inf")
        self._closed = threading.Event()

    # -- the live index -------------------------------------------------------------------------

    def _current(self) -> _Live:
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
                live = _Live.open(build)
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

    def parse(self, q: str, live: _Live | None = None) -> ParsedQuery:
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
        if not parsed.is_empty:
            gids, scores = evaluate(live, parsed)
            total = len(gids)
            if not total:
                suggestions = self._suggest(live, q, parsed)
            elif facets:
                articles_of = live.article_index[gids]
                facet_counts = {key: live.metadata.facet(key, articles_of) for key in facets}
            offset = (page - 1) * size
            hit = _HitMaker(live, parsed, gids, scores, explain)
            if by_article and total:
                ranked, paragraphs_of = _articles_ranked(live, gids, _order(live, gids, scores, sort))
                articles = len(ranked)
                hits = [hit.article(position, *paragraphs_of(position)) for position in ranked[offset:offset + size].tolist()]
            elif offset < total:
                hits = [hit(i) for i in _order(live, gids, scores, sort, offset + size)[offset : offset + size].tolist()]
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

    def _suggest(self, live: _Live, q: str, parsed: ParsedQuery) -> list[str]:
        """Did-you-mean for a query that finds nothing: whole queries that find something."""

        def query_finds(suggestion: str) -> bool:
            try:
                return len(evaluate(live, self.parse(suggestion, live))[0]) > 0
            except BadQuery:
                return False

        suggester = live.suggester
        if suggester is None:  # the build was closed under us (swapped out): nothing to draw on
            return []
        return suggester.suggest(q, parsed, unit_finds=lambda unit: len(match_unit(live, unit)[0]) > 0,
                                 query_finds=query_finds)

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
    def _position(live: _Live, article_id: str) -> int:
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

Scored = tuple[np.ndarray, np.ndarray]  # (sorted unique paragraph gids, their scores)


def warm_up() -> None:
    """Import now the modules that opening a build and answering would import on first use
    (gunicorn's master does, so that its workers share them instead of each compiling its own)."""
    for name in IMPORTED_ON_FIRST_USE:
        importlib.import_module(name)


def match_unit(live: _Live, unit: Unit) -> Scored:
    """Paragraphs containing one term or phrase, scored BM25 plus the whole-word bonus."""
    gids, bm25, whole = unit_scores(live, unit)
    return gids, bm25 + WHOLE_WORD_BONUS * whole if whole is not None else bm25


def unit_scores(live: _Live, unit: Unit) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Paragraphs containing one term or phrase, their BM25, and whether it is a whole word there
    (None when it is not looked at: a title term, or no paragraph holds it)."""
    if unit.field == TITLE:
        gids = live.grams.find_in_titles(unit.key)
        return gids, np.zeros(len(gids)), None
    matches = live.grams.find(unit.key)
    scores = live.grams.bm25(matches)
    words = list(dict.fromkeys(analysis.cut(unit.normalized)))
    if not (len(matches.gids) and words):
        return matches.gids, scores, None
    # Among paragraphs holding the unit, those where all its words are words of the
    # paragraph: "a run of whole words" without storing word positions.
    return matches.gids, scores, live.grams.have_words(matches.gids, words)


class _HitMaker:
    """Builds the hits of one page: paragraph, highlight, metadata and, when asked, the explanation."""

    def __init__(self, live: _Live, parsed: ParsedQuery, gids: np.ndarray, scores: np.ndarray, explain: bool):
        self.live, self.gids, self.scores = live, gids, scores
        self.keys = parsed.highlight_keys()
        self.units = list(dict.fromkeys(unit for group in parsed.groups for unit in group)) if explain else None
        self._unit_scores: dict = {}

    def __call__(self, i: int) -> dict:
        """The hit of ``gids[i]``."""
        live, gid = self.live, int(self.gids[i])
        paragraph = live.paragraph(gid)
        position = live.article_of[gid]
        hit = {
            "article_id": paragraph["article_id"],
            "article_title": paragraph["article_title"],
            "paragraph": paragraph["n"],
            "kind": paragraph["kind"],
            "score": round(float(self.scores[i]), 4),
            "text": paragraph["text"],
            "highlight": live.highlight(gid, paragraph["text"], self.keys),
            "metadata": live.metadata.of_article(position),
        }
        if self.units is not None:
            hit["explain"] = explain_hit(paragraph["text"], live.articles[position][1], self.units,
                                         [self._parts(unit, gid) for unit in self.units], float(self.scores[i]))
        return hit

    def article(self, position: int, total: int, best: list[int]) -> dict:
        """The grouped hit of article ``position``: its ``total`` matching paragraphs and the best
        of them (``best``: indexes into gids, best first)."""
        article_id, title, _ = self.live.articles[position]
        return {"article_id": article_id, "article_title": title,
                "metadata": self.live.metadata.of_article(position),
                "score": round(float(self.scores[best[0]]), 4), "total": total,
                "paragraphs": [self(i) for i in best]}

    def _parts(self, unit: Unit, gid: int) -> tuple[float, float, bool]:
        found = self._unit_scores.get(unit)
        if found is None:
            found = self._unit_scores[unit] = unit_scores(self.live, unit)
        gids, bm25, whole = found
        at = int(np.searchsorted(gids, gid))
        if at >= len(gids) or gids[at] != gid:
            return 0.0, 0.0, False
        is_whole = bool(whole[at]) if whole is not None else False
        return float(bm25[at]), WHOLE_WORD_BONUS if is_whole else 0.0, is_whole


def _articles_ranked(live: _Live, gids: np.ndarray, order: np.ndarray):
    """The matching articles in the order of their best paragraph, and a function giving an
    article's number of matching paragraphs and the indexes into ``gids`` of its best
    ``GROUP_PARAGRAPHS``, best first."""
    articles = live.article_index[gids[order]]
    found, first = np.unique(articles, return_index=True)
    ranked = found[np.argsort(first, kind="stable")]
    grouped = order[np.argsort(articles, kind="stable")]  # by article, best first within each
    counts = np.bincount(articles, minlength=len(live.articles))
    starts = np.cumsum(counts) - counts

    def paragraphs_of(position: int) -> tuple[int, list[int]]:
        count = int(counts[position])
        return count, grouped[starts[position]: starts[position] + min(GROUP_PARAGRAPHS, count)].tolist()

    return ranked, paragraphs_of


def _union(parts: list[Scored]) -> Scored:
    if len(parts) == 1:
        return parts[0]
    gids, inverse = np.unique(np.concatenate([g for g, _ in parts]), return_inverse=True)
    return gids, np.bincount(inverse, weights=np.concatenate([s for _, s in parts]), minlength=len(gids))


def _intersection(a: Scored, b: Scored) -> Scored:
    keep = contained(a[0], b[0])
    gids = a[0][keep]
    return gids, a[1][keep] + b[1][np.searchsorted(b[0], gids)]


def evaluate(live: _Live, parsed: ParsedQuery) -> Scored:
    """Every paragraph matching ``parsed`` with its score: AND of OR-groups, minus exclusions."""
    result: Scored | None = None
    for group in parsed.groups:
        scored = _union([match_unit(live, unit) for unit in group])
        result = scored if result is None else _intersection(result, scored)
        if not len(result[0]):
            return result
    if result is None:
        result = (np.arange(live.grams.count, dtype=np.uint32), np.zeros(live.grams.count))
    for unit in parsed.excluded:
        excluded = match_unit(live, unit)[0]
        keep = ~contained(result[0], excluded)
        result = (result[0][keep], result[1][keep])
    if parsed.filters and len(result[0]):
        keep = _articles_kept(live, parsed)[live.article_index[result[0]]]
        result = (result[0][keep], result[1][keep])
    return result


def _articles_kept(live: _Live, parsed: ParsedQuery) -> np.ndarray:
    """Boolean mask over articles: those every filter of ``parsed`` keeps."""
    kept = np.ones(len(live.articles), dtype=bool)
    for f in parsed.filters:
        if isinstance(f, DateRange):
            mask = live.metadata.articles_dated(f.first, f.last)
        else:
            mask = live.metadata.articles_with(f.key, f.value)
        kept &= ~mask if f.negated else mask
    return kept


def _order(live: _Live, gids: np.ndarray, scores: np.ndarray, sort: str, first: int | None = None) -> np.ndarray:
    """Positions of ``gids`` in result order: best first, or by their article's date (undated last),
    ties by score; index order last. With ``first``, only (at least) the first ``first`` of them."""
    if sort == "relevance":
        keys = (gids, -scores)
    else:
        keys = (gids, -scores, live.metadata.date_order(newest=sort == "newest")[live.article_index[gids]])
    if first is not None and 0 < first < len(gids) // 8:
        # a page near the top of many matches: sort only those that can be on it (every tie of the
        # last one included), not all of them
        primary = keys[-1]
        last = np.partition(primary, first - 1)[first - 1]
        candidates = np.flatnonzero(primary <= last)
        return candidates[np.lexsort(tuple(key[candidates] for key in keys))]
    return np.lexsort(keys)
