"""Keyword in context: one line per occurrence of a term, phrase, pattern or NEAR side of a query
in its matching paragraphs — what a hit marks, each start position apart (哈哈 twice in 哈哈哈) —
with up to ``width`` original characters on each side.

Occurrences are found in the paragraphs' skeletons and mapped back to the original text. Lines
are ordered by the search's order of their paragraphs (``relevance``, ``newest``, ``oldest``) and
then by place, or by their context: ``left`` read outwards from the match (nearest character
first), ``right`` read on, both by code point of the normalised text, ties in the search's order.
The total is exact; for the search's orders it comes from the match index's counts where it can,
and only the paragraphs a page shows are read.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from typing import Iterator

import numpy as np

from ..paragraphs.metadata import DATE_KEY
from ..text.normalize import fold
from .evaluate import result_order
from .highlight import occurrences_of
from .live import LiveBuild
from .operators import skeleton_texts

SORTS = ("relevance", "left", "right", "newest", "oldest")
MAX_WIDTH = 100
MAX_SIZE = 200
CSV_COLUMNS = ("article_id", "article_title", "paragraph", "date", "left", "match", "right")
_BATCH = 4096

Spans = list[tuple[int, int]]


def _self_overlapping(key: str) -> bool:
    return any(key[:i] == key[-i:] for i in range(1, len(key)))


def spans_in(skeleton: str, markers) -> Spans:
    """The distinct occurrences of ``markers`` in ``skeleton``, by start and end."""
    return sorted({span for marker in markers for span in occurrences_of(skeleton, marker)})


class Concordance:
    """The lines of one query: ``markers`` are what its hits mark, ``gids``/``scores`` its result."""

    def __init__(self, live: LiveBuild, markers, gids: np.ndarray, scores: np.ndarray, width: int, sort: str,
                 counts: np.ndarray | None = None):
        """``counts``: the matches of the one marker in each paragraph, when the caller has them
        from the match index (the number of lines, unless the marker is a key that can overlap
        itself: the index counts as ``str.count`` does)."""
        self.live, self.markers, self.gids, self.scores = live, tuple(markers), gids, scores
        self.width, self.sort = width, sort
        known = counts is not None and len(self.markers) == 1 and not (
            isinstance(self.markers[0], str) and _self_overlapping(self.markers[0]))
        self._counts: np.ndarray | None = np.asarray(counts, dtype=np.int64) if known else None
        self._last: tuple = (None, None, None)  # (position, its line's fields, its fold): lines come in runs

    # -- counting ------------------------------------------------------------------------------

    def counts(self) -> np.ndarray:
        """Occurrences in each matching paragraph (in the order of ``gids``)."""
        if self._counts is None:
            self._counts = self._count()
        return self._counts

    def _count(self) -> np.ndarray:
        grams, gids = self.live.grams, self.gids
        counts = np.zeros(len(gids), dtype=np.int64)
        if not all(isinstance(m, str) for m in self.markers):
            # a pattern or a NEAR: its spans may coincide with a term's, so every paragraph's
            # spans are gathered and told apart
            for first in range(0, len(gids), _BATCH):
                texts = skeleton_texts(grams, gids[first:first + _BATCH])
                counts[first:first + len(texts)] = [len(spans_in(text, self.markers)) for text in texts]
            return counts
        for key in self.markers:  # distinct keys: their spans differ
            found = grams.find(key)
            at = np.searchsorted(found.gids, gids)
            has = at < len(found.gids)
            has[has] = found.gids[at[has]] == gids[has]
            if _self_overlapping(key):  # the index counts as str.count does: not overlapping
                within = gids[has]
                texts = skeleton_texts(grams, within)
                counts[has] += np.array([len(occurrences_of(text, key)) for text in texts], dtype=np.int64)
            else:
                counts[has] += found.tf[at[has]]
        return counts

    @property
    def total(self) -> int:
        return int(self.counts().sum())

    # -- lines ----------------------------------------------------------------------------------

    def page(self, page: int, size: int) -> list[dict]:
        """The lines of one page (1-based) of ``size`` lines."""
        offset = (page - 1) * size
        if self.sort in ("left", "right"):
            return [self._line(*place[2:]) for place in heapq.nsmallest(offset + size, self._keyed())[offset:]]
        order = result_order(self.live, self.gids, self.scores, self.sort, offset + size)
        ends = np.cumsum(self.counts()[order])
        first = int(np.searchsorted(ends, offset, side="right"))
        lines: list[dict] = []
        skip = offset - (int(ends[first - 1]) if first else 0)
        for position in order[first:].tolist():
            for start, end in self._spans(position)[skip:]:
                lines.append(self._line(position, start, end))
                if len(lines) == size:
                    return lines
            skip = 0
        return lines

    def lines(self) -> Iterator[dict]:
        """Every line, in order."""
        if self.sort in ("left", "right"):
            yield from (self._line(*place[2:]) for place in sorted(self._keyed()))
            return
        for position in result_order(self.live, self.gids, self.scores, self.sort).tolist():
            for start, end in self._spans(position):
                yield self._line(position, start, end)

    def _spans(self, position: int) -> Spans:
        return spans_in(self.live.grams.skeletons[int(self.gids[position])], self.markers)

    def _keyed(self) -> Iterator[tuple]:
        """(context key, rank in the search's order, position, start, end) of every line."""
        live, width, left = self.live, self.width, self.sort == "left"
        order = result_order(live, self.gids, self.scores, "relevance")
        for first in range(0, len(order), _BATCH):
            positions = order[first:first + _BATCH]
            texts = skeleton_texts(live.grams, self.gids[positions])
            for rank, position, skeleton in zip(range(first, first + len(texts)), positions.tolist(), texts):
                gid = int(self.gids[position])
                folded = None if live.in_place[gid] else fold(live.text(gid))
                for start, end in spans_in(skeleton, self.markers):
                    if folded is None:  # the skeleton's characters are the text's, at the same places
                        key = skeleton[max(0, start - width):start][::-1] if left else skeleton[end:end + width]
                    else:
                        key = _context_key(folded, start, end, width, left)
                    yield key, rank, position, start, end

    def _line(self, position: int, start: int, end: int) -> dict:
        """The line of the occurrence ``[start, end)`` of the skeleton of ``gids[position]``."""
        live = self.live
        last, fields, folded = self._last
        if last != position:  # the paragraph read once for its run of lines
            gid = int(self.gids[position])
            paragraph = live.paragraph(gid)
            date = live.metadata.of_article(live.article_of[gid]).get(DATE_KEY)
            fields = {"article_id": paragraph["article_id"], "article_title": paragraph["article_title"],
                      "paragraph": paragraph["n"], "date": None if date is None else str(date), "text": paragraph["text"]}
            folded = None if live.in_place[gid] else fold(paragraph["text"])
            self._last = (position, fields, folded)
        left, match, right = cut(fields["text"], start, end, self.width, folded)
        line = {key: value for key, value in fields.items() if key != "text"}
        line.update(left=left, match=match, right=right)
        return line


def cut(text: str, start: int, end: int, width: int, folded=None) -> tuple[str, str, str]:
    """The original characters of the skeleton span ``[start, end)`` of ``text`` and up to
    ``width`` original characters on each side. ``folded``: ``fold(text)``, or None when the text
    folds in place (its skeleton's places are its own)."""
    if folded is not None:
        start, end = folded.original_span(start, end)
    return text[max(0, start - width):start], text[start:end], text[end:end + width]


def _context_key(folded, start: int, end: int, width: int, left: bool) -> str:
    """The normalised characters of the left (read outwards) or right context of a skeleton span,
    for a text that does not fold in place: those from the ``width`` original characters beside it."""
    if left:
        first = bisect_left(folded.starts, folded.starts[start] - width, 0, start)
        return folded.skeleton[first:start][::-1]
    last = bisect_right(folded.ends, folded.ends[end - 1] + width, end)
    return folded.skeleton[end:last]


def csv_row(line: dict) -> list:
    return [line[column] if line[column] is not None else "" for column in CSV_COLUMNS]
