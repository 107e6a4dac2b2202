"""Encoding one term's postings in the layout Whoosh 3's postings writer writes, a block at a time,
and the term table they are listed in (:class:`TermWriter`, :class:`TermTable`).
"""

from __future__ import annotations

import io
import pickle
from typing import Callable, Iterator, Sequence

import numpy as np

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.fields import Schema
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from .long_lists import Block, long_list_blocks
from .posting_table import PostingTable
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

    def add_table(self, table: PostingTable, encoding: Callable[[str], tuple[int | None, bool]]
                  ) -> Iterator[tuple[str, bytes, bytes, int | None, int]]:
        """Write the postings of every key of ``table``; yield each key's field, term, term info
        (without the extent), offset and length — or, for a term of at most
        :data:`INLINE_AT_MOST` postings, its term info with the postings inlined (Whoosh's own
        ``W3TermInfo`` layout, read by ``W3Codec.postings_reader``), no offset and length 0.
        ``encoding`` gives a field's :func:`field_encoding`: with ``columns`` (a
        ``CompactCharacters`` field) each block is written column by column
        (:mod:`search.segment.blocks`).

        Postings of the short lists that are inlined become Python objects (at most
        :data:`INLINE_AT_MOST` a term); longer lists are written a block at a time from the
        table's columns."""
        counts = table.counts
        short = counts <= INLINE_AT_MOST
        in_short = np.repeat(short, counts)
        docs, weights, lengths = (column[in_short].tolist() for column in (table.docs, table.weights, table.lengths))
        value_ends = np.cumsum(table.sizes, dtype=np.int64)
        value_starts = (value_ends - table.sizes)[in_short].tolist()
        value_ends = value_ends[in_short].tolist()
        values = table.values.tobytes()
        long_lists = iter(long_list_blocks(table, np.flatnonzero(~short), self._blocklimit, encoding, self._dumps,
                                           lambda count: _COMPRESSION if count >= _COMPRESS_FROM else 0))
        at = 0  # in the short lists' postings
        field, fixed_size = None, None
        for (name, term), count in zip(table.keys, counts.tolist()):
            if name != field:
                field = name
                fixed_size = encoding(name)[0]
            if count <= INLINE_AT_MOST:
                to = at + count
                kept = None if fixed_size == 0 else tuple(values[a:b] for a, b in zip(value_starts[at:to],
                                                                                      value_ends[at:to]))
                yield name, term, self._inlined(docs[at:to], weights[at:to], kept, lengths[at:to]), None, 0
                at = to
            else:
                yield name, term, *self._write(next(long_lists))

    def _write(self, term_blocks: list[Block]) -> tuple[bytes, int, int]:
        """Write one term's blocks (:func:`~search.segment.long_lists.long_list_blocks`); its term
        info, offset and length."""
        chunks = [WHOOSH3_HEADER_MAGIC]
        total_weight, max_weight, min_length, max_length, count = 0.0, 0, None, 0, 0
        for i, block in enumerate(term_blocks):
            postings, _, last, block_max_weight, compression, block_min, block_max, weight_sum, data = block
            info = pickle.dumps((postings, last, _whole(block_max_weight), compression, length_to_byte(block_min),
                                 length_to_byte(block_max)), 2)
            size = len(info) + len(data)
            chunks += (pack_int(-size if i == len(term_blocks) - 1 else size), info, data)
            total_weight += weight_sum
            max_weight = max(max_weight, block_max_weight)
            if min_length is None:
                min_length = block_min
            elif block_min is not None:
                min_length = min(min_length, block_min)
            max_length = max(max_length, block_max)
            count += postings
        written = b"".join(chunks)
        self._postfile.write(written)
        info = _TERM_INFO.pack(False, total_weight, count, length_to_byte(min_length), length_to_byte(max_length),
                               max_weight, term_blocks[0][1], term_blocks[-1][2])
        offset = self.offset
        self.offset += len(written)
        return info, offset, len(written)

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
