"""The match index: every paragraph's skeleton, bigram → paragraphs, and jieba word → paragraphs.

Exact substring matching — "if Ctrl+F finds it, search finds it" — and the whole-word test that
ranks whole words first are answered here, with numpy arrays memory-mapped from the build folder:
opening a build decodes nothing and allocates nothing that grows with it, and every worker reads
the same pages of the page cache (Whoosh keeps the stored paragraphs):

* ``units`` — all skeletons as UTF-16 code units, a 0 after each paragraph (0 never occurs in
  a skeleton: control characters are dropped by normalisation): in a build, the Whoosh index's
  skeleton column (:class:`search.segment.columns.SkeletonColumn`), mapped, so the text is held once;
  a match index built on its own writes ``units.npy``;
* ``bounds`` — where each paragraph starts in ``units`` (paragraph ids are ``gid`` 0…N-1), and
  one more entry, the number of units: paragraph ``gid`` is ``units[bounds[gid]:bounds[gid + 1] - 1]``
  (its length counts for BM25). In a build, the skeleton column's own starts; on its own,
  ``bounds.npy``;
* ``bigram_keys.npy`` / ``bigram_offsets.npy`` / ``bigram_{low,high_at,high}.npy`` /
  ``bigram_tf_*.npy`` — for each distinct bigram of code units, the sorted paragraph ids that
  contain it (:mod:`search.match.postings`) and how often (the counts other than 1 only);
* ``titles.txt`` / ``title_starts.npy`` / ``article_starts.npy`` — each article's title skeleton
  (UTF-8, one a line), where it starts in the file, and the article's first paragraph id (an
  article's paragraphs have consecutive ids), for ``title:`` queries;
* ``words.txt`` / ``word_starts.npy`` / ``word_offsets.npy`` / ``word_{low,high_at,high}.npy``
  — the sorted vocabulary of jieba words (with dictionary sub-words; UTF-8, one a line, where each
  starts) and, per word, the sorted paragraph ids where it is a word. In a build the same list
  is Whoosh's ``words`` lexicon, and ``pinyin_{keys,words}.npy`` beside it say how each word sounds
  (:class:`search.formats.pinyin_index.PinyinIndex`, for did-you-mean).

A key of one code unit is found by scanning ``units``; a key of two is one posting list; a longer
key intersects the posting lists of its bigrams and then checks each candidate paragraph's
skeleton, so the answer is exact. Counting in code units keeps astral characters (two units)
correct without special cases.

:class:`~search.match.builder.GramIndexBuilder` writes all of this block by block, spilling and
merging the posting lists through :mod:`search.match.postings`, so building takes the same memory
at any corpus size. :mod:`search.match.skeletons` reads the skeletons and the sorted word lines.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..formats.arrays import mapped
from .postings import PostingLists, SparseCountsReader, contained
from .skeletons import MappedLines, Skeletons, mapped_words

# this few paragraphs are handled one by one in Python, not by numpy (about a microsecond a call):
# a key's candidates are checked against the key itself rather than intersected with more
# bigram lists, their BM25 computed a paragraph at a time
_FEW_CANDIDATES = 8
_FILES = ("bigram_keys", "article_starts", "title_starts")
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass
class Matches:
    """Paragraph ids (sorted, unique) with the key's frequency in each."""

    gids: np.ndarray
    tf: np.ndarray


def _runs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_counts=True)`` for sorted ``ids``, without sorting them again (a
    common character's ~400,000 occurrences in 30 M characters: 10 → 6 ms)."""
    if not len(ids):
        return ids, np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate(([0], starts))
    return ids[starts], np.diff(np.append(starts, len(ids)))


class GramIndex:
    """Exact substring lookup and BM25 scoring over one build's paragraphs, mapped from ``folder``:
    opening it reads no array and allocates nothing that grows with the index. ``units`` and
    ``bounds``: the skeletons when ``folder`` does not hold them (a build's Whoosh skeleton column,
    :func:`search.segment.columns.skeleton_arrays`)."""

    def __init__(self, folder: Path, units: np.ndarray | None = None, bounds: np.ndarray | None = None):
        folder = Path(folder)
        arrays = {name: mapped(folder / f"{name}.npy") for name in _FILES}
        self.units = mapped(folder / "units.npy") if units is None else units
        self.bounds = mapped(folder / "bounds.npy") if bounds is None else bounds
        self.starts = self.bounds[:-1]
        self._bounds = memoryview(self.bounds)
        self.skeletons = Skeletons(self.units, self.bounds)
        self.bigram_keys = arrays["bigram_keys"]
        self._bigram_keys = memoryview(self.bigram_keys)  # bisected as Python ints, no numpy call
        self.bigrams = PostingLists(folder, "bigram")
        self._bigram_offsets = memoryview(self.bigrams.offsets)
        self.bigram_tf = SparseCountsReader(folder, "bigram_tf")
        self.article_starts = arrays["article_starts"]
        self.titles = MappedLines(folder / "titles.txt", arrays["title_starts"])
        self.words = mapped_words(folder)
        self.word_lists = PostingLists(folder, "word")
        if (len(self.bigrams) != len(self.bigram_keys) or not len(self.bounds)
                or len(self.units) != int(self.bounds[-1])
                or len(self.word_lists) != len(self.words) or len(self.titles) != len(self.article_starts)):
            raise ValueError(f"{folder}: the match index files do not agree")
        # every paragraph is its units plus one separator
        self.avg_length = (len(self.units) - self.count) / self.count if self.count else 1.0

    @property
    def article_ends(self) -> np.ndarray:
        """One past each article's last paragraph id."""
        return np.append(self.article_starts[1:], len(self.starts))

    @property
    def count(self) -> int:
        """Number of paragraphs."""
        return len(self.starts)

    def _bigram_range(self, code: int) -> tuple[int, int]:
        """Where the posting list of bigram ``code`` lies in the bigram stream (empty when absent)."""
        keys = self._bigram_keys
        i = bisect.bisect_left(keys, code)
        if i == len(keys) or keys[i] != code:
            return 0, 0
        return self._bigram_offsets[i], self._bigram_offsets[i + 1]

    def find(self, key: str) -> Matches:
        """Every paragraph whose skeleton contains ``key``, with occurrence counts."""
        encoded = key.encode("utf-16-le")
        if len(encoded) == 2:
            units = np.frombuffer(encoded, dtype=np.uint16)
            positions = np.flatnonzero(self.units == units[0])
            gids, tf = _runs(np.searchsorted(self.starts, positions, side="right") - 1)
            return Matches(gids.astype(np.uint32), tf)
        units = memoryview(encoded).cast("H")  # Python ints, no numpy call per unit
        ranges = sorted({self._bigram_range(a << 16 | b) for a, b in zip(units[:-1], units[1:])},
                        key=lambda r: r[1] - r[0])
        lo, hi = ranges[0]
        candidates = self.bigrams.span(lo, hi)
        if len(units) == 2:  # one bigram: its list and stored counts are the answer
            return Matches(candidates, self.bigram_tf.read(lo, hi))
        # a longer key: the paragraphs holding all its bigrams (shortest list first), then each
        # candidate's skeleton counts the key itself; the bigrams' own counts are not needed. Once
        # a few candidates are left, decoding them costs less than intersecting another list.
        for lo, hi in ranges[1:]:
            if len(candidates) <= _FEW_CANDIDATES:
                break
            candidates = candidates[contained(candidates, self.bigrams.span(lo, hi))]
        counts = self.skeletons.count_in(candidates, key)
        found = counts > 0
        return Matches(candidates[found], counts[found])

    def have_words(self, gids: np.ndarray, words: list[str]) -> np.ndarray:
        """For each of the paragraphs ``gids`` (sorted), whether every one of ``words`` is among its
        words: the shortest list first, each looked up only for the paragraphs still in question."""
        lists = [self.words.find(word) for word in words]
        if not words or min(lists) < 0:
            return np.zeros(len(gids), dtype=bool)
        shortest, *rest = sorted(lists, key=self.word_lists.length)
        found = self.word_lists.contains(shortest, gids)
        for i in rest:
            still = np.flatnonzero(found)
            if not len(still):
                break
            found[still] = self.word_lists.contains(i, gids[still])
        return found

    def find_in_titles(self, key: str) -> np.ndarray:
        """Paragraph ids (sorted) of every article whose title skeleton contains ``key``."""
        hits = []
        text, needle = self.titles.data, key.encode("utf-8")
        at = text.find(needle) if needle else -1
        while at != -1:
            hits.append(at)
            at = text.find(needle, at + 1)
        if not hits:
            return np.empty(0, dtype=np.uint32)
        articles = np.unique(np.searchsorted(self.titles.starts, hits, side="right") - 1)
        return np.concatenate([np.arange(gids.start, gids.stop, dtype=np.uint32)
                               for gids in map(self.article_gids, articles.tolist())])

    def article_gids(self, position: int) -> range:
        """The paragraph ids of the ``position``-th article."""
        end = int(self.article_starts[position + 1]) if position + 1 < len(self.article_starts) else self.count
        return range(int(self.article_starts[position]), end)

    def bm25(self, matches: Matches, df: int | None = None, count: int | None = None,
             avg_length: float | None = None) -> np.ndarray:
        """BM25 of a key in each matching paragraph: by default with the key's document frequency
        here as its idf and this index's paragraphs as the collection; an index that is one segment
        of several passes the whole collection's ``df``, ``count`` and ``avg_length``."""
        df = len(matches.gids) if df is None else df
        count = self.count if count is None else count
        avg_length = self.avg_length if avg_length is None else avg_length
        if not len(matches.gids):
            return np.empty(0)
        idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
        if len(matches.gids) <= _FEW_CANDIDATES:  # the same operations in the same order: the same floats
            bounds, scores = self._bounds, []
            for gid, tf in zip(matches.gids.tolist(), matches.tf.tolist()):
                norm = BM25_K1 * (1 - BM25_B + BM25_B * (bounds[gid + 1] - bounds[gid] - 1) / avg_length)
                scores.append(idf * tf * (BM25_K1 + 1) / (tf + norm))
            return np.array(scores)
        tf = matches.tf.astype(np.float64)
        lengths = self.bounds[matches.gids + 1] - self.bounds[matches.gids] - 1
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg_length)
        return idf * tf * (BM25_K1 + 1) / (tf + norm)

    @property
    def total_length(self) -> int:
        """The paragraphs' lengths added up (code units of their skeletons)."""
        return len(self.units) - self.count
