"""The paragraphs that wildcard patterns and NEARs match, on the match index: candidates from the
exact lookups of their literal parts, then each candidate's skeleton checked.

A pattern's literal pieces must all occur in a match, so the paragraphs holding them all (the
pieces of two or more characters when it has any: each is a posting-list lookup; otherwise its
single characters) are the candidates; the pattern's scan over their skeletons keeps the
paragraphs where it matches and counts the matches. A NEAR's candidates hold a member of each side;
its pairs are checked in each. Answers are kept for the last few operators of each build (the
search page asks the same query for its hits, its timeline and its 语境 view).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from ..match.grams import GramIndex, Matches
from ..match.postings import contained
from .near import Near
from .parser import TITLE, Unit
from .patterns import Pattern

_BATCH = 4096  # candidate skeletons decoded at a time
_KEPT = 32  # operators whose paragraphs a build keeps
_kept: "weakref.WeakKeyDictionary[GramIndex, OrderedDict]" = weakref.WeakKeyDictionary()


def is_plain(unit: Unit | Near) -> bool:
    """A term or phrase looked up as it is (no wildcard, no NEAR)."""
    return isinstance(unit, Unit) and unit.pattern is None


def special_matches(grams: GramIndex, unit: Unit | Near) -> Matches | None:
    """The paragraphs a pattern or a NEAR matches, with its matches in each (for a title pattern,
    every paragraph of an article whose title it matches, counts 0); None for a plain unit."""
    if is_plain(unit):
        return None
    kept = _kept.setdefault(grams, OrderedDict())
    found = kept.get(unit)
    if found is None:
        if isinstance(unit, Near):
            found = near_matches(grams, unit)
        elif unit.field == TITLE:
            found = _title_matches(grams, unit.pattern)
        else:
            found = pattern_matches(grams, unit.pattern)
        kept[unit] = found
        if len(kept) > _KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(unit)
    return found


def unit_gids(grams: GramIndex, unit: Unit) -> np.ndarray:
    """The paragraphs (sorted) holding a term, phrase or pattern of the text."""
    found = special_matches(grams, unit)
    return (found if found is not None else grams.find(unit.key)).gids


def pattern_matches(grams: GramIndex, pattern: Pattern) -> Matches:
    """Every paragraph where ``pattern`` matches, with its number of matches."""
    pieces = [piece for piece in pattern.pieces if len(piece) > 1] or list(pattern.pieces)
    candidates = None
    for piece in pieces:
        gids = grams.find(piece).gids
        candidates = gids if candidates is None else candidates[contained(candidates, gids)]
        if not len(candidates):
            break
    return _checked(grams, candidates, pattern.counts)


def near_matches(grams: GramIndex, near: Near) -> Matches:
    """Every paragraph where ``near`` finds a pair, with the number of occurrences taking part."""

    def side(units) -> np.ndarray:
        parts = [unit_gids(grams, unit) for unit in units]
        return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))

    left = side(near.left)
    candidates = left[contained(left, side(near.right))] if len(left) else left
    return _checked(grams, candidates, lambda texts: [len(near.occurrences(text)) for text in texts])


def skeleton_texts(grams: GramIndex, gids: np.ndarray) -> list[str]:
    """The skeletons of the paragraphs ``gids``, decoded together."""
    return grams.skeletons.many(gids)


def _checked(grams: GramIndex, candidates: np.ndarray | None, count) -> Matches:
    """The candidates where ``count`` (texts → a count each) finds something, with the counts."""
    if candidates is None or not len(candidates):
        return Matches(np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64))
    counts = np.zeros(len(candidates), dtype=np.int64)
    for first in range(0, len(candidates), _BATCH):
        batch = candidates[first:first + _BATCH]
        counts[first:first + len(batch)] = count(skeleton_texts(grams, batch))
    found = counts > 0
    return Matches(candidates[found].astype(np.uint32), counts[found])


def _title_matches(grams: GramIndex, pattern: Pattern) -> Matches:
    """Every paragraph of the articles whose title ``pattern`` matches (counts 0: BM25 is of the text)."""
    gids = grams.find_in_titles(pattern.pieces[0])
    articles = np.unique(np.searchsorted(grams.article_starts, gids, side="right") - 1).tolist()
    ranges = [grams.article_gids(a) for a in articles if pattern.occurrences(grams.titles[a])]
    gids = (np.concatenate([np.arange(r.start, r.stop, dtype=np.uint32) for r in ranges]) if ranges
            else np.empty(0, dtype=np.uint32))
    return Matches(gids, np.zeros(len(gids), dtype=np.int64))
