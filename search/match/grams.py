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
* ``unigram_*.npy`` — the same for each code unit, with its exact counts;
* ``{bigram,unigram}_blocks.npy`` / ``*_block_tf.npy`` / ``block_mean.npy`` — an upper bound of BM25 per
  block of 64 postings of each stream (:mod:`search.match.blockmax`), for ranking a page without
  scoring every match;
* ``frequent_*.npy`` — in a build, the same for each frequent word of three code units or more
  (:mod:`search.match.frequent_words`);
* ``titles.txt`` / ``title_starts.npy`` / ``article_starts.npy`` — each article's title skeleton
  (UTF-8, one a line), where it starts in the file, and the article's first paragraph id (an
  article's paragraphs have consecutive ids), for ``title:`` queries;
* ``words.txt`` / ``word_starts.npy`` / ``word_offsets.npy`` / ``word_{low,high_at,high}.npy``
  — the sorted vocabulary of jieba words (with dictionary sub-words; UTF-8, one a line, where each
  starts) and, per word, the sorted paragraph ids where it is a word. In a build the same list
  is Whoosh's ``words`` lexicon, and ``pinyin_{keys,words}.npy`` beside it say how each word sounds
  (:class:`search.formats.pinyin_index.PinyinIndex`, for did-you-mean).

A key of one code unit is one unigram list; a key of two is one bigram list; a frequent longer
word is one list of its own; any other longer key intersects the posting lists of its bigrams and
then checks each candidate paragraph's skeleton, so the answer is exact. Counting in code units
keeps astral characters (two units) correct without special cases.

:class:`~search.match.builder.GramIndexBuilder` writes all of this block by block, spilling and
merging the posting lists through :mod:`search.match.postings`, so building takes the same memory
at any corpus size. :mod:`search.match.skeletons` reads the skeletons and the sorted word lines.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..formats.arrays import mapped
from . import blockmax
from .blockmax import MEAN
from .frequent_words import NAME as FREQUENT
from .postings import PostingLists, SparseCountsReader
from .skeletons import MappedLines, Skeletons, mapped_words

# this few paragraphs are handled one by one in Python, not by numpy (about a microsecond a call):
# a key's candidates are checked against the key itself rather than intersected with more
# bigram lists, their BM25 computed a paragraph at a time
_FEW_CANDIDATES = 8
_FILES = ("bigram_keys", "unigram_keys", "article_starts", "title_starts", "bigram_blocks", "unigram_blocks",
          "bigram_block_tf", "unigram_block_tf")
STREAMS = ("unigram", "bigram")  # the posting streams of keys of one and two code units


def _range(keys: memoryview, offsets: memoryview, code: int) -> tuple[int, int]:
    """Where the posting list of key ``code`` lies in its stream (empty when absent)."""
    i = bisect.bisect_left(keys, code)
    if i == len(keys) or keys[i] != code:
        return 0, 0
    return offsets[i], offsets[i + 1]


@dataclass
class Matches:
    """Paragraph ids (sorted, unique) with the key's frequency in each."""

    gids: np.ndarray
    tf: np.ndarray


class BlockBounds(NamedTuple):
    """What bounds BM25 per block of a stream (:mod:`.blockmax`): the least ``h`` at the segment's
    own mean length, and the least and most ``tf`` (two per block)."""

    least: np.ndarray
    tf: np.ndarray


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
        self.unigram_keys = arrays["unigram_keys"]
        self._unigram_keys = memoryview(self.unigram_keys)
        self.unigrams = PostingLists(folder, "unigram")
        self._unigram_offsets = memoryview(self.unigrams.offsets)
        self.unigram_tf = SparseCountsReader(folder, "unigram_tf")
        # per stream: its lists, their counts, the bounds of its blocks; the mean length they were worked out at
        self.streams = {"unigram": (self.unigrams, self.unigram_tf,
                                    BlockBounds(arrays["unigram_blocks"], arrays["unigram_block_tf"])),
                        "bigram": (self.bigrams, self.bigram_tf,
                                   BlockBounds(arrays["bigram_blocks"], arrays["bigram_block_tf"]))}
        # the frequent longer words' lists (:mod:`.frequent_words`; a match index built on its own has none)
        self.frequent_words = np.zeros(0, dtype=np.uint32)
        if (folder / f"{FREQUENT}_words.npy").exists():
            self.frequent_words = mapped(folder / f"{FREQUENT}_words.npy")
            self.streams[FREQUENT] = (PostingLists(folder, FREQUENT), SparseCountsReader(folder, f"{FREQUENT}_tf"),
                                      BlockBounds(mapped(folder / f"{FREQUENT}_blocks.npy"),
                                                  mapped(folder / f"{FREQUENT}_block_tf.npy")))
            if len(self.streams[FREQUENT][0]) != len(self.frequent_words):
                raise ValueError(f"{folder}: the frequent words' files do not agree")
        self._frequent_words = memoryview(self.frequent_words)
        self.block_mean = float(np.load(folder / MEAN)[0])
        self.article_starts = arrays["article_starts"]
        self.titles = MappedLines(folder / "titles.txt", arrays["title_starts"])
        self.words = mapped_words(folder)
        self.word_lists = PostingLists(folder, "word")
        if (len(self.bigrams) != len(self.bigram_keys) or len(self.unigrams) != len(self.unigram_keys)
                or not len(self.bounds)
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
        return _range(self._bigram_keys, self._bigram_offsets, code)

    def key_list(self, key: str) -> tuple[str, int, int] | None:
        """For a key of one or two code units, or a frequent longer word (:mod:`.frequent_words`),
        the stream holding its posting list and where the list lies in it (empty when no
        paragraph holds the key); None for another longer key."""
        units = memoryview(key.encode("utf-16-le")).cast("H")
        if len(units) == 1:
            return ("unigram", *_range(self._unigram_keys, self._unigram_offsets, units[0]))
        if len(units) == 2:
            return ("bigram", *self._bigram_range(units[0] << 16 | units[1]))
        if len(self._frequent_words):
            word = self.words.find(key)
            i = bisect.bisect_left(self._frequent_words, word) if word >= 0 else len(self._frequent_words)
            if i < len(self._frequent_words) and self._frequent_words[i] == word:
                lists = self.streams[FREQUENT][0]
                return FREQUENT, lists._offsets[i], lists._offsets[i + 1]
        return None

    def bigram_ranges(self, key: str) -> list[tuple[int, int]]:
        """Where the posting lists of the distinct bigrams of ``key`` lie, shortest first."""
        units = memoryview(key.encode("utf-16-le")).cast("H")  # Python ints, no numpy call per unit
        return sorted({self._bigram_range(a << 16 | b) for a, b in zip(units[:-1], units[1:])},
                      key=lambda r: r[1] - r[0])

    def find(self, key: str) -> Matches:
        """Every paragraph whose skeleton contains ``key``, with occurrence counts."""
        listed = self.key_list(key)
        if listed is not None:  # one posting list and its stored counts are the answer
            lists, counts, _ = self.streams[listed[0]]
            return Matches(lists.span(*listed[1:]), counts.read(*listed[1:]))
        return self.verified(self.bigram_candidates(key)[0], key)

    def bigram_candidates(self, key: str, ranges: list[tuple[int, int]] | None = None,
                          every: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The paragraphs (sorted) that may hold ``key`` (of three code units or more): those holding
        its bigrams, the shortest list first, and where each is in that list. Once a few candidates
        are left, decoding them costs less than intersecting another list; with ``every``, they
        hold every bigram of the key."""
        ranges = ranges or self.bigram_ranges(key)
        lo, hi = ranges[0]
        candidates, at = self.bigrams.span(lo, hi), np.arange(hi - lo)
        for lo, hi in ranges[1:]:
            if len(candidates) <= _FEW_CANDIDATES and not every:
                break
            keep = self.bigrams.where(lo, hi, candidates, self.count) >= 0
            candidates, at = candidates[keep], at[keep]
        return candidates, at

    def verified(self, candidates: np.ndarray, key: str) -> Matches:
        """Those of ``candidates`` whose skeleton holds ``key``, with its counts there."""
        counts = self.skeletons.count_in(candidates, key)
        found = counts > 0
        return Matches(candidates[found], counts[found])

    def occurrences(self, key: str, candidates: np.ndarray) -> np.ndarray:
        """What the stored counts tell of ``key`` (three code units or more) in each of
        ``candidates`` (sorted, each holding every bigram of the key), without reading a skeleton:
        1 where it occurs once, -1 where it occurs an unknown number of times, 0 where it is not known.

        Where each inner code unit of the key occurs once, the key occurs, once: that unit's only
        occurrence is preceded and followed by the key's next units, and so on outwards. A key of
        three units ``abc`` also occurs where ``ab`` and ``bc`` together occur more often than
        ``b``: some ``b`` is then the end of one and the start of the other."""
        units = memoryview(key.encode("utf-16-le")).cast("H")
        found = np.ones(len(candidates), dtype=np.int64)
        inner = None
        for code in dict.fromkeys(units[1:-1]):
            still = np.flatnonzero(found == 1)
            inner = self._counts_in("unigram", code, candidates[still])
            found[still[inner != 1]] = 0
        if len(units) == 3:
            open_ = np.flatnonzero(found == 0)
            if len(open_):
                ab = self._counts_in("bigram", units[0] << 16 | units[1], candidates[open_])
                bc = self._counts_in("bigram", units[1] << 16 | units[2], candidates[open_])
                inner = self._counts_in("unigram", units[1], candidates[open_])
                found[open_[ab.astype(np.int64) + bc > inner]] = -1
        return found

    def _counts_in(self, stream: str, code: int, gids: np.ndarray) -> np.ndarray:
        """The stored counts of key ``code`` of ``stream`` in each of the paragraphs ``gids`` (sorted; 0 where absent)."""
        lists, counts, _ = self.streams[stream]
        keys, offsets = ((self._unigram_keys, self._unigram_offsets) if stream == "unigram"
                         else (self._bigram_keys, self._bigram_offsets))
        lo, hi = _range(keys, offsets, code)
        at = lists.where(lo, hi, gids, self.count)
        found = np.zeros(len(gids), dtype=np.int64)
        found[at >= 0] = counts.at(at[at >= 0].astype(np.uint32))
        return found

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
        idf = blockmax.idf(df, count)
        if len(matches.gids) <= _FEW_CANDIDATES:  # Python numbers, the same operations: the same floats
            bounds = self._bounds
            return np.array([blockmax.bm25(tf, bounds[gid + 1] - bounds[gid] - 1, idf, avg_length)
                             for gid, tf in zip(matches.gids.tolist(), matches.tf.tolist())])
        lengths = self.bounds[matches.gids + 1] - self.bounds[matches.gids] - 1
        return blockmax.bm25(matches.tf.astype(np.float64), lengths, idf, avg_length)

    @property
    def total_length(self) -> int:
        """The paragraphs' lengths added up (code units of their skeletons)."""
        return len(self.units) - self.count
