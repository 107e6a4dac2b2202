"""Postings of many (field, term) keys as columns: what a worker hands the writer, what the writer
spills as a sorted run, and what a merge of runs gives back — numpy arrays, no object per posting.

A :class:`PostingTable` lists its keys sorted, each key's postings in document order, one after
another: document numbers, weights, field lengths, and each posting's encoded value (their sizes,
and the values joined). :meth:`PostingTable.merged` merges tables whose documents follow one
another with one stable sort, as tantivy's indexer merges its per-thread runs: the keys of all
tables are ranked once (a dictionary and a sort per distinct key), the postings reordered by
their key's rank. :class:`RunFile` keeps a table on disk and reads back any range of its keys.
"""

from __future__ import annotations

import bisect
import itertools
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

Key = tuple[str, bytes]  # (field name, term)

_COLUMNS = (("docs", np.uint32), ("weights", np.float32), ("lengths", np.uint32), ("sizes", np.uint32),
            ("values", np.uint8))
_KEY_CHUNK = 1024  # keys pickled together in a run file: a key range is read a chunk at a time


def ranges(firsts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``firsts[i] + 0 … lengths[i] - 1`` for every ``i``, concatenated (int64)."""
    firsts = np.asarray(firsts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(firsts - (np.cumsum(lengths) - lengths), lengths)
    return offsets + np.arange(total, dtype=np.int64)


@dataclass
class PostingTable:
    """Postings grouped by key, keys sorted, each key's postings in ascending document order."""

    keys: list[Key]
    counts: np.ndarray  # postings per key (int64)
    docs: np.ndarray  # uint32
    weights: np.ndarray  # float32
    lengths: np.ndarray  # uint32: the document's length in the key's field (0: not scorable)
    sizes: np.ndarray  # uint32: each posting's value size
    values: np.ndarray  # uint8: the values one after another

    def __len__(self) -> int:
        return len(self.docs)

    @classmethod
    def empty(cls) -> "PostingTable":
        return cls([], np.empty(0, np.int64), *(np.empty(0, dtype) for _, dtype in _COLUMNS))

    @classmethod
    def merged(cls, tables: Sequence["PostingTable"]) -> "PostingTable":
        """One table of every posting of ``tables``, which must be in document order (each key's
        postings in a table come after that key's postings in the tables before it)."""
        tables = [table for table in tables if table.keys]
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        ids: dict[Key, int] = {}
        counter = itertools.count()
        # each key's id (the counter's value when it was first seen), per table
        table_ids = [np.fromiter(map(ids.setdefault, table.keys, counter), np.int64, len(table.keys))
                     for table in tables]
        keys = sorted(ids)
        rank = np.empty(next(counter), dtype=np.int64)
        rank[np.fromiter(map(ids.__getitem__, keys), np.int64, len(keys))] = np.arange(len(keys))
        posting_rank = np.concatenate([np.repeat(rank[key_ids], table.counts)
                                       for key_ids, table in zip(table_ids, tables)])
        order = np.argsort(posting_rank, kind="stable")  # stable: documents stay in order
        sizes = np.concatenate([table.sizes for table in tables])
        starts = np.cumsum(sizes, dtype=np.int64) - sizes
        values = np.concatenate([table.values for table in tables])
        sizes = sizes[order]
        return cls(keys, np.bincount(posting_rank, minlength=len(keys)).astype(np.int64),
                   np.concatenate([table.docs for table in tables])[order],
                   np.concatenate([table.weights for table in tables])[order],
                   np.concatenate([table.lengths for table in tables])[order],
                   sizes, values[ranges(starts[order], sizes)])


class RunFile:
    """A :class:`PostingTable` written to ``path``: its columns one after another, then its keys
    pickled in chunks; in memory only each chunk's first key and where things start, and
    :attr:`samples`, the key at every ``sample``-th posting (to cut key ranges by postings)."""

    def __init__(self, path: Path, table: PostingTable, *, sample: int = 1 << 14):
        self.path = Path(path)
        self.postings = len(table)
        self._columns: dict[str, int] = {}  # where each column starts in the file
        # per chunk: first key, file offset of its pickle, its first posting, its first value byte
        self.chunks: list[tuple[Key, int, int, int]] = []
        ends = np.cumsum(table.counts, dtype=np.int64)
        sample = max(1, sample)
        self.samples = [table.keys[i] for i in np.searchsorted(ends, np.arange(sample, self.postings, sample),
                                                                side="right").tolist()]
        value_ends = np.cumsum(table.sizes, dtype=np.int64)
        with open(self.path, "wb") as out:
            for name, dtype in _COLUMNS:
                self._columns[name] = out.tell()
                out.write(np.ascontiguousarray(getattr(table, name), dtype=dtype).tobytes())
            for i in range(0, len(table.keys), _KEY_CHUNK):
                posting = int(ends[i - 1]) if i else 0
                value = int(value_ends[posting - 1]) if posting else 0
                self.chunks.append((table.keys[i], out.tell(), posting, value))
                pickle.dump((table.keys[i : i + _KEY_CHUNK], table.counts[i : i + _KEY_CHUNK]), out,
                            protocol=pickle.HIGHEST_PROTOCOL)
        self._firsts = [chunk[0] for chunk in self.chunks]

    def read(self, low: Key | None, high: Key | None) -> PostingTable:
        """The table's keys in ``[low, high)`` (None: unbounded) with their postings."""
        if not self.chunks:
            return PostingTable.empty()
        first = 0 if low is None else max(bisect.bisect_right(self._firsts, low) - 1, 0)
        last = len(self.chunks) if high is None else bisect.bisect_left(self._firsts, high)
        keys: list[Key] = []
        counts = []
        with open(self.path, "rb") as run:
            run.seek(self.chunks[first][1])
            for _ in range(first, max(last, first + 1)):
                chunk_keys, chunk_counts = pickle.load(run)
                keys += chunk_keys
                counts.append(chunk_counts)
        counts = np.concatenate(counts)
        start = bisect.bisect_left(keys, low) if low is not None else 0
        end = bisect.bisect_left(keys, high) if high is not None else len(keys)
        skipped = int(counts[:start].sum())
        posting = self.chunks[first][2] + skipped
        count = int(counts[start:end].sum())
        docs, weights, lengths, sizes = (self._column(name, dtype, posting, count) for name, dtype in _COLUMNS[:4])
        value = self.chunks[first][3] + (int(self._column("sizes", np.uint32, self.chunks[first][2], skipped).sum())
                                         if skipped else 0)
        values = self._column("values", np.uint8, value, int(sizes.sum()))
        return PostingTable(keys[start:end], counts[start:end], docs, weights, lengths, sizes, values)

    def _column(self, name: str, dtype, start: int, count: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        return np.fromfile(self.path, dtype=dtype, count=count, offset=self._columns[name] + start * dtype.itemsize)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
