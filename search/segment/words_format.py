"""The ``words`` field's postings format and the items a field's postings are made of.

:func:`field_items` gives what ``FieldType.index`` would yield for a value already cut into
tokens elsewhere (jieba, in a worker process), encoded by the field's own format, so the bytes are
Whoosh's. :class:`CompactCharacters` is Whoosh's ``Characters`` format in about a quarter of the
bytes; it is pickled into every build's schema.
"""

from __future__ import annotations

from array import array
from typing import Iterable

import numpy as np
from whoosh import formats
from whoosh.analysis import Token
from whoosh.system import pack_uint

from . import blocks
from .posting_table import ranges as _ranges

Item = tuple[bytes, int, float, bytes]  # (term, frequency, weight, encoded value): FieldType.index's items


def field_items(fieldobj, spans: Iterable[tuple[str, int, int, int]]) -> list[Item]:
    """``fieldobj.index(value)`` for a value already cut into ``(word, position, startchar, endchar)``
    tokens (tokens of weight 1): the field's own format encodes them, so the bytes are Whoosh's."""
    fmt = fieldobj.format
    encode = _ENCODERS.get(type(fmt))
    if encode is None:  # any other format: replay the tokens through its own word_values
        return _replayed_items(fmt, spans)
    places: dict[str, list[tuple[int, int, int]]] = {}
    for word, position, start, end in spans:
        found = places.get(word)
        if found is None:
            places[word] = [(position, start, end)]
        else:
            found.append((position, start, end))
    boost = fmt.field_boost
    return [(word.encode("utf-8"), len(found), len(found) * boost, encode(fmt, found))
            for word, found in places.items()]


class CompactCharacters(formats.Characters):
    """Whoosh's ``Characters`` format — per posting, each occurrence's position and character
    span — in about a quarter of the bytes: instead of a pickled list of tuples, the differences
    (position, start from the previous start, length) as one-, two- or four-byte numbers, after a
    byte saying which. Decodes to exactly what ``Characters`` decodes to."""

    def encode(self, poslist) -> bytes:
        if len(poslist) == 1:  # the common case: one occurrence
            position, start, end = poslist[0]
            if 0 <= position < 256 and 0 <= start < 256 and 0 <= end - start < 256:
                return bytes((1, position, start, end - start))
        numbers = []
        previous_position = previous_start = 0
        for position, start, end in poslist:
            numbers += (position - previous_position, start - previous_start, end - start)
            previous_position, previous_start = position, start
        return blocks.pack_numbers(numbers)

    @staticmethod
    def _numbers(value: bytes):
        width = value[0]
        if width == 1:
            return value[1:]
        numbers = array("H" if width == 2 else "i")
        numbers.frombytes(value[1:])
        return blocks.little_endian(numbers, to_bytes=False)

    def decode_characters(self, value: bytes) -> list[tuple[int, int, int]]:
        numbers = self._numbers(value)
        places, position, start = [], 0, 0
        for i in range(0, len(numbers), 3):
            position += numbers[i]
            start += numbers[i + 1]
            places.append((position, start, start + numbers[i + 2]))
        return places

    def decode_positions(self, value: bytes) -> list[int]:
        numbers = self._numbers(value)
        positions, position = [], 0
        for delta in numbers[::3]:
            position += delta
            positions.append(position)
        return positions

    def decode_frequency(self, value: bytes) -> int:
        return (len(value) - 1) // (3 * value[0])

    def decode_weight(self, value: bytes) -> float:
        return self.decode_frequency(value) * self.field_boost


_WIDTHS = ((1, np.dtype("<u1")), (2, np.dtype("<u2")), (4, np.dtype("<i4")))  # as blocks.pack_numbers writes them


def compact_values(counts: np.ndarray, positions: np.ndarray, starts: np.ndarray, ends: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`CompactCharacters.encode` of many postings at once, in numpy: posting ``i`` has the
    next ``counts[i]`` (at least 1) of the occurrences ``(positions, starts, ends)``. Returns each
    value's size and the values one after another (uint8), byte for byte what ``encode`` gives."""
    counts = np.asarray(counts, dtype=np.int64)
    positions, starts, ends = (np.asarray(column, dtype=np.int64) for column in (positions, starts, ends))
    firsts = np.cumsum(counts) - counts  # each posting's first occurrence
    numbers = np.empty(3 * len(positions), dtype=np.int64)
    for column, values in enumerate((positions, starts)):
        deltas = np.diff(values, prepend=0)
        deltas[firsts] = values[firsts]  # a posting's first occurrence counts from 0
        numbers[column::3] = deltas
    numbers[2::3] = ends - starts
    if not len(counts):
        return np.empty(0, np.int64), np.empty(0, np.uint8)
    low, high = np.minimum.reduceat(numbers, 3 * firsts), np.maximum.reduceat(numbers, 3 * firsts)
    widths = np.where((low >= 0) & (high < 1 << 8), 1, np.where((low >= 0) & (high < 1 << 16), 2, 4))
    if ((widths == 4) & ((low < -(1 << 31)) | (high >= 1 << 31))).any():
        raise OverflowError("a number outside the 32-bit range")
    sizes = 1 + 3 * counts * widths
    value_starts = np.cumsum(sizes) - sizes
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    out[value_starts] = widths
    for width, dtype in _WIDTHS:
        chosen = np.flatnonzero(widths == width)
        if len(chosen):
            taken = numbers[_ranges(3 * firsts[chosen], 3 * counts[chosen])].astype(dtype)
            out[_ranges(value_starts[chosen] + 1, 3 * counts[chosen] * width)] = taken.view(np.uint8)
    return sizes, out


# What each format's word_values encodes, given a word's (position, startchar, endchar) list
_ENCODERS = {
    formats.Existence: lambda fmt, places: b"",
    formats.Frequency: lambda fmt, places: pack_uint(len(places)),
    formats.Positions: lambda fmt, places: fmt.encode([position for position, _, _ in places]),
    formats.Characters: lambda fmt, places: fmt.encode(places),
    CompactCharacters: lambda fmt, places: fmt.encode(places),
}


def _replayed_items(fmt, spans) -> list[Item]:
    spans = list(spans)

    def replay(value, **kwargs):
        token = Token(**kwargs)
        for word, position, start, end in spans:
            token.text, token.pos, token.startchar, token.endchar = word, position, start, end
            token.boost, token.stopped = 1.0, False
            yield token

    return [(word.encode("utf-8"), freq, weight, value)
            for word, freq, weight, value in fmt.word_values("", replay, mode="index")]
