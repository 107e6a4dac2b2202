"""Posting lists on disk, and building them in bounded memory.

A posting list is the sorted ids of the paragraphs that hold one key. A build's lists are stored
one after another, in arrays that every worker maps as they are (no decoding when a build is
opened; the page cache holds one copy for all workers):

* ``<name>_offsets.npy`` — where each list starts (one more entry: the total);
* ``<name>_low.npy`` — each id's low 16 bits (uint16);
* ``<name>_high_at.npy`` / ``<name>_high.npy`` — the high 16 bits, run-length coded over the
  whole stream: the position of every id whose high half differs from the previous id's (the
  first id's from 0), and that high half. Ids are sorted within a list, so a list of paragraphs
  spread over a corpus of *N* paragraphs adds at most N / 65,536 + 1 changes.

About 2 bytes an id, against 4 for raw uint32 ids, and a list comes back as one ``astype`` plus
one ``|=`` per change. Positions into the posting space are uint32 (at most 2³² − 1 postings).

The indexer cannot hold every (key, paragraph) pair of a large corpus in memory, so
:class:`PostingRuns` takes them block by block as *runs*, each sorted by (key, paragraph) and
spilled to disk at once; a later run's paragraphs all come after an earlier run's. :meth:`merge`
then walks the key space in ranges of about ``budget`` pairs, so memory stays proportional to the
block and range sizes, never to the corpus.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np

from ..formats.arrays import NpyAppender, mapped

_SAMPLE_STEP = 1024  # one key in this many is read to cut the key space into ranges
_BISECTED_AT_MOST = 8  # PostingLists.contains looks this few ids up one by one
_BISECT = 32  # locate(): below one needle in this many entries, bisect the haystack rather than map every id
_DENSE = 16  # nor when both together are fewer than one id in this many
_DENSE_AT = 4  # positions read at: at least one in this many of the stretch they span, it is decoded whole
POSITION = np.dtype(np.uint32)  # a position in the posting space (list offsets, change positions)
_LOW_BITS = 16
_MAX_HIGH = (1 << 16) - 1


class DocIdsWriter:
    """Writes the ids of the lists :meth:`PostingRuns.merge` produces, in the mapped layout above."""

    def __init__(self, folder: Path, name: str):
        self._low = NpyAppender(folder / f"{name}_low.npy", np.uint16)
        self._high_at = NpyAppender(folder / f"{name}_high_at.npy", POSITION)
        self._high = NpyAppender(folder / f"{name}_high.npy", np.uint16)
        self._last_high = 0  # the high half of the last id written

    def append(self, docs: np.ndarray) -> None:
        """The next ids of the stream (whole lists, concatenated)."""
        docs = np.asarray(docs, dtype=np.uint32)
        if not len(docs):
            return
        high = docs >> np.uint32(_LOW_BITS)
        changes = np.flatnonzero(high != np.concatenate(([self._last_high], high[:-1])))
        self._high_at.append(changes + self._low.count)
        self._high.append(high[changes])
        self._low.append(docs & np.uint32(0xFFFF))
        self._last_high = int(high[-1])

    def close(self) -> None:
        for appender in (self._low, self._high_at, self._high):
            appender.close()


class IdStream:
    """The ids a :class:`DocIdsWriter` wrote (``<name>_low``, ``_high_at``, ``_high``), mapped:
    any stretch of them decoded when asked for."""

    def __init__(self, low: np.ndarray, high_at: np.ndarray, high: np.ndarray, where: str = "ids"):
        if len(high_at) != len(high):
            raise ValueError(f"{where}: the high halves and their positions do not agree")
        self.low, self.high_at, self.high = low, high_at, high
        # the same pages as Python sequences (a Python int per item, no numpy call per lookup)
        self._high_at, self._high = memoryview(high_at), memoryview(high)
        self._low = memoryview(low)

    @staticmethod
    def arrays(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mapped ``(low, high_at, high)`` of the stream ``name`` in ``folder``."""
        return tuple(mapped(folder / f"{name}_{part}.npy") for part in ("low", "high_at", "high"))

    def span(self, lo: int, hi: int) -> np.ndarray:
        """The ids at positions ``lo:hi`` of the stream."""
        docs = self.low[lo:hi].astype(np.uint32)
        for start, end, high in self._stretches(lo, hi):
            if high:
                docs[start - lo : end - lo] |= np.uint32(high << _LOW_BITS)
        return docs

    def at(self, positions: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """The ids at ``positions`` of the stream (any, within ``lo:hi`` when given: one list's, say,
        so that only its own few changes of high half are searched), decoding nothing else."""
        stretch = _dense_stretch(positions.min(), positions.max(), len(positions)) if len(positions) else None
        if stretch is not None:  # decoded at once, rather than each position's high half looked up
            return self.span(*stretch)[positions - positions.dtype.type(stretch[0])]
        docs = self.low[positions].astype(np.uint32)
        first, last = 0, len(self.high_at)
        if lo or hi is not None:  # the changes at or before lo, and those up to hi
            first = bisect.bisect_right(self._high_at, lo)
            last = bisect.bisect_left(self._high_at, len(self.low) if hi is None else hi, first)
        # the last change at or before each
        changes = np.searchsorted(self.high_at[first:last], positions, side="right") + first
        highs = np.where(changes > 0, self.high[np.maximum(changes - 1, 0)] if len(self.high) else 0, 0)
        return docs | (highs.astype(np.uint32) << np.uint32(_LOW_BITS))

    def find(self, ids: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """For each of ``ids`` (sorted, unique), its position among positions ``lo:hi`` of the stream
        (a sorted stretch of it: one list), or -1. Nothing is decoded: each id's low half is looked
        up in the stretch under its high half."""
        found = np.full(len(ids), -1, dtype=np.int64)
        if not len(ids) or lo >= hi:
            return found
        for start, end, high in self._stretches(lo, hi):
            # the ids under this high half; past the last one (0xFFFF) the bound, 2**32, does not fit
            # the ids' dtype, and a wider bound would make numpy convert them all
            last = high == _MAX_HIGH
            begin, stop = np.searchsorted(ids, np.array([high << _LOW_BITS, 0 if last else (high + 1) << _LOW_BITS],
                                                        dtype=ids.dtype))
            stop = len(ids) if last else stop
            if begin == stop or start == end:
                continue
            stretch = self.low[start:end]  # sorted low halves
            lows = (ids[begin:stop] & 0xFFFF).astype(np.uint16)
            at = np.minimum(np.searchsorted(stretch, lows), len(stretch) - 1)
            found[begin:stop] = np.where(stretch[at] == lows, at + start, -1)
        return found

    def _stretches(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """``(start, end, high half)`` of each stretch of positions ``lo:hi`` under one high half
        (nearly every list lies under one)."""
        first = bisect.bisect_right(self._high_at, lo)
        last = bisect.bisect_left(self._high_at, hi)
        if first == last:
            return [(lo, hi, self._high[first - 1] if first else 0)]
        bounds = [lo, *self._high_at[first:last].tolist(), hi]
        highs = [self._high[first - 1] if first else 0, *self._high[first:last].tolist()]
        return list(zip(bounds, bounds[1:], highs))


class PostingLists(IdStream):
    """Read side of :class:`DocIdsWriter` and its offsets: the lists of one name, mapped; nothing
    is decoded until a list is asked for."""

    def __init__(self, folder: Path, name: str):
        super().__init__(*self.arrays(folder, name), where=f"{folder}: the {name} posting files")
        self.offsets = mapped(folder / f"{name}_offsets.npy")
        if len(self.offsets) < 1 or int(self.offsets[-1]) != len(self.low):
            raise ValueError(f"{folder}: the {name} posting files do not agree")
        self._offsets = memoryview(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        """List ``i``: sorted uint32 ids."""
        return self.span(self._offsets[i], self._offsets[i + 1])

    def length(self, i: int) -> int:
        """How many ids list ``i`` holds."""
        return self._offsets[i + 1] - self._offsets[i]

    def contains(self, i: int, ids: np.ndarray) -> np.ndarray:
        """For each of ``ids`` (sorted, unique), whether list ``i`` holds it. A long list is not
        decoded: each id's low half is looked up in the stretch of the list under its high half
        (for a few ids, by bisecting the mapped low halves: no numpy call per step)."""
        lo, hi = self._offsets[i], self._offsets[i + 1]
        if len(ids) <= _BISECTED_AT_MOST:
            return np.array(self._holds(lo, hi, ids.tolist()), dtype=bool)
        if hi - lo <= 8 * len(ids):
            return contained(ids, self.span(lo, hi))
        return self.find(ids, lo, hi) >= 0

    def where(self, lo: int, hi: int, ids: np.ndarray, universe: int) -> np.ndarray:
        """For each of ``ids`` (sorted, unique, below ``universe``), its position in the stream
        among ``lo:hi`` (one list), or -1: a short list is decoded, a long one is not."""
        if hi - lo <= 8 * len(ids):
            at = locate(self.span(lo, hi), ids, universe)
            return np.where(at >= 0, at + lo, -1)
        return self.find(ids, lo, hi)

    def _holds(self, lo: int, hi: int, ids: list[int]) -> list[bool]:
        """For each of ``ids``, whether the stream holds it at positions ``lo:hi`` (one list)."""
        stretches, low = self._stretches(lo, hi), self._low
        found = []
        for doc in ids:
            high, want = doc >> _LOW_BITS, doc & 0xFFFF
            for start, end, stretch_high in stretches:
                if stretch_high == high:
                    at = bisect.bisect_left(low, want, start, end)
                    found.append(at < end and low[at] == want)
                    break
            else:
                found.append(False)
        return found

    def all(self) -> np.ndarray:
        """Every list, concatenated."""
        return self.span(0, len(self.low))


def _dense_stretch(first, last, count: int) -> tuple[int, int] | None:
    """``(first, last + 1)`` when ``count`` positions from ``first`` to ``last`` are at least one in
    :data:`_DENSE_AT` of that stretch (reading it whole then costs less than finding each); else None."""
    first, last = int(first), int(last)
    return (first, last + 1) if last - first < _DENSE_AT * count else None


def locate(haystack: np.ndarray, needles: np.ndarray, universe: int) -> np.ndarray:
    """For each of ``needles`` (sorted), its index in ``haystack`` (sorted, unique, ids below
    ``universe``), or -1."""
    if not len(needles) or not len(haystack):
        return np.full(len(needles), -1, dtype=np.int64)
    if (len(haystack) + len(needles)) * _DENSE < universe or len(needles) * _BISECT < len(haystack):
        at = np.searchsorted(haystack, needles)
        np.minimum(at, len(haystack) - 1, out=at)
        return np.where(haystack[at] == needles, at, -1)
    # many of both: a map over every id costs less than bisecting (numpy bisects with cache misses)
    where = np.full(universe, -1, dtype=np.int32)
    where[haystack.astype(np.intp)] = np.arange(len(haystack), dtype=np.int32)
    return where[needles.astype(np.intp)].astype(np.int64)


def contained(ids: np.ndarray, within: np.ndarray) -> np.ndarray:
    """For each of ``ids``, whether it is in ``within`` (both sorted and unique): each looked up by
    bisection, where ``np.isin`` and ``np.intersect1d`` sort both arrays together."""
    if not len(ids) or not len(within):
        return np.zeros(len(ids), dtype=bool)
    at = np.searchsorted(within, ids)
    np.minimum(at, len(within) - 1, out=at)
    return within[at] == ids


class SparseCounts:
    """Per-pair counts that are nearly all 1 (a bigram seldom recurs in one paragraph), kept as
    the positions and values of the others: ``<name>_value.npy`` (uint8, or ``dtype``) and the positions, sorted,
    in :class:`DocIdsWriter`'s layout under ``<name>_at`` (``_low``, ``_high_at``, ``_high``): about
    2 bytes a position instead of 4. (Builds before 2026-12-02 kept them as uint32 in
    ``<name>_at.npy``: :class:`SparseCountsReader` reads both.)"""

    def __init__(self, folder: Path, name: str, dtype=np.uint8):
        self._at = DocIdsWriter(folder, f"{name}_at")
        self._value = NpyAppender(folder / f"{name}_value.npy", dtype)
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


class SparseCountsReader:
    """Read side of :class:`SparseCounts`, mapped: the counts of any range of pairs."""

    def __init__(self, folder: Path, name: str):
        self.value = mapped(folder / f"{name}_value.npy")
        flat = folder / f"{name}_at.npy"
        if flat.exists():  # an earlier build: the positions as plain uint32, under no high half
            self.positions = IdStream(mapped(flat), np.empty(0, POSITION), np.empty(0, np.uint16))
            self._low_bits = 32
        else:
            self.positions = IdStream(*IdStream.arrays(folder, f"{name}_at"), where=f"{folder}: the {name} count files")
            self._low_bits = _LOW_BITS
        if len(self.positions.low) != len(self.value):
            raise ValueError(f"{folder}: the {name} count files do not agree")

    def _below(self, position: int) -> int:
        """How many of the stored positions are below ``position``. The positions are sorted, so
        their high halves only grow: one stretch per high half, found by bisecting the halves."""
        # the stream's own memoryviews: bisected as Python ints, no numpy call per bound
        high_at, highs, lows = self.positions._high_at, self.positions._high, self.positions._low
        high, low = position >> self._low_bits, position & ((1 << self._low_bits) - 1)
        stretch = bisect.bisect_right(highs, high)  # 0: the stretch before any change (high half 0)
        start = high_at[stretch - 1] if stretch else 0
        end = high_at[stretch] if stretch < len(high_at) else len(lows)
        if (highs[stretch - 1] if stretch else 0) < high:
            return end  # every position of the stretch is below
        return bisect.bisect_left(lows, low, start, end)

    def at(self, positions: np.ndarray) -> np.ndarray:
        """The counts of the pairs at ``positions`` (sorted, unique, uint32)."""
        counts = np.ones(len(positions), dtype=self.value.dtype)
        if not len(positions) or not len(self.value):
            return counts
        stretch = _dense_stretch(positions[0], positions[-1], len(positions))
        if stretch is not None:  # read at once, rather than each position looked up
            return self.read(*stretch)[positions - positions.dtype.type(stretch[0])]
        first, last = self._below(int(positions[0])), self._below(int(positions[-1]) + 1)
        if last > first:
            if self._low_bits == _LOW_BITS:
                where = self.positions.find(positions.astype(np.uint32, copy=False), first, last)
            else:  # an earlier build's plain positions
                stored = self.positions.span(first, last)
                where = np.searchsorted(stored, positions) + first
                where[~contained(positions, stored)] = -1
            found = where >= 0
            counts[found] = self.value[where[found]]
        return counts

    def read(self, lo: int, hi: int) -> np.ndarray:
        """The counts of pairs ``lo:hi``."""
        counts = np.ones(hi - lo, dtype=self.value.dtype)
        first, last = self._below(lo), self._below(hi)
        if last > first:
            counts[self.positions.span(first, last) - np.uint32(lo)] = self.value[first:last]
        return counts


class PostingRuns:
    """Sorted runs of (key, paragraph[, count]) pairs spilled to ``folder``, merged into lists.

    Spilled pairs are read back with plain reads, not kept mapped: mapped pages would count
    against the process's memory as long as the mapping lives.
    """

    def __init__(self, folder: Path, name: str, *, counts: bool, count_dtype=np.uint8):
        folder.mkdir(parents=True, exist_ok=True)
        self._folder, self._name = folder, name
        self._count_dtype = np.dtype(count_dtype)
        self._dtypes = {"keys": np.dtype(np.uint32), "docs": np.dtype(np.uint32), "tf": self._count_dtype}
        self._columns = ("keys", "docs", "tf") if counts else ("keys", "docs")
        self._paths = {column: folder / f"{name}.run-{column}" for column in self._columns}
        self._files = {column: open(path, "wb") for column, path in self._paths.items()}
        self._bounds = [0]  # run i is rows bounds[i]:bounds[i + 1] of the spilled columns
        self._samples: list[np.ndarray] = []  # every _SAMPLE_STEP-th key of each run

    def add_run(self, keys: np.ndarray, docs: np.ndarray, tf: np.ndarray | None = None) -> None:
        """Spill one run (it may be empty): sorted by (key, doc), every doc after those of the
        runs before it."""
        cap = np.iinfo(self._count_dtype).max
        values = {"keys": keys, "docs": docs, "tf": None if tf is None else np.minimum(tf, cap)}
        for column in self._columns:
            self._files[column].write(np.asarray(values[column], dtype=self._dtypes[column]).tobytes())
        self._samples.append(np.array(keys[::_SAMPLE_STEP], dtype=np.uint32))
        self._bounds.append(self._bounds[-1] + len(keys))

    def _runs(self) -> list[tuple[int, int]]:
        """Each run's rows, once everything is on disk; no run can be added after."""
        for file in self._files.values():
            file.close()
        return list(zip(self._bounds[:-1], self._bounds[1:]))

    def _read(self, column: str, start: int, end: int) -> np.ndarray:
        dtype = self._dtypes[column]
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
        other = PostingRuns(self._folder, self._name + "-remapped", counts="tf" in self._columns,
                            count_dtype=self._count_dtype)
        for (start, end), new_key in zip(self._runs(), new_keys, strict=True):
            other.add_run(new_key[self._read("keys", start, end)],
                          *(self._read(column, start, end) for column in self._columns[1:]))
        self._remove()
        return other

    def merge(self, docs: DocIdsWriter, offsets: NpyAppender, keys: NpyAppender | None = None,
              tf: NpyAppender | SparseCounts | None = None, *, budget: int = 1 << 20) -> None:
        """Write every key's list, in key order: ids to ``docs``, list starts to ``offsets``
        (closed with the total), and when given the distinct keys and the per-pair counts."""
        runs = self._runs()
        written = 0
        for lo, hi in _key_ranges(self._samples, budget):
            pieces = [(self._position(run, lo), self._position(run, hi)) for run in range(len(runs))]
            pieces = [(a, b) for a, b in pieces if b > a]
            if not pieces:
                continue
            range_keys = np.concatenate([self._read("keys", a, b) for a, b in pieces])
            if written + len(range_keys) > np.iinfo(POSITION).max:
                raise OverflowError(f"{self._folder}: more than {np.iinfo(POSITION).max:,} {self._name} postings")
            # runs are concatenated in paragraph order, so a stable sort by key keeps every
            # list's ids ascending
            order = np.argsort(range_keys, kind="stable")
            range_keys = range_keys[order]
            starts = np.flatnonzero(np.diff(range_keys, prepend=np.int64(-1)))
            docs.append(np.concatenate([self._read("docs", a, b) for a, b in pieces])[order])
            offsets.append(starts + written)
            if keys is not None:
                keys.append(range_keys[starts])
            if tf is not None:
                tf.append(np.concatenate([self._read("tf", a, b) for a, b in pieces])[order])
            written += len(range_keys)
        offsets.append([written])
        for appender in (docs, offsets, keys, tf):
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
