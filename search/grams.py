"""The match index: every paragraph's skeleton, bigram → paragraphs, and jieba word → paragraphs.

Exact substring matching — "if Ctrl+F finds it, search finds it" — and the whole-word test that
ranks whole words first are answered here, with numpy arrays memory-mapped from the build folder:
opening a build decodes nothing and allocates nothing that grows with it, and every worker reads
the same pages of the page cache (Whoosh keeps the stored paragraphs):

* ``units`` — all skeletons as UTF-16 code units, a 0 after each paragraph (0 never occurs in
  a skeleton: control characters are dropped by normalisation): in a build, the Whoosh index's
  skeleton column (:class:`search.whoosh_columns.SkeletonColumn`), mapped, so the text is held once;
  a match index built on its own writes ``units.npy``;
* ``bounds`` — where each paragraph starts in ``units`` (paragraph ids are ``gid`` 0…N-1), and
  one more entry, the number of units: paragraph ``gid`` is ``units[bounds[gid]:bounds[gid + 1] - 1]``
  (its length counts for BM25). In a build, the skeleton column's own starts; on its own,
  ``bounds.npy``;
* ``bigram_keys.npy`` / ``bigram_offsets.npy`` / ``bigram_{low,high_at,high}.npy`` /
  ``bigram_tf_*.npy`` — for each distinct bigram of code units, the sorted paragraph ids that
  contain it (:mod:`search.postings`) and how often (the counts other than 1 only);
* ``titles.txt`` / ``title_starts.npy`` / ``article_starts.npy`` — each article's title skeleton
  (UTF-8, one a line), where it starts in the file, and the article's first paragraph id (an
  article's paragraphs have consecutive ids), for ``title:`` queries;
* ``words.txt`` / ``word_starts.npy`` / ``word_offsets.npy`` / ``word_{low,high_at,high}.npy``
  — the sorted vocabulary of jieba words (with dictionary sub-words; UTF-8, one a line, where each
  starts) and, per word, the sorted paragraph ids where it is a word. In a build the same list
  is Whoosh's ``words`` lexicon, and ``pinyin_{keys,words}.npy`` beside it say how each word sounds
  (:class:`search.suggest.PinyinIndex`, for did-you-mean).

A key of one code unit is found by scanning ``units``; a key of two is one posting list; a longer
key intersects the posting lists of its bigrams and then checks each candidate paragraph's
skeleton, so the answer is exact. Counting in code units keeps astral characters (two units)
correct without special cases.

:class:`GramIndexBuilder` writes all of this block by block, spilling and merging the posting
lists through :mod:`search.postings`, so building takes the same memory at any corpus size.
"""

from __future__ import annotations

import bisect
import heapq
import math
import mmap
import os
from array import array
from codecs import utf_16_le_decode
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .postings import (POSITION, DocIdsWriter, NpyAppender, PostingLists, PostingRuns, SparseCounts,
                       SparseCountsReader, contained, mapped)

SEPARATOR = 0
SEPARATOR_CHAR = chr(SEPARATOR)
_DECODE_AT_MOST = 32  # candidates verified by decoding their skeletons rather than in numpy
# this few paragraphs are handled one by one in Python, not by numpy (about a microsecond a call):
# a key's candidates are checked against the key itself rather than intersected with more
# bigram lists, their BM25 computed a paragraph at a time
_FEW_CANDIDATES = 8
_FILES = ("bigram_keys", "article_starts", "title_starts")
_MAX_POSITION = int(np.iinfo(POSITION).max)  # positions into units, titles.txt and words.txt are uint32
_VERIFY_BATCH = 4096  # candidate paragraphs gathered at a time
BM25_K1 = 1.2
BM25_B = 0.75


def _units(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)


class GramIndexBuilder:
    """Takes paragraphs in ``gid`` order (articles one after another) and writes the index into
    ``folder`` block by block, so memory stays bounded however large the corpus; call
    :meth:`finish` at the end. ``block_chars`` and ``merge_budget`` size the blocks and the merge
    ranges (:class:`search.postings.PostingRuns`)."""

    def __init__(self, folder: Path, *, block_chars: int = 1 << 20, merge_budget: int = 1 << 20,
                 write_units: bool = True):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0  # paragraphs added
        self._block_chars_limit = block_chars
        self._merge_budget = merge_budget
        # without units.npy the units come from elsewhere when the index is opened (a build: the
        # Whoosh skeleton column, search.whoosh_columns.SkeletonColumn, in this very layout)
        self._units = NpyAppender(self.folder / "units.npy", np.uint16) if write_units else None
        self._bounds = NpyAppender(self.folder / "bounds.npy", POSITION) if write_units else None
        self._unit_count = 0
        self._article_starts = NpyAppender(self.folder / "article_starts.npy", POSITION)
        self._titles = open(self.folder / "titles.txt", "wb")
        self._title_starts = NpyAppender(self.folder / "title_starts.npy", POSITION)
        self._bigrams = PostingRuns(self.folder, "bigram", counts=True)
        self._words = PostingRuns(self.folder, "word", counts=False)
        # each block's sorted vocabulary, one word a line, merged into words.txt at the end
        self._block_words = open(self.folder / "words.runs", "w+b")
        self._block_word_lists: list[tuple[int, int, int]] = []  # per block: offset, bytes, words
        self._vocabulary: dict[str, int] = {}  # this block's words
        self._block: list[str] = []  # skeletons not yet written
        self._block_chars = 0
        self._word_ids = array("I")
        self._word_gids = array("I")

    def start_article(self, title_skeleton: str) -> None:
        """The paragraphs added next belong to a new article with this title."""
        if self._article_starts.count:
            self._titles.write(b"\n")
        self._title_starts.append([self._titles.tell()])
        self._titles.write(title_skeleton.replace("\n", " ").encode("utf-8"))
        self._article_starts.append([self.count])

    def add_paragraph(self, skeleton_text: str, words: Iterable[str]) -> int:
        """Record a paragraph's skeleton and its distinct words; returns its ``gid``."""
        gid = self.count
        self.count += 1
        self._block.append(skeleton_text)
        self._block_chars += len(skeleton_text) + 1
        vocabulary = self._vocabulary
        for word in words:
            word_id = vocabulary.setdefault(word, len(vocabulary))
            self._word_ids.append(word_id)
            self._word_gids.append(gid)
        if self._block_chars >= self._block_chars_limit:
            self._write_block()
        return gid

    def _write_block(self) -> None:
        if not self._block:
            return
        first = self.count - len(self._block)
        units = _units("\x00".join(self._block) + "\x00")
        if self._unit_count + len(units) > _MAX_POSITION:
            raise ValueError(f"the match index holds at most {_MAX_POSITION:,} code units of text (uint32 "
                             "positions, like its posting lists); index the archive in parts")
        ends = np.flatnonzero(units == SEPARATOR)
        starts = np.concatenate(([0], ends[:-1] + 1))
        if self._units is not None:
            self._units.append(units)
            self._bounds.append(starts + self._unit_count)
        self._unit_count += len(units)
        # (bigram, paragraph) as one uint64: sorting it sorts by bigram, then paragraph
        wide = units.astype(np.uint64)
        doc_of_unit = np.repeat(np.arange(first, self.count, dtype=np.uint64), ends - starts + 1)
        left, right = wide[:-1], wide[1:]
        inside = (left != SEPARATOR) & (right != SEPARATOR)
        pairs, counts = np.unique(((left << np.uint64(16) | right) << np.uint64(32) | doc_of_unit[:-1])[inside],
                                  return_counts=True)
        self._bigrams.add_run(pairs >> np.uint64(32), pairs & np.uint64(0xFFFFFFFF), counts)
        # the block's words get their rank in its sorted vocabulary; each word is once per
        # paragraph, paragraphs ascending: a stable sort by rank keeps them so
        words = sorted(w for w in self._vocabulary if "\n" not in w)
        rank = np.full(len(self._vocabulary), -1, dtype=np.int64)  # -1: dropped
        rank[[self._vocabulary[w] for w in words]] = np.arange(len(words))
        ranks = rank[np.frombuffer(self._word_ids, dtype=np.uint32)]
        kept = np.flatnonzero(ranks >= 0)
        order = kept[np.argsort(ranks[kept], kind="stable")]
        self._words.add_run(ranks[order], np.frombuffer(self._word_gids, dtype=np.uint32)[order])
        listed = "".join(w + "\n" for w in words).encode("utf-8")
        self._block_word_lists.append((self._block_words.tell(), len(listed), len(words)))
        self._block_words.write(listed)
        self._block, self._block_chars, self._vocabulary = [], 0, {}
        self._word_ids, self._word_gids = array("I"), array("I")

    def finish(self) -> None:
        """Write the last block and merge the posting lists; the folder is then a complete index."""
        self._write_block()
        self._title_starts.append([self._titles.tell() + 1])  # one past the last title, as if a newline followed
        if self._bounds is not None:
            self._bounds.append([self._unit_count])
        for appender in (self._units, self._bounds, self._article_starts, self._title_starts):
            if appender is not None:
                appender.close()
        self._titles.close()
        self._bigrams.merge(DocIdsWriter(self.folder, "bigram"), NpyAppender(self.folder / "bigram_offsets.npy", POSITION),
                            NpyAppender(self.folder / "bigram_keys.npy", np.uint32),
                            SparseCounts(self.folder, "bigram_tf"), budget=self._merge_budget)
        ranks = self._merge_vocabularies()
        self._words.remapped(ranks).merge(DocIdsWriter(self.folder, "word"),
                                          NpyAppender(self.folder / "word_offsets.npy", POSITION),
                                          budget=self._merge_budget)

    def _merge_vocabularies(self) -> list[np.ndarray]:
        """Write words.txt, the blocks' vocabularies merged, and word_starts.npy; returns, per
        block, the rank in it of each of the block's words. The lists are read from disk side by
        side, a word at a time."""
        ranks = [np.empty(count, dtype=np.uint32) for _, _, count in self._block_word_lists]
        self._block_words.flush()
        fd = self._block_words.fileno()
        lists = [zip(_lines(fd, offset, size), repeat(block), range(count))
                 for block, (offset, size, count) in enumerate(self._block_word_lists)]
        word_starts = NpyAppender(self.folder / "word_starts.npy", POSITION)
        pending = array("q")  # starts not yet appended (a batch at a time: one append per word is slow)
        with open(self.folder / "words.txt", "wb") as out:
            rank, last, at = -1, None, 0
            for word, block, i in heapq.merge(*lists):  # UTF-8 bytes sort in code point order
                if word != last:
                    if last is not None:
                        out.write(b"\n")  # words.txt: no final newline
                        at += 1
                    pending.append(at)
                    out.write(word)
                    at += len(word)
                    rank, last = rank + 1, word
                    if len(pending) >= 1 << 14:
                        word_starts.append(pending)
                        pending = array("q")
                ranks[block][i] = rank
        pending.append(at + 1)  # one past the last word, as if a newline followed
        word_starts.append(pending)
        word_starts.close()
        self._block_words.close()
        os.unlink(self._block_words.name)
        return ranks


def _lines(fd: int, offset: int, size: int, chunk: int = 1 << 14) -> Iterator[bytes]:
    """The newline-ended lines in bytes ``[offset, offset + size)`` of the file ``fd``, without their
    newlines, read a chunk at a time (one descriptor serves every block, however many)."""
    rest, end = b"", offset + size
    while offset < end:
        data = os.pread(fd, min(chunk, end - offset), offset)
        if not data:
            raise OSError(f"{fd}: the file ended at {offset} before {end}")
        offset += len(data)
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        yield from lines


@dataclass
class Matches:
    """Paragraph ids (sorted, unique) with the key's frequency in each."""

    gids: np.ndarray
    tf: np.ndarray


class MappedLines(Sequence):
    """The lines of a UTF-8 text file, mapped, each decoded when asked for: ``starts`` holds where
    each line starts, then one past the end of the last as if a newline followed it."""

    def __init__(self, path: Path, starts: np.ndarray):
        self.data = _map_bytes(path)
        self.starts = starts
        if len(starts) < 1 or int(starts[-1]) != len(self.data) + 1:
            raise ValueError(f"{path}: does not match its line starts")
        self._starts = memoryview(starts)  # bisected as Python ints, no numpy call per step

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return self.data[int(self.starts[i]) : int(self.starts[i + 1]) - 1].decode("utf-8")

    def find(self, line: str) -> int:
        """The position of ``line`` in these sorted lines, or -1: a bisection comparing the mapped
        bytes (UTF-8 sorts as the code points do), which decodes and keeps nothing."""
        target, data, starts = line.encode("utf-8", "surrogatepass"), self.data, self._starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if data[starts[mid] : starts[mid + 1] - 1] < target:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(starts) - 1 and data[starts[lo] : starts[lo + 1] - 1] == target else -1


class Skeletons(Sequence):
    """Each paragraph's skeleton, decoded from ``units`` (paragraph ``gid`` at
    ``bounds[gid]:bounds[gid + 1] - 1``) when asked for."""

    def __init__(self, units: np.ndarray, bounds: np.ndarray):
        self.units, self.bounds = units, bounds
        # the same pages seen as Python sequences: indexing a memoryview gives a Python int and
        # slicing it a buffer, without numpy's per-call bookkeeping (a skeleton: 4.0 → 1.5 µs)
        self._bytes = memoryview(units).cast("B")
        self._bounds = memoryview(bounds)

    def __len__(self) -> int:
        return len(self._bounds) - 1

    def __getitem__(self, gid: int) -> str:
        if gid < 0:
            gid += len(self)
        if not 0 <= gid < len(self):
            raise IndexError(gid)
        return utf_16_le_decode(self._bytes[2 * self._bounds[gid] : 2 * self._bounds[gid + 1] - 2])[0]

    def count_in(self, gids: np.ndarray, key: str) -> np.ndarray:
        """How often ``key`` occurs (as ``str.count`` counts) in each of the paragraphs ``gids``
        (sorted): a few are decoded and counted, more are gathered a batch at a time and compared
        in numpy."""
        if 0 < len(gids) <= _DECODE_AT_MOST and key and SEPARATOR_CHAR not in key:
            # a few candidates: decoding each costs less than numpy's fixed cost per gather (~40 µs)
            return np.fromiter((self[gid].count(key) for gid in gids.tolist()), dtype=np.int64, count=len(gids))
        counts = np.zeros(len(gids), dtype=np.int64)
        needle = _units(key)
        if not len(gids) or not len(needle) or (needle == SEPARATOR).any():
            return counts
        # str.count does not count overlapping occurrences; only a key whose start repeats at its
        # end (哈哈, aba) can overlap itself, and then the paragraphs are decoded and counted
        overlaps = any(key[:i] == key[-i:] for i in range(1, len(key)))
        buffer = self.units.data
        starts = self.bounds[gids]
        ends = self.bounds[gids + 1]  # with the separator after each paragraph
        for first in range(0, len(gids), _VERIFY_BATCH):
            lo, hi = starts[first : first + _VERIFY_BATCH].tolist(), ends[first : first + _VERIFY_BATCH].tolist()
            joined = b"".join([buffer[a:b] for a, b in zip(lo, hi)])
            if overlaps:
                pieces = joined.decode("utf-16-le").split("\x00")
                counts[first : first + len(lo)] = [piece.count(key) for piece in pieces[:-1]]
                continue
            units = np.frombuffer(joined, dtype=np.uint16)
            span = len(units) - len(needle) + 1
            found = units[:span] == needle[0]
            for i in range(1, len(needle)):
                found &= units[i : i + span] == needle[i]
            sizes = np.subtract(hi, lo)
            paragraph = np.searchsorted(np.cumsum(sizes), np.flatnonzero(found), side="right")
            counts[first : first + len(lo)] = np.bincount(paragraph, minlength=len(lo))
        return counts


def _runs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_counts=True)`` for sorted ``ids``, without sorting them again (a
    common character's ~400,000 occurrences in 30 M characters: 10 → 6 ms)."""
    if not len(ids):
        return ids, np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate(([0], starts))
    return ids[starts], np.diff(np.append(starts, len(ids)))


def mapped_words(folder: Path) -> MappedLines:
    """The vocabulary of the match index in ``folder``: every word, sorted, mapped."""
    return MappedLines(Path(folder) / "words.txt", mapped(Path(folder) / "word_starts.npy"))


def _map_bytes(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, mapped read-only (an empty file cannot be mapped: then ``b""``)."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


class GramIndex:
    """Exact substring lookup and BM25 scoring over one build's paragraphs, mapped from ``folder``:
    opening it reads no array and allocates nothing that grows with the index. ``units`` and
    ``bounds``: the skeletons when ``folder`` does not hold them (a build's Whoosh skeleton column,
    :func:`search.whoosh_columns.skeleton_arrays`)."""

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

    def bm25(self, matches: Matches) -> np.ndarray:
        """BM25 of a key in each matching paragraph (the key's document frequency as its idf)."""
        df = len(matches.gids)
        if not df:
            return np.empty(0)
        idf = math.log(1 + (self.count - df + 0.5) / (df + 0.5))
        if df <= _FEW_CANDIDATES:  # the same operations in the same order: the same floats
            bounds, scores = self._bounds, []
            for gid, tf in zip(matches.gids.tolist(), matches.tf.tolist()):
                norm = BM25_K1 * (1 - BM25_B + BM25_B * (bounds[gid + 1] - bounds[gid] - 1) / self.avg_length)
                scores.append(idf * tf * (BM25_K1 + 1) / (tf + norm))
            return np.array(scores)
        tf = matches.tf.astype(np.float64)
        lengths = self.bounds[matches.gids + 1] - self.bounds[matches.gids] - 1
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / self.avg_length)
        return idf * tf * (BM25_K1 + 1) / (tf + norm)
