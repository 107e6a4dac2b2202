"""The match index of a whole generation: each segment's own, answered together.

Paragraph ids are the generation's (as Whoosh numbers documents across segments: each segment's
after the previous segment's, deleted ones included); only live paragraphs are ever returned, and
BM25 takes its statistics from the live paragraphs of all segments — the collection a whole build
of the same articles would have — so scores do not depend on how the articles are split among
segments. A generation of one segment without deletions is answered by that segment directly.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np

from ..match.grams import GramIndex, Matches

_FEW = 8  # this few ids are filtered or split one by one in Python rather than by numpy


class SegmentedIndex:
    """Exact substring lookup, whole-word tests and BM25 over the live paragraphs of ``segments``
    (their match indexes, in order); ``live``: per paragraph of the generation, 1 when live."""

    def __init__(self, segments: list[GramIndex], live: np.ndarray):
        self.segments = segments
        sizes = [segment.count for segment in segments]
        self.bases = np.cumsum([0] + sizes[:-1]).tolist()
        self.count = sum(sizes)  # paragraphs of the generation, deleted ones included
        self.live = live
        self._live = memoryview(live)
        self.has_deletions = not bool(np.asarray(live).all())
        # per segment: whether any of its paragraphs is deleted
        self._deleted_in = [self.has_deletions and not bool(np.asarray(live[base: base + size]).all())
                            for base, size in zip(self.bases, sizes)]
        self.live_count = int(np.count_nonzero(live)) if self.has_deletions else self.count
        self.deleted = np.flatnonzero(np.asarray(live) == 0).astype(np.uint32)  # sorted
        total = sum(segment.total_length for segment in segments)
        if self.has_deletions:
            for segment, base in zip(segments, self.bases):
                lengths = np.diff(segment.bounds.astype(np.int64)) - 1
                total -= int(lengths[np.asarray(live[base: base + segment.count]) == 0].sum())
        self.avg_length = total / self.live_count if self.live_count else 1.0
        self.single = segments[0] if len(segments) == 1 and not self.has_deletions else None
        starts = [segment.article_starts.astype(np.int64) + base for segment, base in zip(segments, self.bases)]
        self.article_starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        self._article_starts = memoryview(self.article_starts)
        self.skeletons = _Skeletons(segments, self.bases)
        self.titles = _Titles(segments)

    def live_gids(self) -> np.ndarray:
        """Every live paragraph's id."""
        if not self.has_deletions:
            return np.arange(self.count, dtype=np.uint32)
        return np.flatnonzero(self.live).astype(np.uint32)

    def find(self, key: str) -> Matches:
        """Every live paragraph whose skeleton contains ``key``, with occurrence counts."""
        if self.single is not None:
            return self.single.find(key)
        parts = []
        for n, (segment, base) in enumerate(zip(self.segments, self.bases)):
            found = segment.find(key)
            if len(found.gids):
                gids = found.gids.astype(np.uint32, copy=False)
                parts.append((n, Matches(gids + np.uint32(base) if base else gids, found.tf)))
        if not parts:
            return Matches(np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64))
        if len(parts) == 1:
            matches = parts[0][1]
        else:
            matches = Matches(np.concatenate([m.gids for _, m in parts]), np.concatenate([m.tf for _, m in parts]))
        if any(self._deleted_in[n] for n, _ in parts):
            matches = self._live_only(matches)
        return matches

    def find_in_titles(self, key: str) -> np.ndarray:
        """Ids of the live paragraphs of every article whose title skeleton contains ``key``."""
        if self.single is not None:
            return self.single.find_in_titles(key)
        gids = np.concatenate([segment.find_in_titles(key).astype(np.uint32) + np.uint32(base)
                               for segment, base in zip(self.segments, self.bases)])
        return self._live_only(Matches(gids, np.zeros(len(gids), dtype=np.int64))).gids

    def bm25(self, matches: Matches) -> np.ndarray:
        """BM25 of a key in each of its live matches, with the live collection's statistics."""
        if self.single is not None:
            return self.single.bm25(matches)
        df = len(matches.gids)
        parts = []
        for segment, local in self._split(matches.gids):
            parts.append(segment.bm25(Matches(local[0], matches.tf[local[1]]), df, self.live_count,
                                      self.avg_length))
        return np.concatenate(parts) if parts else np.empty(0)

    def have_words(self, gids: np.ndarray, words: list[str]) -> np.ndarray:
        """For each of the paragraphs ``gids`` (sorted), whether every one of ``words`` is among its words."""
        if self.single is not None:
            return self.single.have_words(gids, words)
        found = [segment.have_words(local[0], words) for segment, local in self._split(gids)]
        return np.concatenate(found) if found else np.zeros(0, dtype=bool)

    def article_gids(self, position: int) -> range:
        """The paragraph ids of the generation's ``position``-th article."""
        end = self._article_starts[position + 1] if position + 1 < len(self.article_starts) else self.count
        return range(self._article_starts[position], end)

    def _live_only(self, matches: Matches) -> Matches:
        """``matches`` without the deleted paragraphs: each deleted id looked up among the matches
        (deletions are few, merged away once a third of a segment), not each match in the mask."""
        if not self.has_deletions or not len(matches.gids):
            return matches
        if len(matches.gids) <= _FEW:
            keep = np.array([self._live[g] for g in matches.gids.tolist()], dtype=bool)
            return Matches(matches.gids[keep], matches.tf[keep])
        gids = matches.gids
        where = np.searchsorted(gids, self.deleted)
        found = where < len(gids)
        where = where[found]
        where = where[gids[where] == self.deleted[found]]
        if not len(where):
            return matches
        return Matches(np.delete(gids, where), np.delete(matches.tf, where))

    def _split(self, gids: np.ndarray):
        """Per segment holding some of ``gids`` (sorted): the segment, and (their ids in it, where
        they are in ``gids``)."""
        if not len(gids):
            return
        first = bisect.bisect_right(self.bases, int(gids[0])) - 1
        if int(gids[-1]) < (self.bases[first + 1] if first + 1 < len(self.bases) else self.count):
            base = self.bases[first]  # all in one segment: the common case
            yield self.segments[first], (gids - np.uint32(base) if base else gids, slice(0, len(gids)))
            return
        bounds = np.searchsorted(gids, np.array(self.bases[1:] + [self.count], dtype=np.int64))
        start = 0
        for segment, base, end in zip(self.segments, self.bases, bounds.tolist()):
            if end > start:
                yield segment, ((gids[start:end] - np.uint32(base)).astype(np.uint32), slice(start, end))
            start = end


class _Titles:
    """Each article's title skeleton by its position in the generation."""

    def __init__(self, segments: list[GramIndex]):
        self._segments = segments
        self._bases = np.cumsum([0] + [len(segment.article_starts) for segment in segments[:-1]]).tolist()

    def __getitem__(self, position: int) -> str:
        n = bisect.bisect_right(self._bases, position) - 1
        return self._segments[n].titles[position - self._bases[n]]


class _Skeletons:
    """Each paragraph's skeleton by its id in the generation (no reference back to the index: a
    generation swapped out is unmapped as soon as the last reference to it goes, with no cycle
    left for the collector)."""

    def __init__(self, segments: list[GramIndex], bases: list[int]):
        self._segments, self._bases = segments, bases

    def __getitem__(self, gid: int) -> str:
        n = bisect.bisect_right(self._bases, gid) - 1
        return self._segments[n].skeletons[gid - self._bases[n]]

    def many(self, gids: np.ndarray) -> list[str]:
        """The skeletons of the paragraphs ``gids`` (in any order), decoded together a segment at a time."""
        if not len(gids):
            return []
        segment_of = np.searchsorted(np.array(self._bases, dtype=np.int64), gids, side="right") - 1
        if segment_of[0] == segment_of[-1] and (segment_of == segment_of[0]).all():
            n = int(segment_of[0])
            return self._segments[n].skeletons.many((gids - np.uint32(self._bases[n])).astype(np.uint32))
        texts: list[str] = [""] * len(gids)
        for n in np.unique(segment_of).tolist():
            where = np.flatnonzero(segment_of == n)
            local = (gids[where] - np.uint32(self._bases[n])).astype(np.uint32)
            for i, text in zip(where.tolist(), self._segments[n].skeletons.many(local)):
                texts[i] = text
        return texts


def open_segments(folders: list[Path], arrays: list[tuple[np.ndarray, np.ndarray]], live: np.ndarray) -> SegmentedIndex:
    """The generation's match index from each segment's folder and skeleton arrays (units, bounds)."""
    return SegmentedIndex([GramIndex(folder, units, bounds) for folder, (units, bounds) in zip(folders, arrays)], live)
