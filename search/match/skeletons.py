"""The paragraphs' skeletons as mapped UTF-16 code units (:class:`Skeletons`), and the match index's
vocabulary as sorted lines of a mapped UTF-8 file (:func:`mapped_words`, a
:class:`~search.formats.sorted_lines.MappedLines`).
"""

from __future__ import annotations

from codecs import utf_16_le_decode
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..formats.arrays import mapped
from ..formats.sorted_lines import MappedLines

SEPARATOR = 0
SEPARATOR_CHAR = chr(SEPARATOR)
_DECODE_AT_MOST = 32  # candidates verified by decoding their skeletons rather than in numpy
_VERIFY_BATCH = 4096  # candidate paragraphs gathered at a time


def utf16_units(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)


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

    def many(self, gids: np.ndarray) -> list[str]:
        """The skeletons of the paragraphs ``gids``, decoded together."""
        if not len(gids):
            return []
        buffer, bounds = self.units.data, self.bounds
        lo, hi = bounds[gids].tolist(), bounds[gids + 1].tolist()  # each with the NUL after it
        return b"".join([buffer[a:b] for a, b in zip(lo, hi)]).decode("utf-16-le").split("\x00")[:-1]

    def count_in(self, gids: np.ndarray, key: str) -> np.ndarray:
        """How often ``key`` occurs (as ``str.count`` counts) in each of the paragraphs ``gids``
        (sorted): a few are decoded and counted, more are gathered a batch at a time and compared
        in numpy."""
        if 0 < len(gids) <= _DECODE_AT_MOST and key and SEPARATOR_CHAR not in key:
            # a few candidates: decoding each costs less than numpy's fixed cost per gather (~40 µs)
            return np.fromiter((self[gid].count(key) for gid in gids.tolist()), dtype=np.int64, count=len(gids))
        counts = np.zeros(len(gids), dtype=np.int64)
        needle = utf16_units(key)
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


def mapped_words(folder: Path) -> MappedLines:
    """The vocabulary of the match index in ``folder``: every word, sorted, mapped."""
    return MappedLines(Path(folder) / "words.txt", mapped(Path(folder) / "word_starts.npy"))
