"""Encoding one term's postings in the layout Whoosh 3's postings writer writes, a block at a time,
and the term table they are listed in (:class:`TermWriter`, :class:`TermTable`).
"""

from __future__ import annotations

import io
import pickle
import zlib
from array import array
from typing import Sequence

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.fields import Schema
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from . import blocks
from .documents import _F32_STRUCT, _U32_STRUCT, Postings
from .words_format import CompactCharacters

# A block of fewer postings is stored uncompressed: zlib's fixed cost (~80 µs a call) buys nothing
# on a few dozen bytes, and most terms have a handful of postings.
_COMPRESS_FROM = 16
_COMPRESSION = 6  # zlib level of the longer blocks (xwlb's postings: 3 → 6 saves 0.7 MB, 9 nothing more)
# A term of at most this many postings keeps them in its term info (W3TermInfo's inlined form):
# a posting block of its own costs a header, a length and a pickled block info (~40 bytes), and
# the term info an extent (12 bytes), more than the postings themselves.
INLINE_AT_MOST = 8  # at least 1: a term of one posting is always inlined (TermWriter._add_one)
# Postings a block holds, at most. Whoosh writes 128; on xwlb 1,024 made the postings 30.3 → 26.0 MB
# (a block's header, length and pickle framing are paid 8 times less often, and zlib sees more),
# and Whoosh's own searches were as fast, side by side on both builds (300 scored term queries,
# 200 two-word phrases, 100 more-like-this: 0.2, 23 and 30 ms each, within the runs' spread).
BLOCK_LIMIT = 1024
_TERM_INFO = W3TermInfo._struct
_PROTOCOL = 3  # of a block's pickled body: see _FastPickler


class TermWriter:
    """Writes each term's postings to a postings file in the layout ``W3PostingsWriter`` writes
    (blocks of up to :data:`BLOCK_LIMIT` postings, each a pickled header and a pickled, possibly
    compressed, body) and gives the ``W3TermInfo`` to store, but a block at a time instead of a
    posting at a time, without its per-posting checks: Whoosh's fixed cost per term and per posting
    would dominate the build (most terms have a handful of postings). Two choices Whoosh's reader
    accepts save a quarter of xwlb's Whoosh index: bodies pickled with protocol 3 (see
    :class:`_FastPickler`), and short lists inlined in the term info (:data:`INLINE_AT_MOST`)."""

    def __init__(self, postfile):
        self._postfile = postfile
        self.offset = postfile.tell()
        self._blocklimit = BLOCK_LIMIT
        self._dumps = _FastPickler()

    def add(self, postings: Postings, fixed_size: int | None, columns: bool = False) -> tuple[bytes, int | None, int]:
        """Write one term's postings; its term info (without the extent), offset and length — or,
        for a term of at most :data:`INLINE_AT_MOST` postings, its term info with the postings
        inlined (Whoosh's own ``W3TermInfo`` layout, read by ``W3Codec.postings_reader``), no
        offset and length 0. With ``columns`` (a ``CompactCharacters`` field) each block is
        written column by column (:mod:`search.segment.blocks`)."""
        if len(postings[0]) == 4:
            return self._add_one(postings, fixed_size)
        docs, weights, sizes, lengths = array("I"), array("f"), array("I"), array("I")
        docs.frombytes(postings[0])
        weights.frombytes(postings[1])
        joined = postings[2]
        sizes.frombytes(postings[3])
        lengths.frombytes(postings[4])
        if fixed_size is None or fixed_size < 0:  # values of their own sizes: cut them apart
            values, at, offsets = [], 0, [0]
            for size in sizes:
                values.append(joined[at : at + size])
                at += size
                offsets.append(at)
        elif fixed_size:
            values = [joined[at : at + fixed_size] for at in range(0, len(joined), fixed_size)]
        columns = columns and (fixed_size is None or fixed_size < 0)
        count, limit = len(docs), self._blocklimit
        if count <= INLINE_AT_MOST:
            return self._inlined(docs, weights, None if fixed_size == 0 else values, lengths), None, 0
        compression = _COMPRESSION if count >= _COMPRESS_FROM else 0
        chunks = [WHOOSH3_HEADER_MAGIC]
        total_weight, max_weight, min_length, max_length = 0.0, 0, None, 0
        for start in range(0, count, limit):
            ids = docs[start : start + limit]
            block_weights = weights[start : start + limit]
            block_lengths = [n for n in lengths[start : start + limit] if n]
            if fixed_size == 0:
                block_values = None
            elif fixed_size is None or fixed_size < 0:
                block_values = tuple(v for v in values[start : start + limit] if v)
            else:  # values of one size, stored joined
                block_values = joined[start * fixed_size : (start + limit) * fixed_size]
            first_weight = block_weights[0]
            if all(w == first_weight for w in block_weights):
                mini_weights = None if first_weight == 1.0 else first_weight
            else:
                # a whole weight pickled as an int: 2 bytes, not a float's 9 (Whoosh scores either)
                mini_weights = tuple(int(w) if w.is_integer() else w for w in block_weights)
            data = None
            if columns:
                end = min(start + limit, count)
                data = blocks.encode(ids, block_weights, joined[offsets[start]:offsets[end]], sizes[start:end])
                block_compression = blocks.COLUMNS
            elif fixed_size and fixed_size > 0:  # e.g. title's frequencies: 4 bytes each
                data = blocks.encode_fixed(ids, block_weights, block_values, fixed_size)
                block_compression = blocks.FIXED_COLUMNS
            if data is None:
                block_compression = compression
                deltas = [ids[0]]
                deltas.extend(b - a for a, b in zip(ids, ids[1:]))
                data = self._dumps((tuple(deltas), mini_weights, block_values))
                if compression:
                    data = zlib.compress(data, compression)
            block_max_weight = max(max(block_weights), 0)
            block_min = min(block_lengths) if block_lengths else None
            block_max = max(block_lengths) if block_lengths else 0
            info = pickle.dumps((len(ids), ids[-1], _whole(block_max_weight), block_compression,
                                 length_to_byte(block_min), length_to_byte(block_max)), 2)
            size = len(info) + len(data)
            chunks += (pack_int(-size if start + limit >= count else size), info, data)
            total_weight += sum(block_weights)
            max_weight = max(max_weight, block_max_weight)
            if min_length is None:
                min_length = block_min
            elif block_min is not None:
                min_length = min(min_length, block_min)
            max_length = max(max_length, block_max)
        written = b"".join(chunks)
        self._postfile.write(written)
        info = _TERM_INFO.pack(False, total_weight, count, length_to_byte(min_length), length_to_byte(max_length),
                               max_weight, docs[0], docs[-1])
        offset = self.offset
        self.offset += len(written)
        return info, offset, len(written)


    def _add_one(self, postings: Postings, fixed_size: int | None) -> tuple[bytes, None, int]:
        """:meth:`add` for a term of one posting (a third of them), without the arrays and loops:
        always inlined (``INLINE_AT_MOST`` is at least 1)."""
        (docnum,), (weight,), (length,) = (_U32_STRUCT.unpack(postings[0]), _F32_STRUCT.unpack(postings[1]),
                                           _U32_STRUCT.unpack(postings[4]))
        return self._inlined((docnum,), (weight,), (postings[2],) if fixed_size != 0 else None, (length,)), None, 0

    def _inlined(self, docs: Sequence[int], weights: Sequence[float], values: Sequence[bytes] | None,
                 lengths: Sequence[int]) -> bytes:
        """The term info of a term whose postings are inlined in it, as ``W3TermInfo.to_bytes``
        writes it: ``(ids, weights, values)`` pickled after the header; weights ``None`` when all
        are 1 (``ListMatcher`` then reads 1.0), values ``None`` for a format without values."""
        present = [n for n in lengths if n]
        min_length = length_to_byte(min(present)) if present else 0
        max_length = length_to_byte(max(present)) if present else 0
        mini_weights = None if all(w == 1.0 for w in weights) else tuple(map(_whole, weights))
        info = _TERM_INFO.pack(True, float(sum(weights)), len(docs), min_length, max_length, max(max(weights), 0),
                               docs[0], docs[-1])
        return info + self._dumps((tuple(docs), mini_weights, None if values is None else tuple(values)))


def _whole(weight: float) -> float | int:
    """``weight`` as an int when it is whole: pickled in 2 bytes instead of 9."""
    return int(weight) if weight.is_integer() else weight


def field_encoding(fieldobj) -> tuple[int | None, bool]:
    """The size of every value of a field (0: none; None or negative: their own sizes), and
    whether its blocks are written column by column (a ``CompactCharacters`` field)."""
    return fieldobj.format.fixed_value_size(), isinstance(fieldobj.format, CompactCharacters)


class TermTable:
    """A ``W3FieldWriter``'s term table, filled in (field, term) order."""

    def __init__(self, fieldwriter, schema: Schema):
        self._writer, self._schema = fieldwriter, schema
        self._field = None
        self._prefix = b""
        self._encoding = (None, False)

    def encoding(self, name: str) -> tuple[int | None, bool]:
        """How field ``name``'s postings are written: :func:`field_encoding`."""
        if name != self._field:
            return field_encoding(self._schema[name])
        return self._encoding

    def add(self, name: str, term: bytes, info: bytes, offset: int | None, length: int) -> None:
        """Add a term: ``info`` and its postings' extent, or ``info`` alone when the postings are
        inlined in it (``offset`` None)."""
        if name != self._field:
            if self._field is not None:
                self._writer.finish_field()
            self._writer.start_field(name, self._schema[name])
            self._field, self._prefix = name, pack_ushort(self._writer._fieldid)
            self._encoding = field_encoding(self._schema[name])
        extent = b"" if offset is None else pack_long(offset) + pack_int(length)
        self._writer._tindex.add(self._prefix + term, info + extent)

    def finish(self) -> None:
        if self._field is not None:
            self._writer.finish_field()


class _FastPickler:
    """``pickle.dumps(value, 3)`` without the memo: Whoosh's reader loads the same tuple, and a
    block's values are all distinct objects, so memo entries would only add two bytes each.

    Protocol 3, not the 2 that ``W3PostingsWriter`` writes: protocol 2 has no opcode for bytes and
    pickles each value as a call to ``_codecs.encode`` of a latin-1 string (a 4-byte value took
    ~40 bytes, 3 of its bytes doubled by UTF-8); protocol 3 writes it as 2 bytes and the value.
    Whoosh's reader unpickles any protocol, so builds written with 2 still read."""

    def __init__(self):
        self._out = io.BytesIO()
        self._pickler = pickle.Pickler(self._out, _PROTOCOL)
        self._pickler.fast = True

    def __call__(self, value) -> bytes:
        out = self._out
        out.seek(0)
        out.truncate()
        self._pickler.dump(value)
        return out.getvalue()
