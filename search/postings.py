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


def save_postings(path: Path, docs: np.ndarray, offsets: np.ndarray) -> None:
    """Write the lists ``docs[offsets[i]:offsets[i + 1]]`` (each sorted) to ``path``."""
    path.write_bytes(zlib.compress(_deltas(docs, offsets).tobytes(), 6))


def load_postings(path: Path, offsets: np.ndarray) -> np.ndarray:
    """All lists written by :func:`save_postings` or :meth:`PostingRuns.merge`, concatenated."""
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


class PostingRuns:
    """Sorted runs of (key, paragraph[, count]) pairs spilled to ``folder``, merged into lists."""

    def __init__(self, folder: Path, name: str, *, counts: bool):
        folder.mkdir(parents=True, exist_ok=True)
        self._folder, self._name, self._counts = folder, name, counts
        self._paths = {column: folder / f"{name}.run-{column}" for column in ("keys", "docs", "tf")}
        self._files = {column: open(path, "wb") for column, path in self._paths.items()}
        self._bounds = [0]  # run i is rows bounds[i]:bounds[i + 1] of the spilled columns

    def add_run(self, keys: np.ndarray, docs: np.ndarray, tf: np.ndarray | None = None) -> None:
        """Spill one run: sorted by (key, doc), every doc after those of the runs before it."""
        if not len(keys):
            return
        self._files["keys"].write(np.asarray(keys, dtype=np.uint32).tobytes())
        self._files["docs"].write(np.asarray(docs, dtype=np.uint32).tobytes())
        if self._counts:
            self._files["tf"].write(np.minimum(tf, 255).astype(np.uint8).tobytes())
        self._bounds.append(self._bounds[-1] + len(keys))

    def _spilled(self) -> tuple[dict[str, np.ndarray], list[tuple[int, int]]]:
        """The spilled columns (memory-mapped) and each run's rows; no run can be added after."""
        for file in self._files.values():
            file.close()
        total = self._bounds[-1]
        columns = {column: np.memmap(path, dtype=np.uint8 if column == "tf" else np.uint32, mode="r", shape=(total,))
                   for column, path in self._paths.items() if total and (column != "tf" or self._counts)}
        return columns, list(zip(self._bounds[:-1], self._bounds[1:]))

    def _remove(self) -> None:
        for path in self._paths.values():
            path.unlink(missing_ok=True)

    def remapped(self, new_key: np.ndarray) -> "PostingRuns":
        """These runs with every key ``k`` replaced by ``new_key[k]`` (negative: the pair is
        dropped), each run sorted again; one run is in memory at a time. Keys must stay distinct."""
        columns, runs = self._spilled()
        other = PostingRuns(self._folder, self._name + "-remapped", counts=self._counts)
        for start, end in runs:
            keys = new_key[columns["keys"][start:end]]
            kept = np.flatnonzero(keys >= 0)
            order = kept[np.argsort(keys[kept], kind="stable")]  # docs stay ascending within a key
            other.add_run(keys[order], columns["docs"][start:end][order],
                          columns["tf"][start:end][order] if self._counts else None)
        del columns
        self._remove()
        return other

    def merge(self, docs_path: Path, offsets: NpyAppender, keys: NpyAppender | None = None,
              tf: NpyAppender | None = None, *, budget: int = 1 << 22) -> None:
        """Write every key's list, in key order: ids to ``docs_path``, list starts to ``offsets``
        (closed with the total), and when given the distinct keys and the per-pair counts."""
        columns, runs = self._spilled()
        compressor = zlib.compressobj(6)
        written = 0
        with open(docs_path, "wb") as out:
            for lo, hi in _key_ranges(columns.get("keys"), runs, budget):
                pieces = [(_position(columns["keys"], start, end, lo), _position(columns["keys"], start, end, hi))
                          for start, end in runs]
                pieces = [(a, b) for a, b in pieces if b > a]
                if not pieces:
                    continue
                range_keys = np.concatenate([columns["keys"][a:b] for a, b in pieces])
                # runs are concatenated in paragraph order, so a stable sort by key keeps every
                # list's ids ascending
                order = np.argsort(range_keys, kind="stable")
                range_keys = range_keys[order]
                docs = np.concatenate([columns["docs"][a:b] for a, b in pieces])[order]
                distinct, starts = np.unique(range_keys, return_index=True)
                out.write(compressor.compress(_deltas(docs, np.append(starts, len(range_keys))).tobytes()))
                offsets.append(starts + written)
                if keys is not None:
                    keys.append(distinct)
                if tf is not None:
                    tf.append(np.concatenate([columns["tf"][a:b] for a, b in pieces])[order])
                written += len(range_keys)
            out.write(compressor.flush())
        offsets.append([written])
        for appender in (offsets, keys, tf):
            if appender is not None:
                appender.close()
        del columns
        self._remove()


def _position(keys: np.ndarray, start: int, end: int, key: np.uint32 | None) -> int:
    """Where ``key`` would go in the sorted run ``keys[start:end]`` (None: at its end)."""
    return end if key is None else start + int(np.searchsorted(keys[start:end], key))


def _key_ranges(keys: np.ndarray, runs: list[tuple[int, int]], budget: int):
    """Half-open key ranges ``[lo, hi)`` covering every key (None: unbounded), each holding about
    ``budget`` pairs. The keys are uint32 numpy scalars: a Python int would make numpy convert a
    whole run to compare with it."""
    if not runs:
        return
    sample = np.sort(np.concatenate([keys[start:end:_SAMPLE_STEP] for start, end in runs]))
    lo = np.uint32(0)
    for hi in np.unique(sample[:: max(1, budget // _SAMPLE_STEP)])[1:]:
        yield lo, hi
        lo = hi
    yield lo, None
