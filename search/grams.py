"""The match index: every paragraph's skeleton, bigram → paragraphs, and jieba word → paragraphs.

Exact substring matching — "if Ctrl+F finds it, search finds it" — and the whole-word test that
ranks whole words first are answered here, with numpy arrays — memory-mapped and shared by the
workers, except the posting lists, which are stored compressed and decoded when a worker opens
the build (Whoosh keeps the stored paragraphs):

* ``units.npy`` — all skeletons as UTF-16 code units, one 0 between paragraphs (0 never occurs in
  a skeleton: control characters are dropped by normalisation);
* ``starts.npy`` — where each paragraph starts in ``units`` (paragraph ids are ``gid`` 0…N-1);
* ``bigram_keys.npy`` / ``bigram_offsets.npy`` / ``bigram_docs.z`` / ``bigram_tf.npy`` — for
  each distinct bigram of code units, the sorted paragraph ids that contain it and how often;
* ``titles.txt`` / ``article_starts.npy`` — each article's title skeleton and its first paragraph
  id (an article's paragraphs have consecutive ids), for ``title:`` queries;
* ``words.txt`` / ``word_offsets.npy`` / ``word_docs.z`` — the sorted vocabulary of jieba words
  (with dictionary sub-words) and, per word, the sorted paragraph ids where it is a word.

A key of one code unit is found by scanning ``units``; a key of two is one posting list; a longer
key intersects the posting lists of its bigrams and then checks each candidate paragraph's
skeleton, so the answer is exact. Counting in code units keeps astral characters (two units)
correct without special cases.
"""

from __future__ import annotations

import bisect
import math
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

SEPARATOR = 0
_FILES = ("units", "starts", "bigram_keys", "bigram_offsets", "bigram_tf", "article_starts", "word_offsets")
# Posting lists of paragraph ids, saved as deltas through zlib (about a third of the raw size) and
# decoded into memory when a worker opens the build: {name: its offsets array}.
_POSTINGS = {"bigram_docs": "bigram_offsets", "word_docs": "word_offsets"}
BM25_K1 = 1.2
BM25_B = 0.75


def _units(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)


class GramIndexBuilder:
    """Collects paragraphs in ``gid`` order (articles one after another), then writes the arrays."""

    def __init__(self):
        self.skeletons: list[str] = []
        self.titles: list[str] = []
        self.article_starts: list[int] = []
        self._vocabulary: dict[str, int] = {}
        self._word_ids = array("I")
        self._word_gids = array("I")

    def start_article(self, title_skeleton: str) -> None:
        """The paragraphs added next belong to a new article with this title."""
        self.titles.append(title_skeleton.replace("\n", " "))
        self.article_starts.append(len(self.skeletons))

    def add_paragraph(self, skeleton_text: str, words: Iterable[str]) -> int:
        """Record a paragraph's skeleton and its distinct words; returns its ``gid``."""
        gid = len(self.skeletons)
        self.skeletons.append(skeleton_text)
        vocabulary = self._vocabulary
        for word in words:
            word_id = vocabulary.setdefault(word, len(vocabulary))
            self._word_ids.append(word_id)
            self._word_gids.append(gid)
        return gid

    def save(self, folder: Path) -> None:
        """Write the index into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = _bigram_arrays(self.skeletons)
        arrays["article_starts"] = np.asarray(self.article_starts, dtype=np.int64)
        words = sorted(w for w in self._vocabulary if "\n" not in w)
        rank = np.full(len(self._vocabulary), len(words), dtype=np.int32)  # len(words): dropped
        rank[[self._vocabulary[w] for w in words]] = np.arange(len(words), dtype=np.int32)
        ranked = rank[np.frombuffer(self._word_ids, dtype=np.uint32)]
        # Pairs were added paragraph by paragraph, each word once per paragraph: a stable sort by
        # word leaves every word's paragraphs sorted and unique.
        order = np.argsort(ranked, kind="stable")
        arrays["word_offsets"] = np.searchsorted(ranked[order], np.arange(len(words) + 1)).astype(np.int64)
        arrays["word_docs"] = np.frombuffer(self._word_gids, dtype=np.uint32)[order][: arrays["word_offsets"][-1]]
        for name, values in arrays.items():
            if name in _POSTINGS:
                _save_postings(folder / f"{name}.z", values, arrays[_POSTINGS[name]])
            else:
                np.save(folder / f"{name}.npy", values)
        (folder / "titles.txt").write_text("\n".join(self.titles), encoding="utf-8")
        (folder / "words.txt").write_text("\n".join(words), encoding="utf-8")


_CHUNK_UNITS = 1 << 20  # bigrams are paired with their paragraphs about a million units at a time


def _bigram_arrays(skeletons: list[str]) -> dict[str, np.ndarray]:
    units = _units("\x00".join(skeletons) + "\x00")
    lengths = np.fromiter((len(s.encode("utf-16-le")) // 2 for s in skeletons), dtype=np.int64, count=len(skeletons))
    starts = np.zeros(len(skeletons), dtype=np.int64)
    if len(skeletons) > 1:
        starts[1:] = np.cumsum(lengths[:-1] + 1)
    # Chunks of whole paragraphs keep the temporary 8-byte arrays small; each chunk's pairs come
    # out sorted by (bigram, paragraph), and a stable sort by bigram keeps paragraphs in order.
    codes, docs, tfs = [], [], []
    first = 0
    while first < len(skeletons):
        last = int(np.searchsorted(starts, starts[first] + _CHUNK_UNITS, side="right"))
        last = max(last, first + 1)
        chunk = units[starts[first] : starts[last - 1] + lengths[last - 1] + 1].astype(np.uint64)
        doc_of_unit = np.repeat(np.arange(first, last, dtype=np.uint64), lengths[first:last] + 1)
        left, right = chunk[:-1], chunk[1:]
        inside = (left != SEPARATOR) & (right != SEPARATOR)
        pairs = ((left << np.uint64(16) | right) << np.uint64(32) | doc_of_unit[:-1])[inside]
        unique, counts = np.unique(pairs, return_counts=True)
        codes.append((unique >> np.uint64(32)).astype(np.uint32))
        docs.append((unique & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        tfs.append(np.minimum(counts, 255).astype(np.uint8))
        first = last
    code = np.concatenate(codes) if codes else np.empty(0, dtype=np.uint32)
    order = np.argsort(code, kind="stable")
    code = code[order]
    keys, key_starts = np.unique(code, return_index=True)
    return {
        "units": units,
        "starts": starts,
        "bigram_keys": keys,
        "bigram_offsets": np.append(key_starts, len(code)).astype(np.int64),
        "bigram_docs": np.concatenate(docs)[order] if docs else np.empty(0, dtype=np.uint32),
        "bigram_tf": np.concatenate(tfs)[order] if tfs else np.empty(0, dtype=np.uint8),
    }


def _save_postings(path: Path, docs: np.ndarray, offsets: np.ndarray) -> None:
    deltas = docs.astype(np.int64)
    deltas[1:] -= docs[:-1].astype(np.int64)
    firsts = offsets[:-1][np.diff(offsets) > 0]
    deltas[firsts] = docs[firsts]  # each list starts from an absolute id
    path.write_bytes(zlib.compress(deltas.astype(np.uint32).tobytes(), 6))


def _load_postings(path: Path, offsets: np.ndarray) -> np.ndarray:
    sums = np.cumsum(np.frombuffer(zlib.decompress(path.read_bytes()), dtype=np.uint32), dtype=np.int64)
    before = np.concatenate(([0], sums))[offsets[:-1]]  # each list's running sum before it starts
    return (sums - np.repeat(before, np.diff(offsets))).astype(np.uint32)


@dataclass
class Matches:
    """Paragraph ids (sorted, unique) with the key's frequency in each."""

    gids: np.ndarray
    tf: np.ndarray


class GramIndex:
    """Exact substring lookup and BM25 scoring over one build's paragraphs."""

    def __init__(self, folder: Path):
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _FILES}
        self.units = arrays["units"]
        self.starts = np.asarray(arrays["starts"])
        self.bigram_keys = np.asarray(arrays["bigram_keys"])
        self.bigram_offsets = np.asarray(arrays["bigram_offsets"])
        self.bigram_docs = _load_postings(folder / "bigram_docs.z", self.bigram_offsets)
        self.bigram_tf = arrays["bigram_tf"]
        self.skeletons = np.asarray(self.units[:-1]).tobytes().decode("utf-16-le").split("\x00")
        self.article_starts = np.asarray(arrays["article_starts"])
        self.word_offsets = np.asarray(arrays["word_offsets"])
        self.word_docs = _load_postings(folder / "word_docs.z", self.word_offsets)
        self.words = (folder / "words.txt").read_text(encoding="utf-8").split("\n")
        self.titles = (folder / "titles.txt").read_text(encoding="utf-8")
        self.title_starts = np.cumsum([0] + [len(t) + 1 for t in self.titles.split("\n")])[:-1]
        ends = np.append(self.starts[1:] - 1, len(self.units) - 1)
        self.lengths = (ends - self.starts).astype(np.float64)
        self.avg_length = float(self.lengths.mean()) if len(self.lengths) else 1.0

    @property
    def count(self) -> int:
        """Number of paragraphs."""
        return len(self.starts)

    def _posting(self, code: int) -> Matches:
        # the key as uint32: a Python int would make numpy cast the whole array first (~100 µs)
        i = int(self.bigram_keys.searchsorted(np.uint32(code)))
        if i == len(self.bigram_keys) or int(self.bigram_keys[i]) != code:
            return Matches(np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint8))
        lo, hi = int(self.bigram_offsets[i]), int(self.bigram_offsets[i + 1])
        return Matches(np.asarray(self.bigram_docs[lo:hi]), np.asarray(self.bigram_tf[lo:hi]))

    def find(self, key: str) -> Matches:
        """Every paragraph whose skeleton contains ``key``, with occurrence counts."""
        units = _units(key)
        if len(units) == 1:
            positions = np.flatnonzero(self.units == units[0])
            gids, tf = np.unique(np.searchsorted(self.starts, positions, side="right") - 1, return_counts=True)
            return Matches(gids.astype(np.uint32), tf)
        codes = [int(a) << 16 | int(b) for a, b in zip(units[:-1], units[1:])]
        postings = sorted((self._posting(code) for code in set(codes)), key=lambda m: len(m.gids))
        if len(units) == 2:
            return postings[0]
        candidates = postings[0].gids
        for posting in postings[1:]:
            if not len(candidates):
                break
            candidates = np.intersect1d(candidates, posting.gids, assume_unique=True)
        skeletons = self.skeletons
        counts = np.fromiter((skeletons[g].count(key) for g in candidates.tolist()), dtype=np.int64,
                             count=len(candidates))
        found = counts > 0
        return Matches(candidates[found], counts[found])

    def with_words(self, words: list[str]) -> np.ndarray:
        """Sorted ids of the paragraphs that have every one of ``words`` among their words."""
        result = None
        for word in words:
            i = bisect.bisect_left(self.words, word)
            if i == len(self.words) or self.words[i] != word:
                return np.empty(0, dtype=np.uint32)
            docs = np.asarray(self.word_docs[self.word_offsets[i] : self.word_offsets[i + 1]])
            result = docs if result is None else np.intersect1d(result, docs, assume_unique=True)
        return result if result is not None else np.empty(0, dtype=np.uint32)

    def find_in_titles(self, key: str) -> np.ndarray:
        """Paragraph ids (sorted) of every article whose title skeleton contains ``key``."""
        hits = []
        at = self.titles.find(key)
        while at != -1:
            hits.append(at)
            at = self.titles.find(key, at + 1)
        if not hits:
            return np.empty(0, dtype=np.uint32)
        articles = np.unique(np.searchsorted(self.title_starts, hits, side="right") - 1)
        ends = np.append(self.article_starts[1:], self.count)
        return np.concatenate([np.arange(self.article_starts[a], ends[a], dtype=np.uint32) for a in articles])

    def bm25(self, matches: Matches) -> np.ndarray:
        """BM25 of a key in each matching paragraph (the key's document frequency as its idf)."""
        df = len(matches.gids)
        if not df:
            return np.empty(0)
        idf = math.log(1 + (self.count - df + 0.5) / (df + 0.5))
        tf = matches.tf.astype(np.float64)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths[matches.gids] / self.avg_length)
        return idf * tf * (BM25_K1 + 1) / (tf + norm)
