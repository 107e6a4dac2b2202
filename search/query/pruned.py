"""A page of results with exact totals and facet counts, ranking only the matches that can still
enter the page: what :func:`~.evaluate.evaluate` and :func:`~.evaluate.result_order` would give
for it, the same hits in the same order with the same scores.

The matching paragraphs are worked out without scores (:class:`~.lookup.UnitHits`): their number is
the total, their articles give the facet counts, and filters and exclusions apply to them before
anything is ranked. Then the page: by date, only the matches of the page's dates are scored; by
relevance, matches are scored in order of an upper bound of their score (a block of a posting list
at a time for one listed key, else match by match), until no match left can reach the score of
the page's last — so every match scoring as much as the page's last, ties included, is among
those scored, and :func:`~.evaluate.result_order` orders them as it would order all matches. For
one listed key, ties are broken while ranking, as the page breaks them (by article id, then
paragraph): a match that can at most tie with the page's last and comes after it is not scored,
and a block whose best score is known exactly to be at most the page's last, and whose articles
all come after the last's by id (:mod:`.rank_floor`), is not even read — the same short paragraph
in every article of a news feed costs its first blocks, not all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..match.postings import locate
from .evaluate import articles_kept, result_order
from .live import LiveBuild
from .lookup import UnitHits
from .operators import is_plain
from .parser import TITLE, ParsedQuery

_FIRST_ROUND = 4  # blocks (or 16 × this many matches) scored in the first round; four times more each round
# below this many postings in the lists of a query's terms, scoring every match costs less than the
# bookkeeping of scoring few
PRUNE_FROM = 20_000
# a longer key's match costs more to rank exhaustively (counted in its skeleton, tested for whole
# words) than to bound by its rarest bigram's counts: at 21.6 M characters, 习近平's ~19,000 matches
# took 9 ms all ranked, 4 ms pruned
LONGER_KEY_WEIGHT = 4
# relative: a block's bound this close to the page's last score may hold only ties with it (bounds
# are rounded up through float32 and a margin)
_NEAR = 1e-6


@dataclass
class Page:
    """The matches' exact ``total``, the facet counts, and the page: its paragraphs and their scores."""

    total: int
    facets: dict[str, list[dict]]
    gids: np.ndarray
    scores: np.ndarray


def search_page(live: LiveBuild, parsed: ParsedQuery, sort: str, offset: int, size: int,
                facets: tuple[str, ...] = ()) -> Page | None:
    """The page ``offset:offset + size`` of ``parsed``'s results in ``sort`` order, with the exact
    total and ``facets``; None for a query of filters and exclusions alone (every paragraph matches:
    nothing to prune)."""
    if not parsed.groups or _postings(live, parsed) < PRUNE_FROM:
        return None
    units = {unit: UnitHits(live, unit) for group in parsed.groups for unit in group}
    one = units[parsed.groups[0][0]] if len(parsed.groups) == 1 and len(parsed.groups[0]) == 1 else None
    first = offset + size
    if one is not None and not parsed.excluded and not parsed.filters and not facets and sort == "relevance":
        # one term or phrase: its total is its lists' lengths, and its lists are decoded only where ranked
        if offset >= one.df:
            return Page(one.df, {}, np.zeros(0, dtype=np.uint32), np.zeros(0))
        idx, scores = _one_unit(live, one, None, first)
        order = np.argsort(idx)
        gids, scores = one.ids(idx[order]), scores[order]
        page = result_order(live, gids, scores, sort, first)[offset:first]
        return Page(one.df, {}, gids[page], scores[page])
    gids, articles, known = _matches(live, parsed, units)
    counts = {key: live.metadata.facet(key, articles) if len(gids) else [] for key in facets}
    if offset >= len(gids):
        return Page(len(gids), counts, gids[:0], np.zeros(0))
    if sort != "relevance":
        idx, scores = _by_date(live, _Scorer(parsed, units, gids, live.grams.count, known), articles, sort, first)
    elif one is not None:
        idx, scores = _one_unit(live, one, (gids, known[id(one)]), first)
    else:
        scorer = _Scorer(parsed, units, gids, live.grams.count, known)
        idx, scores = _best(first, scorer.bounds(np.arange(len(gids))), scorer.scores)
    page = result_order(live, gids[idx], scores, sort, first)[offset:first]
    return Page(len(gids), counts, gids[idx][page], scores[page])


def _postings(live: LiveBuild, parsed: ParsedQuery) -> int:
    """How many postings the lists of the query's terms and phrases hold (a longer key's rarest
    bigram's, weighed): what ranking every match would cost, without reading one."""
    total = 0
    for unit in {unit for group in parsed.groups for unit in group}:
        if not is_plain(unit) or unit.field == TITLE:
            continue
        for segment in live.grams.segments:
            listed = segment.key_list(unit.key)
            if listed is not None:
                total += listed[2] - listed[1]
            else:
                lo, hi = segment.bigram_ranges(unit.key)[0]
                total += (hi - lo) * LONGER_KEY_WEIGHT
    return total


def _matches(live: LiveBuild, parsed: ParsedQuery, units: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    """The paragraphs matching ``parsed`` (sorted) and their articles: AND of OR-groups, minus
    exclusions, within the filters; and, for each unit that is a group alone, where each of those
    paragraphs is among its matches (by ``id`` of its :class:`UnitHits`: what the lookups found)."""
    gids, known = None, {}
    for group in parsed.groups:
        hits = units[group[0]] if len(group) == 1 else None
        found = _union([units[unit].gids for unit in group])
        here = {} if hits is None else {id(hits): np.arange(len(found))}
        if gids is not None:  # the fewer looked up among the more
            (few, few_at), (many, many_at) = sorted(((found, here), (gids, known)), key=lambda side: len(side[0]))
            at = locate(many, few, live.grams.count)
            keep = at >= 0
            found, at = few[keep], at[keep]
            here = {k: v[keep] for k, v in few_at.items()} | {k: v[at] for k, v in many_at.items()}
        gids, known = found, here
    for unit in parsed.excluded:
        keep = locate(UnitHits(live, unit).gids, gids, live.grams.count) < 0
        gids, known = gids[keep], {k: v[keep] for k, v in known.items()}
    articles = live.article_index[gids.astype(np.intp)]
    if parsed.filters and len(gids):
        kept = articles_kept(live, parsed)[articles]
        gids, articles, known = gids[kept], articles[kept], {k: v[kept] for k, v in known.items()}
    return gids, articles, known


def _union(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))


class _Scorer:
    """Scores and bounds of the matches ``gids`` of ``parsed``: per group, the sum over its units
    holding the match, the groups' sums added in order (as evaluate() adds them)."""

    def __init__(self, parsed: ParsedQuery, units: dict, gids: np.ndarray, universe: int, known: dict):
        self.gids, self.universe = gids, universe
        self.groups = [[units[unit] for unit in group] for group in parsed.groups]
        # per unit, where each match is among its matches: known from the lookups, or once all are asked
        self._at: dict[int, np.ndarray] = dict(known)

    def _where(self, hits: UnitHits, idx: np.ndarray) -> np.ndarray:
        """Where the matches ``idx`` (sorted) are among ``hits``' matches (-1: not there), looked up
        for those alone: by date, a page asks for few."""
        if len(idx) < len(self.gids):
            return self._at[id(hits)][idx] if id(hits) in self._at else locate(hits.gids, self.gids[idx], self.universe)
        if id(hits) not in self._at:
            self._at[id(hits)] = locate(hits.gids, self.gids, self.universe)
        return self._at[id(hits)]

    def _fold(self, idx: np.ndarray, value) -> np.ndarray:
        total = None
        for group in self.groups:
            if len(group) == 1:
                summed = value(group[0], self._where(group[0], idx))
            else:
                summed = np.zeros(len(idx))
                for hits in group:
                    at = self._where(hits, idx)
                    where = np.flatnonzero(at >= 0)
                    summed[where] += value(hits, at[where])
            total = summed if total is None else total + summed
        return total

    def scores(self, idx: np.ndarray) -> np.ndarray:
        """Exact scores of the matches ``idx`` (sorted indexes into ``gids``)."""
        return self._fold(idx, lambda hits, at: hits.scores(at))

    def bounds(self, idx: np.ndarray) -> np.ndarray:
        """Upper bounds of the scores of the matches ``idx``."""
        return self._fold(idx, lambda hits, at: hits.bounds(at))


def _one_unit(live: LiveBuild, hits: UnitHits, within: tuple[np.ndarray, np.ndarray] | None,
              first: int) -> tuple[np.ndarray, np.ndarray]:
    """The matches (indexes into ``gids``, a subset of ``hits.gids``, with ``within`` = ``(gids,
    where each is among hits.gids)``; None: all of them) that may be among the best ``first``, and
    their scores: a block of its posting lists at a time when it has them."""
    at = np.arange(hits.df) if within is None else within[1]
    blocks = hits.block_bounds()
    if blocks is None:
        idx, scores = _best(first, hits.bounds(at), lambda i: hits.scores(at[i]))
        return idx, scores
    kept = None  # per match of hits, its index in gids (-1: not there)
    if within is not None and len(at) < hits.df:
        kept = np.full(hits.df, -1, dtype=np.int64)
        kept[at] = np.arange(len(at))

    def scores(items: np.ndarray, cut) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if kept is not None:
            items = items[kept[items] >= 0]
        keys = _tie_keys(live, hits.ids(items))
        if cut is not None:  # only those that can still come before the page's last
            threshold, last = cut
            most = hits.bounds(items)  # a listed key's bounds: BM25 itself, and the bonus where it may apply
            can = (most > threshold) | ((most == threshold) & (keys < last))
            items, keys = items[can], keys[can]
        return items, hits.scores(items), keys

    def floors(groups: np.ndarray, threshold: float) -> np.ndarray:
        """Per block, a tie key no greater than any of its matches' where none scores above
        ``threshold`` (its best score known exactly), else -1; a block of no match gets the greatest."""
        floor = np.full(len(groups), -1, dtype=np.int64)
        floor[blocks.ends[groups] <= blocks.starts[groups]] = np.iinfo(np.int64).max
        tied = np.flatnonzero((blocks.maxima[groups] <= threshold) & (blocks.ends[groups] > blocks.starts[groups]))
        if len(tied):
            starts, ends = blocks.starts[groups[tied]], blocks.ends[groups[tied]]
            edges = hits.ids(np.stack([starts, ends - 1], axis=1).ravel()).reshape(-1, 2).astype(np.int64)
            articles = live.article_index[edges]  # a block's first and last match's articles, and all between
            floor[tied] = _tie_key(live.rank_floor.least(articles.min(axis=1), articles.max(axis=1)), edges[:, 0])
        return floor

    items, found = _best_blocks(first, blocks.bounds, (blocks.starts, blocks.ends), scores, floors)
    return (items if kept is None else kept[items]), found


def _tie_keys(live: LiveBuild, gids: np.ndarray) -> np.ndarray:
    """What orders matches of equal score (:func:`~.evaluate.result_order`): their article's rank
    by id, then their id, as one number."""
    return _tie_key(live.article_rank[live.article_index[gids]], gids)


def _tie_key(ranks: np.ndarray, gids: np.ndarray) -> np.ndarray:
    """An article rank and a paragraph id as one number, ordered as the pair."""
    return ranks.astype(np.int64) << 32 | gids.astype(np.int64)


def _best_blocks(first: int, bounds: np.ndarray, ranges: tuple[np.ndarray, np.ndarray], score, floors=None):
    """The ``first`` best items (best first by score, then by tie key) and their scores, a group of
    items (``ranges``: starts, ends) at a time in order of its bound (``bounds``), until no group
    left can reach the ``first``-th's score. ``score(items, cut)``: of the items given, those kept,
    their scores and tie keys; with ``cut`` (the ``first``-th's score and key), only those that may
    still come before it. ``floors(groups, score)``: per group, a tie key no greater than any of
    its items' where none of them scores above ``score``, else -1.

    Unlike :func:`_best`, ties are broken as the page breaks them, so that the matches that tie with
    the page's last — the same short paragraph in thousands of articles — are left unscored but
    for the few that come before it, and what is kept stays ``first`` long. Groups of such ties are
    read in the order of their floors, and once the page's last comes before a group's floor, the
    group and every one after it are left unread."""
    page = _Page(first, score, ranges)
    remaining = np.arange(len(bounds))
    take = _FIRST_ROUND
    while len(remaining):
        chosen, remaining = _next_round(bounds, remaining, take)
        chosen = np.sort(chosen)  # groups in order do not overlap: their items come out sorted
        cut = page.cut
        # the cut is worth its cost only in groups whose bound is about the page's last score (ties)
        near = np.zeros(len(chosen), dtype=bool) if cut is None else bounds[chosen] <= cut[0] * (1 + _NEAR) + _NEAR
        page.add(chosen[~near], None)
        tied = chosen[near]
        if floors is None or not len(tied):
            page.add(tied, cut)
        else:
            floor = floors(tied, cut[0])
            order = np.argsort(floor, kind="stable")
            tied, floor = tied[order], floor[order]
            at, step = 0, 1  # the first block may already hold the page's ties
            while at < len(tied) and floor[at] < page.cut[1]:
                batch = tied[at: at + step][floor[at: at + step] < page.cut[1]]
                page.add(np.sort(batch), page.cut)
                at, step = at + step, step * 4
        if page.cut is not None:
            remaining = remaining[bounds[remaining] >= page.cut[0]]
        take *= 4
    order = np.argsort(page.items)
    return page.items[order], page.scores[order]


class _Page:
    """The best ``first`` items scored so far, with their scores and tie keys, and once there are
    ``first``, the ``cut``: the last one's score and key."""

    def __init__(self, first: int, score, ranges: tuple[np.ndarray, np.ndarray]):
        self.first, self._score, self._ranges = first, score, ranges
        self.items, self.scores, self.keys = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64)
        self.cut = None

    def add(self, groups: np.ndarray, cut) -> None:
        """Score the items of ``groups`` (sorted; with ``cut``, only those that may come before it)."""
        if not len(groups):
            return
        new, found, keys = self._score(_spans(self._ranges[0][groups], self._ranges[1][groups]), cut)
        self.items, self.scores = np.concatenate([self.items, new]), np.concatenate([self.scores, found])
        self.keys = np.concatenate([self.keys, keys])
        if len(self.items) >= self.first:
            best = np.lexsort((self.keys, -self.scores))[: self.first]
            self.items, self.scores, self.keys = self.items[best], self.scores[best], self.keys[best]
            self.cut = (self.scores[-1], self.keys[-1])


def _best(first: int, bounds: np.ndarray, score):
    """The items that may be among the ``first`` best (every one scoring at least the ``first``-th
    best, ties included) and their scores. ``bounds``: an upper bound of the score of each item;
    ``score(items)``: their scores (sorted items)."""
    threshold = -np.inf
    items, scores = np.zeros(0, dtype=np.int64), np.zeros(0)
    remaining = np.arange(len(bounds))
    take = _FIRST_ROUND * 16
    while len(remaining):
        chosen, remaining = _next_round(bounds, remaining, take)
        new = np.sort(chosen)
        items, scores = np.concatenate([items, new]), np.concatenate([scores, score(new)])
        if len(scores) >= first:
            threshold = np.partition(scores, len(scores) - first)[len(scores) - first]
            keep = scores >= threshold
            items, scores = items[keep], scores[keep]
        remaining = remaining[bounds[remaining] >= threshold]
        take *= 4
    return items, scores


def _next_round(bounds: np.ndarray, remaining: np.ndarray, take: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``take`` of ``remaining`` with the highest ``bounds`` (all when no more), and the rest."""
    if len(remaining) <= take:
        return remaining, remaining[:0]
    part = np.argpartition(-bounds[remaining], take - 1)
    return remaining[part[:take]], remaining[part[take:]]


def _spans(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``starts[i] … ends[i] - 1`` for every ``i``, concatenated."""
    lengths = ends - starts
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))


def _by_date(live: LiveBuild, scorer: _Scorer, articles: np.ndarray, sort: str, first: int):
    """The matches that may be among the ``first`` in date order (every match of a date before the
    ``first``-th's, and those of its date that may be among the best of it) and their scores."""
    dates = live.metadata.date_order(newest=sort == "newest")[articles]
    if len(dates) <= first:
        idx = np.arange(len(dates))
        return idx, scorer.scores(idx)
    last = np.partition(dates, first - 1)[first - 1]
    before = np.flatnonzero(dates < last)
    tied = np.flatnonzero(dates == last)
    idx, scores = _best(first - len(before), scorer.bounds(tied), lambda i: scorer.scores(tied[i]))
    idx = tied[idx]
    order = np.argsort(np.concatenate([before, idx]))
    return np.concatenate([before, idx])[order], np.concatenate([scorer.scores(before), scores])[order]
