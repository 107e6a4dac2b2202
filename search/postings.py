"""Posting lists on disk, and building them in bounded memory.

A posting list is the sorted ids of the paragraphs that hold one key. A build's lists are stored
one after another in ``<name>.z`` — each list as deltas (its first id absolute), the whole stream
through zlib, about a third of the raw size — beside an offsets array saying where each list starts.

The indexer cannot hold every (key, paragraph) pair of a large corpus in memory, so
:class:`PostingRuns` takes them block by block as *runs*, each sorted by (key, paragraph) and
spilled to disk at once; a later run's paragraphs all come after an earlier run's. :meth:`merge`
then walks the key space in ranges of about ``budget`` pairs, so memory stays proportional to the
block and range sizes, never to the corpus.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

_SAMPLE_STEP = 1024  # one key in this many is read to cut the key space into ranges


def _deltas(docs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each list's ids as differences from the previous id of the same list (the first as is)."""
    deltas = docs.astype(np.int64)
    deltas[1:] -= docs[:-1].astype(np.int64)
    firsts = offsets[:-1][np.diff(offsets) > 0]
    deltas[firsts] = docs[firsts]
    return deltas.astype(np.uint32)


def load_postings(path: Path, offsets: np.ndarray) -> np.ndarray:
    """All lists written by :meth:`PostingRuns.merge`, concatenated."""
    sums = np.cumsum(np.frombuffer(zlib.decompress(path.read_bytes()), dtype=np.uint32), dtype=np.int64)
    before = np.concatenate(([0], sums))[offsets[:-1]]  # each list's running sum before it starts
    return (sums - np.repeat(before, np.diff(offsets))).astype(np.uint32)


class NpyAppender:
    """Writes a one-dimensional ``.npy`` file whose length is known only at the end."""

    def __init__(self, path: Path, dtype):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self._raw = self.path.with_suffix(".part")
        self._file = open(self._raw, "wb")
        self.count = 0

    def append(self, values) -> None:
        """Add ``values`` (converted to the file's dtype) at the end."""
        values = np.asarray(values, dtype=self.dtype)
        self._file.write(values.tobytes())
        self.count += len(values)

    def close(self) -> None:
        """Turn what was appended into ``path`` (header first, then the values)."""
        self._file.close()
        with open(self.path, "wb") as out, open(self._raw, "rb") as raw:
            np.lib.format.write_array_header_1_0(
                out, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                      "shape": (self.count,)})
            while chunk := raw.read(1 << 24):
                out.write(chunk)
        self._raw.unlink()


class SparseCounts:
    """Per-pair counts that are nearly all 1 (a bigram seldom recurs in one paragraph), kept as
    the positions and values of the others: ``<name>_at.npy`` and ``<name>_value.npy``."""

    def __init__(self, folder: Path, name: str):
        self._at = NpyAppender(folder / f"{name}_at.npy", np.int64)
        self._value = NpyAppender(folder / f"{name}_value.npy", np.uint8)
        self._count = 0

    def append(self, counts: np.ndarray) -> None:
        """The counts of the next pairs."""
        others = np.flatnonzero(counts != 1)
        self._at.append(others + self._count)
        self._value.append(counts[others])
        self._count += len(counts)

    def close(self) -> None:
        self._at.close()
        self._value.close()

    @staticmethod
    def read(at: np.ndarray, value: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """The counts of pairs ``lo:hi`` from the two saved arrays."""
        counts = np.ones(hi - lo, dtype=np.uint8)
        first, last = at.searchsorted((lo, hi)).tolist()
        if last > first:
            counts[at[first:last] - lo] = value[first:last]
        return counts


class PostingRuns:
    """Sorted runs of (key, paragraph[, count]) pairs spilled to ``folder``, merged into lists.

    Spilled pairs are read back with plain reads, not kept mapped: mapped pages would count
    against the process's memory as long as the mapping lives.
    """

    _DTYPES = {"keys": np.dtype(np.uint32), "docs": np.dtype(np.uint32), "tf": np.dtype(np.uint8)}

    def __init__(self, folder: Path, name: str, *, counts: bool):
        folder.mkdir(parents=True, exist_ok=True)
        self._folder, self._name = folder, name
        self._columns = ("keys", "docs", "tf") if counts else ("keys", "docs")
        self._paths = {column: folder / f"{name}.run-{column}" for column in self._columns}
        self._files = {column: open(path, "wb") for column, path in self._paths.items()}
        self._bounds = [0]  # run i is rows bounds[i]:bounds[i + 1] of the spilled columns
        self._samples: list[np.ndarray] = []  # every _SAMPLE_STEP-th key of each run

    def add_run(self, keys: np.ndarray, docs: np.ndarray, tf: np.ndarray | None = None) -> None:
        """Spill one run (it may be empty): sorted by (key, doc), every doc after those of the
        runs before it."""
        values = {"keys": keys, "docs": docs, "tf": None if tf is None else np.minimum(tf, 255)}
        for column in self._columns:
            self._files[column].write(np.asarray(values[column], dtype=self._DTYPES[column]).tobytes())
        self._samples.append(np.array(keys[::_SAMPLE_STEP], dtype=np.uint32))
        self._bounds.append(self._bounds[-1] + len(keys))

    def _runs(self) -> list[tuple[int, int]]:
        """Each run's rows, once everything is on disk; no run can be added after."""
        for file in self._files.values():
            file.close()
        return list(zip(self._bounds[:-1], self._bounds[1:]))

    def _read(self, column: str, start: int, end: int) -> np.ndarray:
        dtype = self._DTYPES[column]
        return np.fromfile(self._paths[column], dtype=dtype, count=end - start, offset=start * dtype.itemsize)

    def _position(self, run: int, key: np.uint32 | None) -> int:
        """The first row of ``run`` whose key is not below ``key`` (None: the run's end).

        The run's sampled keys narrow it down to one stretch of ``_SAMPLE_STEP`` rows, read from
        disk: binary searches over a mapped file would leave pages of every run resident."""
        start, end = self._bounds[run], self._bounds[run + 1]
        if key is None:
            return end
        i = int(np.searchsorted(self._samples[run], key))  # sampled keys below ``key``
        if i == 0:
            return start
        lo = start + (i - 1) * _SAMPLE_STEP  # its key is below ``key``; the one a step on is not
        return lo + int(np.searchsorted(self._read("keys", lo, min(end, lo + _SAMPLE_STEP)), key))

    def _remove(self) -> None:
        for path in self._paths.values():
            path.unlink(missing_ok=True)

    def remapped(self, new_keys: list[np.ndarray]) -> "PostingRuns":
        """These runs with each key ``k`` of run ``i`` replaced by ``new_keys[i][k]``; one run is
        in memory at a time. Each map must keep its run's keys distinct and in order."""
        other = PostingRuns(self._folder, self._name + "-remapped", counts="tf" in self._columns)
        for (start, end), new_key in zip(self._runs(), new_keys, strict=True):
            other.add_run(new_key[self._read("keys", start, end)],
                          *(self._read(column, start, end) for column in self._columns[1:]))
        self._remove()
        return other

    def merge(self, docs_path: Path, offsets: NpyAppender, keys: NpyAppender | None = None,
              tf: NpyAppender | SparseCounts | None = None, *, budget: int = 1 << 20) -> None:
        """Write every key's list, in key order: ids to ``docs_path``, list starts to ``offsets``
        (closed with the total), and when given the distinct keys and the per-pair counts."""
        runs = self._runs()
        compressor = zlib.compressobj(6)
        written = 0
        with open(docs_path, "wb") as out:
            for lo, hi in _key_ranges(self._samples, budget):
                pieces = [(self._position(run, lo), self._position(run, hi)) for run in range(len(runs))]
                pieces = [(a, b) for a, b in pieces if b > a]
                if not pieces:
                    continue
                range_keys = np.concatenate([self._read("keys", a, b) for a, b in pieces])
                # runs are concatenated in paragraph order, so a stable sort by key keeps every
                # list's ids ascending
                order = np.argsort(range_keys, kind="stable")
                range_keys = range_keys[order]
                docs = np.concatenate([self._read("docs", a, b) for a, b in pieces])[order]
                starts = np.flatnonzero(np.diff(range_keys, prepend=np.int64(-1)))
                out.write(compressor.compress(_deltas(docs, np.append(starts, len(range_keys))).tobytes()))
                offsets.append(starts + written)
                if keys is not None:
                    keys.append(range_keys[starts])
                if tf is not None:
                    tf.append(np.concatenate([self._read("tf", a, b) for a, b in pieces])[order])
                written += len(range_keys)
            out.write(compressor.flush())
        offsets.append([written])
        for appender in (offsets, keys, tf):
            if appender is not None:
                appender.close()
        self._remove()


def _key_ranges(samples: list[np.ndarray], budget: int):
    """Half-open key ranges ``[lo, hi)`` covering every key (None: unbounded), each holding about
    ``budget`` pairs, cut at sampled keys. The keys are uint32 numpy scalars: a Python int would
    make numpy convert a whole run to compare with it."""
    if not samples:
        return
    sample = np.sort(np.concatenate(samples))
    lo = np.uint32(0)
    for hi in np.unique(sample[:: max(1, budget // _SAMPLE_STEP)])[1:]:
        yield lo, hi
        lo = hi
    yield lo, None
