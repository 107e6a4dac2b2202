"""Documents analysed and grouped in a worker process, ready for :class:`~search.segment.writer.SortedSegmentWriter`.

:meth:`DocumentBatch.of` turns consecutive documents — per field its value, or the ``(term,
frequency, weight, encoded value)`` items of :func:`~search.segment.words_format.field_items` —
into what each document stores (values, field lengths, column values) and the batch's postings
grouped by (field, term), as plain bytes that cross process boundaries cheaply.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from whoosh.fields import Schema

from .words_format import Item

Key = tuple[str, bytes]  # (field name, term)

_U32_STRUCT, _F32_STRUCT = struct.Struct("=I"), struct.Struct("=f")  # array("I") and array("f") items
_U32, _F32 = _U32_STRUCT.pack, _F32_STRUCT.pack
# Postings of one term in document order: numbers, weights, the encoded values one after another
# and their sizes, field lengths (numbers, sizes and lengths as the bytes of array("I"), weights of
# array("f")). A plain tuple of bytes: it crosses process boundaries and is spilled to disk, where
# a class, or one object per value, would be pickled again and again.
Postings = tuple[bytes, bytes, bytes, bytes, bytes]


def join_postings(parts: Sequence[Postings]) -> Postings:
    """One term's postings from consecutive parts."""
    if len(parts) == 1:
        return parts[0]
    return tuple(b"".join(column) for column in zip(*parts))


@dataclass
class DocumentBatch:
    """Consecutive documents, analysed and grouped for :meth:`SortedSegmentWriter.add_batch`."""

    first: int  # the first document's number
    stored: list[list[tuple[str, object, int, object]]]  # per document: (field, stored, length, column value)
    keys: list[Key]  # sorted
    postings: list[Postings]  # per key

    @classmethod
    def of(cls, schema: Schema, first: int,
           documents: Iterable[tuple[Mapping[str, object], Mapping[str, Sequence[Item]]]]) -> "DocumentBatch":
        """The batch of ``documents`` numbered from ``first``: each is ``(values, items)`` —
        ``values`` per field (indexed by the field, stored if it stores, in its column if it has
        one) and, for fields analysed elsewhere, their ``items`` (their value is then only stored)."""
        stored = []
        grouped: dict[str, dict[bytes, list[tuple[int, float, bytes, int]]]] = {}  # field → term → postings
        indexed: dict[tuple[str, object], list[Item]] = {}  # field.index(value), for values that recur
        for docnum, (values, items) in enumerate(documents, start=first):
            row = []
            for name in sorted(values.keys() | items.keys()):
                fieldobj = schema[name]
                value = values.get(name)
                length = 0
                if fieldobj.indexed:
                    terms = items.get(name)
                    if terms is None:
                        terms = indexed.get((name, value))
                        if terms is None:
                            terms = indexed[name, value] = list(fieldobj.index(value)) if value is not None else []
                    if fieldobj.scorable:
                        length = sum(freq for _, freq, _, _ in terms)
                    by_term = grouped.get(name)
                    if by_term is None:
                        by_term = grouped[name] = {}
                    found = by_term.get
                    for term, _, weight, encoded in terms:
                        postings = found(term)
                        if postings is None:
                            by_term[term] = [(docnum, weight, encoded, length)]
                        else:
                            postings.append((docnum, weight, encoded, length))
                column = None
                if fieldobj.column_type is not None and value is not None:
                    column = fieldobj.to_column_value(value)
                row.append((name, value if fieldobj.stored else None, length, column))
            stored.append(row)
        keys, postings = [], []
        for name in sorted(grouped):
            by_term = grouped[name]
            for term in sorted(by_term):
                found = by_term[term]
                keys.append((name, term))
                if len(found) == 1:  # most terms of a batch
                    docnum, weight, value, length = found[0]
                    postings.append((_U32(docnum), _F32(weight), value, _U32(len(value)), _U32(length)))
                    continue
                docs, weights, values, lengths = zip(*found)
                postings.append((array("I", docs).tobytes(), array("f", weights).tobytes(), b"".join(values),
                                 array("I", map(len, values)).tobytes(), array("I", lengths).tobytes()))
        return cls(first, stored, keys, postings)
