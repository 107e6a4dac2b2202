"""The substring index: every paragraph's skeleton and, per character bigram, the paragraphs holding it.

Whoosh keeps jieba's words (for whole-word ranking) and the stored paragraphs; exact substring
matching — "if Ctrl+F finds it, search finds it" — is answered here, with numpy arrays that are
memory-mapped and shared by every worker:

* ``units.npy`` — all skeletons as UTF-16 code units, one 0 between paragraphs (0 never occurs in
  a skeleton: control characters are dropped by normalisation);
* ``starts.npy`` — where each paragraph starts in ``units`` (paragraph ids are ``gid`` 0…N-1);
* ``bigram_keys.npy`` / ``bigram_offsets.npy`` / ``bigram_docs.npy`` / ``bigram_tf.npy`` — for
  each distinct bigram of code units, the sorted paragraph ids that contain it and how often;
* ``titles.txt`` / ``article_starts.npy`` — each article's title skeleton and its first paragraph
  id (an article's paragraphs have consecutive ids), for ``title:`` queries.

A key of one code unit is found by scanning ``units``; a key of two is one posting list; a longer
key intersects the posting lists of its bigrams and then checks each candidate paragraph's
skeleton, so the answer is exact. Counting in code units keeps astral characters (two units)
correct without special cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEPARATOR = 0
_FILES = ("units", "starts", "bigram_keys", "bigram_offsets", "bigram_docs", "bigram_tf", "article_starts")
BM25_K1 = 1.2
BM25_B = 0.75


def _units(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)


def write_gram_index(folder: Path, skeletons: list[str], titles: list[str], article_starts: list[int]) -> None:
    """Save the substring index: paragraph ``gid`` = position in ``skeletons``; article ``a`` has
    title skeleton ``titles[a]`` and paragraphs ``article_starts[a]`` up to the next article's."""
    folder.mkdir(parents=True, exist_ok=True)
    units = _units("\x00".join(skeletons) + "\x00")
    lengths = np.fromiter((len(s.encode("utf-16-le")) // 2 for s in skeletons), dtype=np.int64, count=len(skeletons))
    starts = np.zeros(len(skeletons), dtype=np.int64)
    if len(skeletons) > 1:
        starts[1:] = np.cumsum(lengths[:-1] + 1)
    doc_of_unit = np.repeat(np.arange(len(skeletons), dtype=np.uint64), lengths + 1)
    left, right = units[:-1].astype(np.uint64), units[1:].astype(np.uint64)
    inside = (left != SEPARATOR) & (right != SEPARATOR)
    pairs = ((left << np.uint64(16) | right) << np.uint64(32) | doc_of_unit[:-1])[inside]
    unique, counts = np.unique(pairs, return_counts=True)
    codes = (unique >> np.uint64(32)).astype(np.uint32)
    keys, first = np.unique(codes, return_index=True)
    arrays = {
        "units": units,
        "starts": starts,
        "bigram_keys": keys,
        "bigram_offsets": np.append(first, len(codes)).astype(np.int64),
        "bigram_docs": (unique & np.uint64(0xFFFFFFFF)).astype(np.uint32),
        "bigram_tf": np.minimum(counts, 255).astype(np.uint8),
        "article_starts": np.asarray(article_starts, dtype=np.int64),
    }
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    (folder / "titles.txt").write_text("\n".join(titles), encoding="utf-8")


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
        self.bigram_docs = arrays["bigram_docs"]
        self.bigram_tf = arrays["bigram_tf"]
        self.skeletons = np.asarray(self.units[:-1]).tobytes().decode("utf-16-le").split("\x00")
        self.article_starts = np.asarray(arrays["article_starts"])
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
        i = int(np.searchsorted(self.bigram_keys, code))
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
