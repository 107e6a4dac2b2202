"""One-dimensional ``.npy`` arrays: written when their length is known only at the end
(:class:`NpyAppender`), and mapped read-only in every worker (:func:`mapped`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def mapped(path: Path) -> np.ndarray:
    """The ``.npy`` array at ``path``, memory-mapped read-only, as a plain ndarray view (slicing an
    ``np.memmap`` costs microseconds of bookkeeping per slice; the view still shares the pages)."""
    return np.asarray(np.load(path, mmap_mode="r"))


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
