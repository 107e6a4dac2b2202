"""One term's or phrase's live matches in the generation, with its score worked out only for the
paragraphs asked about, and an upper bound of it that costs less (:class:`UnitHits`).

A key of one or two code units is one posting list per segment: its matches are the list, its
counts are read at the positions asked about, and the list's blocks bound BM25
(:mod:`search.match.blockmax`). A longer key that is a word of a segment's vocabulary matches
every paragraph where it is a word (a word is a run of its paragraph's skeleton: it holds no
character the skeleton drops, as a key holds none), so only the other paragraphs holding its
bigrams are checked; the counts of the word's paragraphs are counted when asked for, bounded
meanwhile by the blocks of its shortest bigram list (a key occurs no more often than its bigrams).
Any other key is checked wherever its bigrams are, as :func:`~.evaluate.unit_scores` does. A
pattern, a NEAR or a ``title:`` term is scored whole by :func:`~.evaluate.match_unit`.

Scores are the very floats of :func:`~.evaluate.match_unit`: the same functions on the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..match.blockmax import BLOCK, BM25_K1, MARGIN, alike_maxima, idf, score_bounds
from ..match.grams import GramIndex, Matches
from ..match.postings import locate
from ..text import analysis
from .evaluate import WHOLE_WORD_BONUS, match_unit
from .live import LiveBuild
from .operators import is_plain
from .parser import TITLE, Unit

@dataclass
class _Part:
    """A unit's matches in one segment."""

    segment: GramIndex
    base: int  # the segment's first paragraph id in the generation
    start: int  # where its matches start among the unit's
    gids: np.ndarray | None  # ids in the segment, sorted, live (None: a listed key's list, not decoded yet)
    count: int  # how many
    stream: str | None = None  # the stream whose positions are below (its blocks bound the scores)
    lo: int = 0  # a listed key: where its list starts in the stream
    end: int = 0  # and where it ends
    positions: np.ndarray | None = None  # per match, its position in the stream (None: lo, lo + 1, …)
    tf: np.ndarray | None = None  # per match its count, -1 when not counted yet (None: read from the list)
    whole: np.ndarray | None = None  # per match whether the key is a whole word there, when known
    may_be_whole: bool = False  # otherwise: whether it may be (every word of the unit is in the vocabulary)

    def positions_at(self, local: np.ndarray) -> np.ndarray:
        return self.lo + local if self.positions is None else self.positions[local]

    def ids(self, local: np.ndarray | None = None) -> np.ndarray:
        """The ids of matches ``local`` (sorted indexes), or of all; a list is decoded only there."""
        if self.gids is None:
            lists = self.segment.streams[self.stream][0]
            if local is not None:
                return lists.at(self.positions_at(local), self.lo, self.end)
            if self.positions is None:
                self.gids = lists.span(self.lo, self.lo + self.count)
            else:  # the live ones of the list
                self.gids = lists.span(self.lo, int(self.positions[-1]) + 1)[self.positions - self.lo]
        return self.gids if local is None else self.gids[local]


@dataclass
class Blocks:
    """Per block of a listed key's lists: an upper bound of its matches' scores, where its matches
    are among the key's (``starts``, ``ends``), and the best score among them where the block's
    postings are alike (one count; +inf elsewhere), the same float as that match's score or above
    it only by the whole-word bonus a match of the block may lack."""

    bounds: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    maxima: np.ndarray


class UnitHits:
    """The live matches of ``unit`` in ``live``'s generation (``gids``, sorted) and ``df``; their
    scores (:meth:`scores`) and upper bounds of them (:meth:`bounds`, :meth:`block_bounds`)."""

    def __init__(self, live: LiveBuild, unit: Unit):
        grams = live.grams
        self.unit, self._parts, self._scores = unit, [], None
        single = grams.single is not None
        self._count = grams.single.count if single else grams.live_count
        self.mean = grams.single.avg_length if single else grams.avg_length
        if not is_plain(unit) or unit.field == TITLE:
            self._gids, self._scores = match_unit(live, unit)
            self.df = len(self._gids)
            return
        words = list(dict.fromkeys(analysis.cut(unit.normalized)))
        self._words = words
        start, self._gids = 0, None
        for segment, base in zip(grams.segments, grams.bases):
            part = _lookup(segment, unit.key, words, _deleted_in(grams, base, segment.count))
            if part is None or not part.count:
                continue
            part.base, part.start = base, start
            self._parts.append(part)
            start += part.count
        self.df = start
        self.idf = idf(self.df, self._count) if self.df else 0.0

    @property
    def gids(self) -> np.ndarray:
        """Every match's id (sorted), the lists decoded on the first call."""
        if self._gids is None:
            gids = [part.ids() + np.uint32(part.base) if part.base else part.ids() for part in self._parts]
            self._gids = (np.concatenate(gids) if len(gids) > 1 else gids[0]) if gids else np.zeros(0, dtype=np.uint32)
        return self._gids

    def ids(self, idx: np.ndarray) -> np.ndarray:
        """The ids of the matches ``idx`` (sorted indexes), decoding no more of a list than them."""
        if self._gids is not None:
            return self._gids[idx]
        out = np.empty(len(idx), dtype=np.uint32)
        for part, local, where in self._split(idx):
            out[where] = part.ids(local) + np.uint32(part.base)
        return out

    def _split(self, idx: np.ndarray):
        """Per part holding some of ``idx`` (sorted indexes into ``gids``): the part, the indexes
        into its matches, and where they are in ``idx``."""
        if len(self._parts) == 1:
            yield self._parts[0], idx, slice(0, len(idx))
            return
        cuts = np.searchsorted(idx, [part.start for part in self._parts[1:]] + [self.df])
        first = 0
        for part, end in zip(self._parts, cuts.tolist()):
            if end > first:
                yield part, idx[first:end] - part.start, slice(first, end)
            first = end

    def _bm25(self, part: _Part, local: np.ndarray, tf: np.ndarray) -> np.ndarray:
        return part.segment.bm25(Matches(part.ids(local), tf), self.df, self._count, self.mean)

    def scores(self, idx: np.ndarray) -> np.ndarray:
        """The scores of the matches ``idx`` (sorted indexes into ``gids``), as ``match_unit`` gives them."""
        if self._scores is not None:
            return self._scores[idx]
        out = np.empty(len(idx))
        for part, local, where in self._split(idx):
            tf = self._counts(part, local)
            bm25 = self._bm25(part, local, tf)
            if not self._words:
                out[where] = bm25
                continue
            if part.whole is not None:
                whole = part.whole[local]
            elif part.may_be_whole:
                whole = part.segment.have_words(part.ids(local), self._words)
            else:
                whole = np.zeros(len(local), dtype=bool)
            out[where] = bm25 + WHOLE_WORD_BONUS * whole
        return out

    def _counts(self, part: _Part, local: np.ndarray) -> np.ndarray:
        if part.tf is None:  # a listed key: its stored counts
            _, counts, _ = part.segment.streams[part.stream]
            return counts.at(part.positions_at(local).astype(np.uint32))
        tf = part.tf[local]
        todo = np.flatnonzero(tf < 0)
        if len(todo):
            tf[todo] = part.segment.skeletons.count_in(part.gids[local[todo]], self.unit.key)
        return tf

    def bounds(self, idx: np.ndarray) -> np.ndarray:
        """Upper bounds of the scores of the matches ``idx`` (sorted indexes into ``gids``): BM25
        itself where the count is stored or counted, the whole-word bonus where it may apply."""
        if self._scores is not None:
            return self._scores[idx]
        out = np.empty(len(idx))
        for part, local, where in self._split(idx):
            if part.tf is None:
                bound = self._bm25(part, local, self._counts(part, local))
            else:
                tf = part.tf[local]
                bound = np.empty(len(local))
                counted = tf >= 0
                bound[counted] = self._bm25(part, local[counted], tf[counted])
                if not counted.all():  # no more often than the rarest bigram, a count stored capped at 255
                    rest = local[~counted]
                    stored = part.segment.bigram_tf.at(part.positions[rest].astype(np.uint32))
                    most = self.idf * (BM25_K1 + 1)
                    bound[~counted] = np.where(stored >= 255, most, self._bm25(part, rest, stored)) * (1 + MARGIN)
            out[where] = bound + self._bonus(part, local)
        return out

    def _bonus(self, part: _Part, local: np.ndarray) -> np.ndarray | float:
        if not self._words:
            return 0.0
        if part.whole is not None:
            return WHOLE_WORD_BONUS * part.whole[local]
        return WHOLE_WORD_BONUS if part.may_be_whole else 0.0

    def block_bounds(self) -> Blocks | None:
        """For a key listed in some segment, per block of its lists an upper bound of its matches'
        scores, where they are among ``gids``, and the exact best score of those whose postings are
        alike; in a segment where it is not listed (rare there), per run of matches the best of
        their bounds. None for other units."""
        if self._scores is not None or all(part.tf is not None for part in self._parts):
            return None
        bounds, starts, ends, maxima = [], [], [], []
        for part in self._parts:
            if part.tf is not None:  # its matches found from the bigrams': bounds of each, a block of them at a time
                begin = np.arange(0, part.count, BLOCK)
                bounds.append(np.maximum.reduceat(self.bounds(np.arange(part.count) + part.start), begin))
                starts.append(begin + part.start)
                ends.append(np.minimum(begin + BLOCK, part.count) + part.start)
                maxima.append(np.full(len(begin), np.inf))
                continue
            first = part.lo if part.positions is None else int(part.positions[0])
            last = part.lo + part.count if part.positions is None else int(part.positions[-1]) + 1
            blocks = np.arange(first // BLOCK, (last - 1) // BLOCK + 1)
            stored = part.segment.streams[part.stream][2]
            least, tf_range = stored.least[blocks], stored.tf[2 * blocks[0]: 2 * blocks[-1] + 2]  # consecutive blocks
            bound = score_bounds(least, self.idf, self.mean, part.segment.block_mean, tf_range)
            best = alike_maxima(least, tf_range, part.segment.block_mean, self.idf, self.mean)
            if part.whole is not None:  # only the blocks holding a whole-word match get the bonus
                holding = np.unique(part.positions_at(np.flatnonzero(part.whole)) // BLOCK) - blocks[0]
                bound[holding] += WHOLE_WORD_BONUS
                best[holding] += WHOLE_WORD_BONUS
            elif self._words and part.may_be_whole:
                bound += WHOLE_WORD_BONUS
                best += WHOLE_WORD_BONUS
            edges = np.maximum(blocks * BLOCK, first)
            if part.positions is None:
                begin = edges - part.lo
                end = np.minimum((blocks + 1) * BLOCK, last) - part.lo
            else:
                begin = np.searchsorted(part.positions, edges)
                end = np.append(begin[1:], part.count)
            bounds.append(bound)
            starts.append(begin + part.start)
            ends.append(end + part.start)
            maxima.append(best)
        if not bounds:
            return Blocks(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        return Blocks(*map(np.concatenate, (bounds, starts, ends, maxima)))


def _deleted_in(grams, base: int, count: int) -> np.ndarray | None:
    """The deleted paragraphs of the segment of ``count`` paragraphs from ``base`` (its ids, sorted),
    None when there are none."""
    if not grams.has_deletions:
        return None
    lo, hi = np.searchsorted(grams.deleted, [base, base + count]).tolist()
    return (grams.deleted[lo:hi] - np.uint32(base)) if hi > lo else None


def _lookup(segment: GramIndex, key: str, words: list[str], deleted: np.ndarray | None) -> _Part | None:
    """The unit's matches in one segment (``deleted``: its deleted paragraphs, None when none are)."""
    vocabulary = [segment.words.find(word) for word in words]
    may_be_whole = bool(words) and min(vocabulary) >= 0
    own = vocabulary[0] if words == [key] and may_be_whole else -1  # the key is itself a word here
    listed = segment.key_list(key)
    if listed is not None:
        stream, lo, hi = listed
        if hi == lo:
            return None
        lists, _, _ = segment.streams[stream]
        part = _Part(segment, 0, 0, None, hi - lo, stream, lo, hi, may_be_whole=may_be_whole)
        if deleted is not None:  # the list's positions but those of deleted paragraphs, not decoding it
            dead = lists.where(lo, hi, deleted, segment.count)
            dead = dead[dead >= 0]
            if len(dead) == hi - lo:
                return None
            if len(dead):
                part.positions = np.delete(np.arange(lo, hi), dead - lo)
                part.count = len(part.positions)
        if own >= 0 and segment.word_lists.length(own) * 8 <= hi - lo:
            # the key is a word in few of its paragraphs: those are known, the rest are not whole
            at = lists.where(lo, hi, segment.word_lists[own], segment.count)
            at = at[at >= 0]
            part.whole = np.zeros(hi - lo, dtype=bool)
            part.whole[at - lo] = True
            if part.positions is not None:
                part.whole = part.whole[part.positions - lo]
        return part
    ranges = segment.bigram_ranges(key)
    if ranges[0][0] == ranges[0][1]:
        return None
    candidates, at = segment.bigram_candidates(key, ranges, every=True)
    # where the counts tell that the key occurs (or it is a word there, so it occurs), it is
    # counted only when asked (-1); elsewhere the skeletons are read
    tf = segment.occurrences(key, candidates)
    whole = None
    if own >= 0:
        whole = np.zeros(len(candidates), dtype=bool)
        found = locate(candidates, segment.word_lists[own], segment.count)
        whole[found[found >= 0]] = True
        tf[(tf == 0) & whole] = -1
    todo = np.flatnonzero(tf == 0)
    tf[todo] = segment.skeletons.count_in(candidates[todo], key)
    keep = tf != 0
    # an uncounted match is bounded by its count of the key's rarest bigram (its position there)
    part = _Part(segment, 0, 0, candidates[keep], int(keep.sum()), "bigram", positions=(at + ranges[0][0])[keep], tf=tf[keep],
                 whole=None if whole is None else whole[keep], may_be_whole=may_be_whole)
    return _live_only(part, deleted)


def _live_only(part: _Part, deleted: np.ndarray | None) -> _Part:
    if deleted is None or not part.count:
        return part
    dead = locate(part.gids, deleted, part.segment.count)  # deletions are few: each looked up among the matches
    dead = dead[dead >= 0]
    if len(dead):
        part.count -= len(dead)
        for name in ("gids", "positions", "tf", "whole"):
            if getattr(part, name) is not None:
                setattr(part, name, np.delete(getattr(part, name), dead))
    return part
