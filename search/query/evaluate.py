"""Matching and ranking on the match index: each term's paragraphs with BM25 and the whole-word bonus,
AND of OR-groups minus exclusions, metadata filters, and the order of the results.
"""

from __future__ import annotations

import numpy as np

from ..match.grams import Matches
from ..match.postings import contained
from ..text import analysis
from .live import LiveBuild
from .near import Near
from .operators import special_matches
from .parser import TITLE, DateRange, ParsedQuery, Unit

# Added once per term whose match in a paragraph is one of jieba's words there, so whole-word
# matches always rank above sub-word matches; BM25 on the characters orders within each group.
WHOLE_WORD_BONUS = 1000.0


Scored = tuple[np.ndarray, np.ndarray]  # (sorted unique paragraph gids, their scores)


def match_unit(live: LiveBuild, unit: Unit, matches: Matches | None = None) -> Scored:
    """Paragraphs containing one term or phrase, scored BM25 plus the whole-word bonus (``matches``:
    its lookup in the match index, when the caller has it)."""
    gids, bm25, whole = unit_scores(live, unit, matches)
    return gids, bm25 + WHOLE_WORD_BONUS * whole if whole is not None else bm25


def unit_scores(live: LiveBuild, unit: Unit | Near,
                matches: Matches | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Paragraphs containing one term or phrase (or matching a pattern or a NEAR), their BM25, and
    whether it is a whole word there (None when it is not looked at: a title term, a pattern, a
    NEAR, or no paragraph holds it)."""
    special = special_matches(live.grams, unit)
    if special is not None:
        scores = np.zeros(len(special.gids)) if unit.field == TITLE else live.grams.bm25(special)
        return special.gids, scores, None
    if unit.field == TITLE:
        gids = live.grams.find_in_titles(unit.key)
        return gids, np.zeros(len(gids)), None
    matches = live.grams.find(unit.key) if matches is None else matches
    scores = live.grams.bm25(matches)
    words = list(dict.fromkeys(analysis.cut(unit.normalized)))
    if not (len(matches.gids) and words):
        return matches.gids, scores, None
    # Among paragraphs holding the unit, those where all its words are words of the
    # paragraph: "a run of whole words" without storing word positions.
    return matches.gids, scores, live.grams.have_words(matches.gids, words)


def _union(parts: list[Scored]) -> Scored:
    if len(parts) == 1:
        return parts[0]
    gids, inverse = np.unique(np.concatenate([g for g, _ in parts]), return_inverse=True)
    return gids, np.bincount(inverse, weights=np.concatenate([s for _, s in parts]), minlength=len(gids))


def _intersection(a: Scored, b: Scored) -> Scored:
    keep = contained(a[0], b[0])
    gids = a[0][keep]
    return gids, a[1][keep] + b[1][np.searchsorted(b[0], gids)]


def evaluate(live: LiveBuild, parsed: ParsedQuery) -> Scored:
    """Every paragraph matching ``parsed`` with its score: AND of OR-groups, minus exclusions."""
    result: Scored | None = None
    for group in parsed.groups:
        scored = _union([match_unit(live, unit) for unit in group])
        result = scored if result is None else _intersection(result, scored)
        if not len(result[0]):
            return result
    if result is None:
        every = live.grams.live_gids()
        result = (every, np.zeros(len(every)))
    for unit in parsed.excluded:
        excluded = match_unit(live, unit)[0]
        keep = ~contained(result[0], excluded)
        result = (result[0][keep], result[1][keep])
    if parsed.filters and len(result[0]):
        keep = articles_kept(live, parsed)[live.article_index[result[0]]]
        result = (result[0][keep], result[1][keep])
    return result


def articles_kept(live: LiveBuild, parsed: ParsedQuery) -> np.ndarray:
    """Boolean mask over articles: those every filter of ``parsed`` keeps."""
    kept = np.ones(len(live.articles), dtype=bool)
    for f in parsed.filters:
        if isinstance(f, DateRange):
            mask = live.metadata.articles_dated(f.first, f.last)
        else:
            mask = live.metadata.articles_with(f.key, f.value)
        kept &= ~mask if f.negated else mask
    return kept


def result_order(live: LiveBuild, gids: np.ndarray, scores: np.ndarray, sort: str, first: int | None = None) -> np.ndarray:
    """Positions of ``gids`` in result order: best first, or by their article's date (undated last),
    ties by score; then by article id and paragraph number, whatever the build history (an
    article's paragraphs have consecutive ids, in order). With ``first``, only (at least) the first
    ``first`` of them."""
    articles = live.article_index[gids]
    if sort == "relevance":
        keys = (gids, live.article_rank[articles], -scores)
    else:
        keys = (gids, live.article_rank[articles], -scores,
                live.metadata.date_order(newest=sort == "newest")[articles])
    if first is not None and 0 < first < len(gids) // 8:
        # a page near the top of many matches: sort only those that can be on it (every tie of the
        # last one included), not all of them
        primary = keys[-1]
        last = np.partition(primary, first - 1)[first - 1]
        candidates = np.flatnonzero(primary <= last)
        return candidates[np.lexsort(tuple(key[candidates] for key in keys))]
    return np.lexsort(keys)
