"""Lines of a mapped UTF-8 text file, one string a line, found by where each starts
(:class:`MappedLines`: the match index's titles and vocabulary, the completion index's phrases) or
where each block of lines starts (:class:`SparseLines`: the completion index's spellings, a few
bytes a line less), and writing such a file (:func:`write_lines`).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class MappedLines(Sequence):
    """The lines of a UTF-8 text file, mapped, each decoded when asked for: ``starts`` holds where
    each line starts, then one past the end of the last as if a newline followed it."""

    def __init__(self, path: Path, starts: np.ndarray):
        self.data = map_bytes(path)
        self.starts = starts
        if len(starts) < 1 or int(starts[-1]) != len(self.data) + 1:
            raise ValueError(f"{path}: does not match its line starts")
        self._starts = memoryview(starts)  # bisected as Python ints, no numpy call per step

    def __len__(self) -> int:
        return len(self.starts) - 1

    def _line(self, i: int) -> bytes:
        return self.data[self._starts[i] : self._starts[i + 1] - 1]

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._line(i % len(self)).decode("utf-8")

    def _first_not_below(self, target: bytes) -> int:
        """In sorted lines: the position of the first line not below ``target`` (bytes compared as
        mapped: UTF-8 sorts as the code points do), decoding and keeping nothing."""
        data, starts = self.data, self._starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if data[starts[mid] : starts[mid + 1] - 1] < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def find(self, line: str) -> int:
        """The position of ``line`` in these sorted lines, or -1."""
        target = line.encode("utf-8", "surrogatepass")
        at = self._first_not_below(target)
        return at if at < len(self) and self._line(at) == target else -1

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """``(lo, hi)``: the sorted lines that begin with ``prefix`` are those at ``lo`` … ``hi - 1``."""
        target = prefix.encode("utf-8", "surrogatepass")
        # every line that begins with the prefix sorts below it followed by 0xFF, a byte UTF-8 never uses
        return self._first_not_below(target), self._first_not_below(target + b"\xff")

    def all(self) -> list[str]:
        """Every line, decoded at once."""
        return self.data[:].decode("utf-8").split("\n") if len(self) else []


class SparseLines(MappedLines):
    """Sorted lines of a UTF-8 text file, mapped, with the start of only one line in ``every``
    (``starts``: those, then the number of lines): a line is found from its block's start, the
    block by bisecting the first lines of the blocks."""

    def __init__(self, path: Path, starts: np.ndarray, every: int):
        self.data = map_bytes(path)
        self.every = every
        self.starts, self._count = starts[:-1], int(starts[-1]) if len(starts) else -1
        if self._count < 0 or len(self.starts) != -(-self._count // every):
            raise ValueError(f"{path}: does not match its line starts")
        self._starts = memoryview(self.starts) if len(self.starts) else ()

    def __len__(self) -> int:
        return self._count

    def _line(self, i: int) -> bytes:
        data = self.data
        at = self._starts[i // self.every]
        for _ in range(i % self.every):
            at = data.find(b"\n", at) + 1
        end = data.find(b"\n", at)
        return data[at : end if end >= 0 else len(data)]

    def _first_not_below(self, target: bytes) -> int:
        lo, hi = 0, len(self._starts)  # the blocks whose first line is below target: [0, lo)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._line(mid * self.every) < target:
                lo = mid + 1
            else:
                hi = mid
        at = max(lo - 1, 0) * self.every
        while at < len(self) and self._line(at) < target:
            at += 1
        return at


def map_bytes(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, mapped read-only (an empty file cannot be mapped: then ``b""``)."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return b""
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def write_lines(text_path: Path, starts_path: Path, lines: Sequence[str], every: int = 1) -> int:
    """Write ``lines`` (none holding a newline) as :class:`MappedLines` reads them: the text, a
    newline between two lines, and the ``uint32`` start of each line with one more past the end;
    with ``every`` > 1, as :class:`SparseLines` reads them. Returns how many lines were written."""
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    if len(newlines) != max(len(lines) - 1, 0):
        raise ValueError("a line cannot hold a newline")
    starts = np.concatenate(([0], newlines + 1)) if lines else np.zeros(0, dtype=np.int64)
    Path(text_path).write_bytes(data)
    ends = [len(data) + 1] if every == 1 else [len(lines)]
    np.save(starts_path, np.concatenate((starts[::every], ends)).astype(np.uint32))
    return len(lines)
