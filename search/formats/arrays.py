"""One-dimensional ``.npy`` arrays: written when their length is known only at the end
(:class:`NpyAppender`), and mapped read-only in every worker (:func:`mapped`).
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np


def mapped(path: Path) -> np.ndarray:
    """The ``.npy`` array at ``path``, memory-mapped read-only, as a plain ndarray view (slicing an
    ``np.memmap`` costs microseconds of bookkeeping per slice; the view still shares the pages)."""
    return np.asarray(np.load(path, mmap_mode="r"))


def release_pages(*arrays: np.ndarray) -> None:
    """Drop the pages of memory-mapped ``arrays`` from this process's resident memory: they stay
    in the page cache and are read back if touched again, but a step done with a segment's files
    no longer holds them (a build reading segment after segment would otherwise hold them all).
    Arrays not mapped from a file are left alone."""
    for array in arrays:
        base = array
        while base is not None and not isinstance(base, mmap.mmap):
            base = getattr(base, "_mmap", None) or getattr(base, "base", None)
        if base is not None and hasattr(mmap, "MADV_DONTNEED") and not base.closed:
            base.madvise(mmap.MADV_DONTNEED)


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
