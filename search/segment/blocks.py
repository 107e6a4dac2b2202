"""Posting blocks of a ``words`` field column by column: the same postings in a fifth fewer bytes.

A posting of :class:`~search.segment.words_format.CompactCharacters` (Whoosh's ``Characters``: each
occurrence's position and character span) is a few numbers after a width byte. Whoosh's block
pickles the values one after another and zlib finds little to share between them: xwlb's
``words`` postings took 23.6 MB. Here a block holds its numbers column by column, each column in
the narrowest integer type its values fit — the gaps between document numbers, the occurrences per
posting, then per occurrence the position gap, the start gap and the length — and zstd compresses
them together (18.5 MB). A reader gives Whoosh back exactly the bytes the writer was given.

A block written so says :data:`COLUMNS` where Whoosh's block info holds its zlib level (0–9):
:class:`~search.segment.codec.ZhLeafMatcher` reads both kinds.

Body (before zstd): a header ``<I6B`` — occurrences, then the type code of the id gaps, counts,
positions, starts and lengths, and the weights' kind (0: each posting's weight is its number of
occurrences, 1: float32 weights follow) — then the columns in that order.
"""

from __future__ import annotations

import struct
import sys
import threading
from array import array
from typing import Sequence

import numpy as np
import zstandard

COLUMNS = 100  # a block's "compression" in its Whoosh block info: these columns, zstd-compressed
FIXED_COLUMNS = 101  # ... a block of values of one size (``title``'s frequencies): see encode_fixed
LEVEL = 9  # zstd level (xwlb's words: 3 → 18.8 MB, 9 → 18.5, 19 → 18.1 at ten times the time)
_HEADER = struct.Struct("<I6B")
_TYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 3: np.dtype("<u4"), 4: np.dtype("<i4")}
_WEIGHTS_ARE_COUNTS, _WEIGHTS_FOLLOW = 0, 1
_PAYLOAD_TYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<i4")}  # a value's width byte → its numbers
_local = threading.local()  # zstd (de)compressors must not be shared between threads


def pack_numbers(numbers: Sequence[int]) -> bytes:
    """A ``CompactCharacters`` value from its numbers: a width byte (1, 2 or 4), then the numbers
    as unsigned bytes, unsigned 16-bit or signed 32-bit little-endian integers."""
    low, high = min(numbers), max(numbers)
    if low >= 0 and high < 256:
        return bytes([1, *numbers])
    if low >= 0 and high < 65536:
        return b"\x02" + little_endian(array("H", numbers))
    return b"\x04" + little_endian(array("i", numbers))


def little_endian(numbers: array, to_bytes: bool = True):
    """``numbers`` in little-endian byte order (as bytes, or back from them)."""
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers.tobytes() if to_bytes else numbers


def numbers_of(joined: bytes, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The numbers of the ``CompactCharacters`` values ``joined`` one after another (``sizes``
    bytes each): how many each value holds, and all of them in order (int64); None when a value is
    not one (an unknown width, a size that does not divide)."""
    data = np.frombuffer(joined, dtype=np.uint8)
    sizes = np.asarray(sizes, dtype=np.int64)
    if not len(sizes) or (sizes < 1).any() or int(sizes.sum()) != len(data):
        return None
    ends = np.cumsum(sizes)
    starts = ends - sizes
    widths = data[starts].astype(np.int64)
    payload = sizes - 1
    if not np.isin(widths, (1, 2, 4)).all() or (payload % widths).any():
        return None
    counts = payload // widths
    if (widths == 1).all():  # the common case: every number below 256
        keep = np.ones(len(data), dtype=bool)
        keep[starts] = False
        return counts, data[keep].astype(np.int64)
    numbers = np.empty(int(counts.sum()), dtype=np.int64)
    first_number = np.cumsum(counts) - counts
    for width, dtype in _PAYLOAD_TYPES.items():
        chosen = np.flatnonzero(widths == width)
        if not len(chosen):
            continue
        taken = _ranges(starts[chosen] + 1, payload[chosen])
        numbers[_ranges(first_number[chosen], counts[chosen])] = data[taken].view(dtype)
    return counts, numbers


def _ranges(firsts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``firsts[i] + 0 … lengths[i] - 1`` for every ``i``, concatenated."""
    total = int(lengths.sum())
    offsets = np.repeat(firsts - (np.cumsum(lengths) - lengths), lengths)
    return offsets + np.arange(total, dtype=np.int64)


def _column(values: np.ndarray) -> tuple[int, bytes]:
    """``values`` in the narrowest of the column types, and its code."""
    if not len(values):
        return 1, b""
    low, high = int(values.min()), int(values.max())
    if low >= 0:
        code = 1 if high < 1 << 8 else 2 if high < 1 << 16 else 3 if high < 1 << 32 else None
    else:
        code = 4 if low >= -(1 << 31) and high < 1 << 31 else None
    if code is None:
        raise ValueError("a number outside the 32-bit range")
    return code, values.astype(_TYPES[code]).tobytes()


def encode(ids: Sequence[int], weights: Sequence[float], joined: bytes, sizes: Sequence[int]) -> bytes | None:
    """The compressed body of a block: postings ``ids`` (ascending) with their ``weights`` and
    ``CompactCharacters`` values (``joined``, ``sizes`` bytes each); None when the values are not
    all such values (the caller then writes Whoosh's block)."""
    parsed = numbers_of(joined, np.asarray(sizes))
    if parsed is None:
        return None
    counts, numbers = parsed
    if (counts % 3).any():
        return None
    occurrences = counts // 3
    ids = np.asarray(ids, dtype=np.int64)
    gaps = np.diff(ids, prepend=0)
    weights = np.asarray(weights, dtype=np.float32)
    weights_kind = _WEIGHTS_ARE_COUNTS if np.array_equal(weights, occurrences.astype(np.float32)) else _WEIGHTS_FOLLOW
    try:
        columns = [_column(gaps), _column(occurrences), _column(numbers[0::3]), _column(numbers[1::3]),
                   _column(numbers[2::3])]
    except ValueError:
        return None
    body = [_HEADER.pack(int(occurrences.sum()), *(code for code, _ in columns), weights_kind)]
    body += [data for _, data in columns]
    if weights_kind == _WEIGHTS_FOLLOW:
        body.append(weights.astype("<f4").tobytes())
    return _compressor().compress(b"".join(body))


_FIXED_HEADER = struct.Struct("<3B")  # type code of the id gaps, the weights' kind, their type code
_NO_WEIGHTS, _WHOLE_WEIGHTS, _FLOAT_WEIGHTS = 0, 1, 2  # all 1.0; whole numbers; float32


def encode_fixed(ids: Sequence[int], weights: Sequence[float], joined: bytes, size: int) -> bytes | None:
    """The compressed body of a block of postings whose values all have ``size`` bytes (``joined``):
    the id gaps and the weights as columns, the values as ``size`` planes (every value's first byte,
    then every second byte, …), so that a byte that hardly varies compresses to nothing. None when
    the values do not fill ``size`` bytes each."""
    count = len(ids)
    if size <= 0 or len(joined) != count * size:
        return None
    ids = np.asarray(ids, dtype=np.int64)
    try:
        gaps_code, gaps = _column(np.diff(ids, prepend=0))
    except ValueError:
        return None
    weights = np.asarray(weights, dtype=np.float32)
    if (weights == 1.0).all():
        kind, weights_code, weights_data = _NO_WEIGHTS, 1, b""
    elif (weights >= 0).all() and (weights == np.floor(weights)).all() and (weights < 2 ** 24).all():
        kind = _WHOLE_WEIGHTS
        weights_code, weights_data = _column(weights.astype(np.int64))
    else:
        kind, weights_code, weights_data = _FLOAT_WEIGHTS, 1, weights.astype("<f4").tobytes()
    planes = np.frombuffer(joined, dtype=np.uint8).reshape(count, size).T.tobytes()
    return _compressor().compress(_FIXED_HEADER.pack(gaps_code, kind, weights_code) + gaps + weights_data + planes)


class FixedColumnBlock:
    """A block :func:`encode_fixed` wrote, read back: ``count`` postings of ``size``-byte values."""

    def __init__(self, data: bytes, count: int, size: int):
        body = _decompressor().decompress(bytes(data))
        gaps_code, kind, weights_code = _FIXED_HEADER.unpack_from(body)
        at = _FIXED_HEADER.size
        dtype = _TYPES[gaps_code]
        self._gaps = np.frombuffer(body, dtype=dtype, count=count, offset=at).astype(np.int64)
        at += count * dtype.itemsize
        if kind == _NO_WEIGHTS:
            self._weights = np.ones(count, dtype=np.float32)
        elif kind == _WHOLE_WEIGHTS:
            dtype = _TYPES[weights_code]
            self._weights = np.frombuffer(body, dtype=dtype, count=count, offset=at).astype(np.float32)
            at += count * dtype.itemsize
        else:
            self._weights = np.frombuffer(body, dtype="<f4", count=count, offset=at)
            at += count * 4
        if len(body) - at != count * size:
            raise ValueError(f"a fixed column block of {len(body)} bytes holds {at + count * size}")
        self._values = np.frombuffer(body, dtype=np.uint8, offset=at).reshape(size, count).T.tobytes()
        self._size = size

    def ids(self) -> list[int]:
        """The document numbers, ascending."""
        return np.cumsum(self._gaps).tolist()

    def weights(self) -> array:
        """Each posting's weight, as Whoosh's block reader gives them."""
        return array("f", self._weights.astype(np.float32).tobytes())

    def values(self) -> tuple[bytes, ...]:
        """Each posting's value, as it was written."""
        values, size = self._values, self._size
        return tuple(values[i : i + size] for i in range(0, len(values), size))


def _compressor() -> zstandard.ZstdCompressor:
    try:
        return _local.compressor
    except AttributeError:
        _local.compressor = zstandard.ZstdCompressor(level=LEVEL, write_content_size=True, write_checksum=False)
        return _local.compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    try:
        return _local.decompressor
    except AttributeError:
        _local.decompressor = zstandard.ZstdDecompressor()
        return _local.decompressor


class ColumnBlock:
    """One block's postings read back from its compressed body; ``count`` postings."""

    def __init__(self, data: bytes, count: int):
        body = _decompressor().decompress(bytes(data))
        occurrences, *codes, weights_kind = _HEADER.unpack_from(body)
        at = _HEADER.size
        columns = []
        for code, length in zip(codes, (count, count, occurrences, occurrences, occurrences)):
            dtype = _TYPES[code]
            columns.append(np.frombuffer(body, dtype=dtype, count=length, offset=at).astype(np.int64))
            at += length * dtype.itemsize
        self._gaps, self.occurrences, self._positions, self._starts, self._lengths = columns
        self._weights = None
        if weights_kind == _WEIGHTS_FOLLOW:
            self._weights = np.frombuffer(body, dtype="<f4", count=count, offset=at)
            at += count * 4
        if at != len(body):
            raise ValueError(f"a column block of {len(body)} bytes holds {at}")

    def ids(self) -> list[int]:
        """The document numbers, ascending."""
        return np.cumsum(self._gaps).tolist()

    def weights(self) -> array:
        """Each posting's weight, as Whoosh's block reader gives them."""
        source = self.occurrences if self._weights is None else self._weights
        return array("f", source.astype(np.float32).tobytes())

    def values(self) -> tuple[bytes, ...]:
        """Each posting's ``CompactCharacters`` value, byte for byte as it was written."""
        numbers = np.empty(3 * len(self._positions), dtype=np.int64)
        numbers[0::3], numbers[1::3], numbers[2::3] = self._positions, self._starts, self._lengths
        ends = np.cumsum(3 * self.occurrences)
        starts = ends - 3 * self.occurrences
        small = np.ones(len(starts), dtype=bool)
        if len(numbers):
            nonempty = starts < ends
            small[nonempty] = ((np.maximum.reduceat(numbers, starts[nonempty]) < 256)
                               & (np.minimum.reduceat(numbers, starts[nonempty]) >= 0))
        as_bytes = numbers.astype(np.uint8).tobytes() if small.all() else None
        values = []
        for start, end, fits in zip(starts.tolist(), ends.tolist(), small.tolist()):
            if fits and as_bytes is not None:
                values.append(b"\x01" + as_bytes[start:end])
            elif fits:
                values.append(b"\x01" + numbers[start:end].astype(np.uint8).tobytes())
            else:
                values.append(pack_numbers(numbers[start:end].tolist()))
        return tuple(values)
