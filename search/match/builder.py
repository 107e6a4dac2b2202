"""Writing the match index (:mod:`search.match.grams`) block by block: paragraphs' skeletons in, bigram
and word posting lists spilled as sorted runs and merged once at the end, so memory stays bounded
at any corpus size.
"""

from __future__ import annotations

import heapq
import os
from array import array
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..formats.arrays import NpyAppender, mapped
from .blockmax import write_block_bounds
from .postings import POSITION, DocIdsWriter, IdStream, PostingRuns, SparseCounts, SparseCountsReader
from .skeletons import SEPARATOR, utf16_units

_MAX_POSITION = int(np.iinfo(POSITION).max)  # positions into units, titles.txt and words.txt are uint32


@dataclass
class WordLists:
    """The distinct words of paragraphs ``first:last`` of a batch: per paragraph of the batch how
    many (``counts``), and their indexes in ``terms``, ascending, paragraph after paragraph
    (``words``). The articles of a batch share its terms and arrays (sent once)."""

    terms: list[str]
    counts: np.ndarray
    words: np.ndarray
    first: int = 0
    last: int | None = None

    def part(self) -> tuple[np.ndarray, np.ndarray]:
        """Paragraphs ``first:last``: each one's number of words, and their words."""
        last = len(self.counts) if self.last is None else self.last
        skipped = int(self.counts[: self.first].sum())
        counts = self.counts[self.first : last]
        return counts, self.words[skipped : skipped + int(counts.sum())]


class GramIndexBuilder:
    """Takes paragraphs in ``gid`` order (articles one after another) and writes the index into
    ``folder`` block by block, so memory stays bounded however large the corpus; call
    :meth:`finish` at the end. ``block_chars`` and ``merge_budget`` size the blocks and the merge
    ranges (:class:`search.match.postings.PostingRuns`)."""

    def __init__(self, folder: Path, *, block_chars: int = 1 << 20, merge_budget: int = 1 << 20,
                 write_units: bool = True):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0  # paragraphs added
        self._block_chars_limit = block_chars
        self._merge_budget = merge_budget
        # without units.npy the units come from elsewhere when the index is opened (a build: the
        # Whoosh skeleton column, search.segment.columns.SkeletonColumn, in this very layout)
        self._units = NpyAppender(self.folder / "units.npy", np.uint16) if write_units else None
        self._bounds = NpyAppender(self.folder / "bounds.npy", POSITION) if write_units else None
        self._unit_count = 0
        self._article_starts = NpyAppender(self.folder / "article_starts.npy", POSITION)
        self._titles = open(self.folder / "titles.txt", "wb")
        self._title_starts = NpyAppender(self.folder / "title_starts.npy", POSITION)
        self._bigrams = PostingRuns(self.folder, "bigram", counts=True)
        # a code unit's paragraphs and exact counts (a character may recur hundreds of times in one)
        self._unigrams = PostingRuns(self.folder, "unigram", counts=True, count_dtype=np.uint32)
        self._lengths = NpyAppender(self.folder / "lengths.tmp.npy", np.uint32)  # per paragraph, for the bounds
        self._words = PostingRuns(self.folder, "word", counts=False)
        # each block's sorted vocabulary, one word a line, merged into words.txt at the end
        self._block_words = open(self.folder / "words.runs", "w+b")
        self._block_word_lists: list[tuple[int, int, int]] = []  # per block: offset, bytes, words
        self._vocabulary: dict[str, int] = {}  # this block's words
        self._block: list[str] = []  # skeletons not yet written
        self._block_chars = 0
        self._word_ids = array("I")
        self._word_gids = array("I")
        # articles' words from their first paragraph's gid on: terms, words per paragraph, words
        self._pending: list[tuple[int, list[str], np.ndarray, np.ndarray]] = []

    def start_article(self, title_skeleton: str, words: WordLists | None = None) -> None:
        """The paragraphs added next belong to a new article with this title; ``words``, when
        given, are the distinct words of its paragraphs (each then added without words)."""
        if words is not None:
            counts, ids = words.part()
            if len(counts):
                self._pending.append((self.count, words.terms, counts, ids))
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
        units = utf16_units("\x00".join(self._block) + "\x00")
        if self._unit_count + len(units) > _MAX_POSITION:
            raise ValueError(f"the match index holds at most {_MAX_POSITION:,} code units of text (uint32 "
                             "positions, like its posting lists); index the archive in parts")
        ends = np.flatnonzero(units == SEPARATOR)
        starts = np.concatenate(([0], ends[:-1] + 1))
        if self._units is not None:
            self._units.append(units)
            self._bounds.append(starts + self._unit_count)
        self._unit_count += len(units)
        self._lengths.append(ends - starts)
        # (bigram, paragraph) as one uint64: sorting it sorts by bigram, then paragraph
        wide = units.astype(np.uint64)
        doc_of_unit = np.repeat(np.arange(first, self.count, dtype=np.uint64), ends - starts + 1)
        text = units != SEPARATOR
        pairs, counts = np.unique((wide << np.uint64(32) | doc_of_unit)[text], return_counts=True)
        self._unigrams.add_run(pairs >> np.uint64(32), pairs & np.uint64(0xFFFFFFFF), counts)
        left, right = wide[:-1], wide[1:]
        inside = (left != SEPARATOR) & (right != SEPARATOR)
        pairs, counts = np.unique(((left << np.uint64(16) | right) << np.uint64(32) | doc_of_unit[:-1])[inside],
                                  return_counts=True)
        self._bigrams.add_run(pairs >> np.uint64(32), pairs & np.uint64(0xFFFFFFFF), counts)
        word_ids, word_gids = self._block_word_pairs()
        # the block's words get their rank in its sorted vocabulary; each word is once per
        # paragraph, paragraphs ascending: a stable sort by rank keeps them so
        words = sorted(w for w in self._vocabulary if "\n" not in w)
        rank = np.full(len(self._vocabulary), -1, dtype=np.int64)  # -1: dropped
        rank[[self._vocabulary[w] for w in words]] = np.arange(len(words))
        ranks = rank[word_ids]
        kept = np.flatnonzero(ranks >= 0)
        order = kept[np.argsort(ranks[kept], kind="stable")]
        self._words.add_run(ranks[order], word_gids[order])
        listed = "".join(w + "\n" for w in words).encode("utf-8")
        self._block_word_lists.append((self._block_words.tell(), len(listed), len(words)))
        self._block_words.write(listed)
        self._block, self._block_chars, self._vocabulary = [], 0, {}
        self._word_ids, self._word_gids = array("I"), array("I")

    def _block_word_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The (word id in this block's vocabulary, gid) pairs of the block's paragraphs, in gid
        order: those added a paragraph at a time, and the pending articles' words up to the
        block's last paragraph (the rest stays pending). A batch's terms join the vocabulary
        once for all its articles."""
        ids, gids = [np.frombuffer(self._word_ids, dtype=np.uint32)], [np.frombuffer(self._word_gids, dtype=np.uint32)]
        taken: dict[int, tuple[list[str], list[tuple[np.ndarray, np.ndarray]]]] = {}  # id(terms) → its pairs
        rest = []
        for first, terms, counts, words in self._pending:
            paragraphs = min(len(counts), self.count - first)
            pairs = int(counts[:paragraphs].sum())
            if paragraphs < len(counts):
                rest.append((first + paragraphs, terms, counts[paragraphs:], words[pairs:]))
            gid = np.repeat(np.arange(first, first + paragraphs, dtype=np.uint32), counts[:paragraphs])
            taken.setdefault(id(terms), (terms, []))[1].append((words[:pairs], gid))
        self._pending = rest
        vocabulary = self._vocabulary
        for terms, parts in taken.values():
            words = np.concatenate([part for part, _ in parts]).astype(np.int64)
            used = np.unique(words)
            block_id = np.zeros(len(terms), dtype=np.uint32)
            block_id[used] = [vocabulary.setdefault(terms[i], len(vocabulary)) for i in used.tolist()]
            ids.append(block_id[words])
            gids.extend(gid for _, gid in parts)
        if len(ids) == 1:
            return ids[0].astype(np.int64), gids[0]
        ids, gids = np.concatenate(ids).astype(np.int64), np.concatenate(gids)
        order = np.argsort(gids, kind="stable")  # paragraphs added one way or the other: in gid order
        return ids[order], gids[order]

    def finish(self) -> None:
        """Write the last block and merge the posting lists; the folder is then a complete index."""
        self._write_block()
        self._title_starts.append([self._titles.tell() + 1])  # one past the last title, as if a newline followed
        if self._bounds is not None:
            self._bounds.append([self._unit_count])
        for appender in (self._units, self._bounds, self._article_starts, self._title_starts, self._lengths):
            if appender is not None:
                appender.close()
        self._titles.close()
        self._bigrams.merge(DocIdsWriter(self.folder, "bigram"), NpyAppender(self.folder / "bigram_offsets.npy", POSITION),
                            NpyAppender(self.folder / "bigram_keys.npy", np.uint32),
                            SparseCounts(self.folder, "bigram_tf"), budget=self._merge_budget)
        # no count exceeds the longest paragraph's length
        lengths = mapped(self._lengths.path)
        wide = len(lengths) and int(lengths.max()) > np.iinfo(np.uint16).max
        del lengths
        self._unigrams.merge(DocIdsWriter(self.folder, "unigram"), NpyAppender(self.folder / "unigram_offsets.npy", POSITION),
                             NpyAppender(self.folder / "unigram_keys.npy", np.uint32),
                             SparseCounts(self.folder, "unigram_tf", np.uint32 if wide else np.uint16),
                             budget=self._merge_budget)
        self._write_block_bounds()
        ranks = self._merge_vocabularies()
        self._words.remapped(ranks).merge(DocIdsWriter(self.folder, "word"),
                                          NpyAppender(self.folder / "word_offsets.npy", POSITION),
                                          budget=self._merge_budget)

    def _write_block_bounds(self) -> None:
        """The BM25 bounds of every block of the bigram and unigram streams (:mod:`.blockmax`),
        worked out from the streams as written and the paragraphs' lengths, a chunk at a time."""
        lengths = mapped(self._lengths.path)
        mean = float(lengths.sum(dtype=np.int64)) / self.count if self.count else 1.0
        for name, capped in (("bigram", 255), ("unigram", None)):
            ids = IdStream(*IdStream.arrays(self.folder, name))
            write_block_bounds(self.folder, name, ids, SparseCountsReader(self.folder, f"{name}_tf"), lengths, mean,
                               capped)
        del lengths
        os.unlink(self._lengths.path)

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
