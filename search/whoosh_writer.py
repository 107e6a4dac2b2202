"""Writing one Whoosh segment from postings sorted here, not through Whoosh's per-document pool.

Whoosh's ``add_document`` sends every posting through a pool of pickled tuples, sorted on disk
at commit: slow (issue #11). Here the work is split so that the costly part runs in worker
processes:

* :meth:`DocumentBatch.of` (in a worker) turns consecutive documents — per field its value, or
  the ``(term, frequency, weight, encoded value)`` items that ``FieldType.index`` would yield,
  computed from tokens already cut — into what each document stores (values, field lengths,
  column values) and the batch's postings grouped by (field, term);
* :class:`SortedSegmentWriter` (in the writing process) passes each document's stored part to the
  codec's ``PerDocumentWriter``, keeps a bounded number of postings, spills them to disk as runs
  sorted by (field, term), and at :meth:`~SortedSegmentWriter.commit` merges the runs and writes
  every term's postings, in document order, into the codec's ``FieldWriter`` (its postings file
  and term table) in the layout its postings writer writes, a block of up to :data:`BLOCK_LIMIT`
  postings at a time; a forked child encodes the upper half of the terms meanwhile.

A field of any Whoosh type is added the same way: declare it in the schema and pass its value.
``tests/test_whoosh_index.py`` checks that what is written reads back exactly as what Whoosh's
own ``add_document`` writes. ``words`` use :class:`CompactCharacters`, Whoosh's ``Characters``
format in fewer bytes.
"""

from __future__ import annotations

import bisect
import heapq
import io
import pickle
import shutil
import struct
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from whoosh import formats
from whoosh.analysis import Token
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte

from . import whoosh_blocks
from .whoosh_codec import ZhCodec

INDEX_NAME = "MAIN"  # Whoosh's default index name: open_dir(folder) finds it
_SPILL_CHUNK = 1024  # terms pickled together in a run file (the merge holds one chunk of each run)
# A block of fewer postings is stored uncompressed: zlib's fixed cost (~80 µs a call) buys nothing
# on a few dozen bytes, and most terms have a handful of postings.
_COMPRESS_FROM = 16
_COMPRESSION = 6  # zlib level of the longer blocks (xwlb's postings: 3 → 6 saves 0.7 MB, 9 nothing more)
# A term of at most this many postings keeps them in its term info (W3TermInfo's inlined form):
# a posting block of its own costs a header, a length and a pickled block info (~40 bytes), and
# the term info an extent (12 bytes), more than the postings themselves.
INLINE_AT_MOST = 8  # at least 1: a term of one posting is always inlined (_TermWriter._add_one)
# Postings a block holds, at most. Whoosh writes 128; on xwlb 1,024 made the postings 30.3 → 26.0 MB
# (a block's header, length and pickle framing are paid 8 times less often, and zlib sees more),
# and Whoosh's own searches were as fast, side by side on both builds (300 scored term queries,
# 200 two-word phrases, 100 more-like-this: 0.2, 23 and 30 ms each, within the runs' spread).
BLOCK_LIMIT = 1024

_TERM_INFO = W3TermInfo._struct
_PROTOCOL = 3  # of a block's pickled body: see _FastPickler
_U32_STRUCT, _F32_STRUCT = struct.Struct("=I"), struct.Struct("=f")  # array("I") and array("f") items
_U32, _F32 = _U32_STRUCT.pack, _F32_STRUCT.pack

Item = tuple[bytes, int, float, bytes]  # (term, frequency, weight, encoded value): FieldType.index's items
Key = tuple[str, bytes]  # (field name, term)


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
        return whoosh_blocks.pack_numbers(numbers)

    @staticmethod
    def _numbers(value: bytes):
        width = value[0]
        if width == 1:
            return value[1:]
        numbers = array("H" if width == 2 else "i")
        numbers.frombytes(value[1:])
        return whoosh_blocks.little_endian(numbers, to_bytes=False)

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


# Postings of one term in document order: numbers, weights, the encoded values one after another
# and their sizes, field lengths (numbers, sizes and lengths as the bytes of array("I"), weights of
# array("f")). A plain tuple of bytes: it crosses process boundaries and is spilled to disk, where
# a class, or one object per value, would be pickled again and again.
Postings = tuple[bytes, bytes, bytes, bytes, bytes]


def _join(parts: Sequence[Postings]) -> Postings:
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


class SortedSegmentWriter:
    """Writes ``schema``'s documents (numbered 0, 1, … in the order added) as one Whoosh segment
    in ``folder``; ``whoosh.index.open_dir(folder)`` opens it after :meth:`commit`.

    At most about ``budget`` postings are held in memory; then they are spilled as a sorted run.
    """

    def __init__(self, folder: Path, schema: Schema, *, budget: int = 1 << 19):
        self.folder = Path(folder)
        self.schema = schema
        self.doc_count = 0
        self._storage = FileStorage(str(self.folder))
        self._codec = ZhCodec()
        self._segment = self._codec.new_segment(self._storage, INDEX_NAME)
        self._perdoc = self._codec.per_document_writer(self._storage, self._segment)
        self._budget = budget
        self._buffer: dict[Key, list[Postings]] = {}
        self._buffered = 0
        self._runs: list[tuple[Path, list[tuple[Key, int]]]] = []  # each run's file and chunk index

    def add_document(self, values: Mapping[str, object], items: Mapping[str, Sequence[Item]] = {}) -> int:
        """Add the next document (see :meth:`DocumentBatch.of`); returns its number."""
        self.add_batch(DocumentBatch.of(self.schema, self.doc_count, [(values, items)]))
        return self.doc_count - 1

    def add_batch(self, batch: DocumentBatch) -> None:
        """Add the documents of ``batch``, which must be numbered from :attr:`doc_count` on."""
        if batch.first != self.doc_count:
            raise ValueError(f"batch starts at document {batch.first}, expected {self.doc_count}")
        perdoc, schema = self._perdoc, self.schema
        for docnum, row in enumerate(batch.stored, start=batch.first):
            perdoc.start_doc(docnum)
            for name, value, length, column in row:
                fieldobj = schema[name]
                perdoc.add_field(name, fieldobj, value, length)
                if column is not None:
                    perdoc.add_column_value(name, fieldobj.column_type, column)
            perdoc.finish_doc()
        self.doc_count += len(batch.stored)
        buffer = self._buffer
        for key, postings in zip(batch.keys, batch.postings):
            parts = buffer.get(key)
            if parts is None:
                buffer[key] = [postings]
            else:
                parts.append(postings)
            self._buffered += len(postings[0]) >> 2
        if self._buffered >= self._budget:
            self._spill()

    def _spill(self) -> None:
        """Write the buffered postings as one run sorted by (field, term); empty the buffer."""
        if not self._buffer:
            return
        path = self.folder / f"postings-{len(self._runs)}.run"
        entries = [(key, _join(parts)) for key, parts in sorted(self._buffer.items())]
        chunks = []  # (first key, offset) of each pickled chunk: where to start reading a key range
        with open(path, "wb") as out:
            for i in range(0, len(entries), _SPILL_CHUNK):
                chunks.append((entries[i][0], out.tell()))
                pickle.dump(entries[i : i + _SPILL_CHUNK], out, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append((path, chunks))
        self._buffer = {}
        self._buffered = 0

    def _merged(self, low: Key | None = None, high: Key | None = None) -> Iterator[tuple[Key, Postings]]:
        """Every (field, term) in ``[low, high)`` (None: unbounded) once, in order, with its
        postings from all runs in document order."""
        if not self._runs:  # everything fitted in memory
            for key, parts in sorted(self._buffer.items()):
                if (low is None or key >= low) and (high is None or key < high):
                    yield key, _join(parts)
            return
        runs = [_read_run(path, chunks, low, high) for path, chunks in self._runs]
        merged = heapq.merge(*runs, key=lambda entry: entry[0])
        current_key, parts = None, []
        for key, postings in merged:  # heapq.merge is stable: runs (and so documents) stay in order
            if key != current_key:
                if parts:
                    yield current_key, _join(parts)
                current_key, parts = key, []
            parts.append(postings)
        if parts:
            yield current_key, _join(parts)

    def commit(self) -> None:
        """Write the terms and postings, close the segment and write the index's table of contents.

        With spilled runs, the upper half of the terms is encoded by a forked child process into a
        file of its own while this one encodes the lower half; its postings are then appended and
        its terms added to the term table."""
        self._perdoc.close()
        if self._runs:  # the rest joins them; otherwise everything is still in memory
            self._spill()
        writer = self._codec.field_writer(self._storage, self._segment)
        split = self._split_key()
        upper = None
        if split is not None:
            upper = _Upper(self.folder, self._merged(split), self.schema)
        terms = _TermWriter(writer._postfile)
        table = _TermTable(writer, self.schema)
        for (name, term), postings in self._merged(None, split):
            table.add(name, term, *terms.add(postings, *table.encoding(name)))
        if upper is not None:
            upper.append_to(writer._postfile, table, base=terms.offset)
        table.finish()
        writer.close()
        self._remove_runs()
        self._segment.set_doc_count(self.doc_count)
        TOC(self.schema, [self._segment], 0).write(self._storage, INDEX_NAME)
        shutil.rmtree(self.folder / f"{INDEX_NAME}.tmp", ignore_errors=True)  # the per-doc writer's scratch

    def _split_key(self) -> Key | None:
        """A key with about as many spilled chunks below it as above (None: nothing to share)."""
        firsts = sorted(key for _, chunks in self._runs for key, _ in chunks)
        return firsts[len(firsts) // 2] if len(firsts) > 1 else None

    def cancel(self) -> None:
        """Stop without writing an index (the folder is left for the caller to remove)."""
        if not self._perdoc.is_closed:
            self._perdoc.close()
        self._remove_runs()

    def _remove_runs(self) -> None:
        for path, _ in self._runs:
            path.unlink(missing_ok=True)
        self._runs = []
        self._buffer = {}


class _TermWriter:
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
        written column by column (:mod:`search.whoosh_blocks`)."""
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
                data = whoosh_blocks.encode(ids, block_weights, joined[offsets[start]:offsets[end]], sizes[start:end])
                block_compression = whoosh_blocks.COLUMNS
            elif fixed_size and fixed_size > 0:  # e.g. title's frequencies: 4 bytes each
                data = whoosh_blocks.encode_fixed(ids, block_weights, block_values, fixed_size)
                block_compression = whoosh_blocks.FIXED_COLUMNS
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


def _encoding(fieldobj) -> tuple[int | None, bool]:
    """The size of every value of a field (0: none; None or negative: their own sizes), and
    whether its blocks are written column by column (a ``CompactCharacters`` field)."""
    return fieldobj.format.fixed_value_size(), isinstance(fieldobj.format, CompactCharacters)


class _TermTable:
    """A ``W3FieldWriter``'s term table, filled in (field, term) order."""

    def __init__(self, fieldwriter, schema: Schema):
        self._writer, self._schema = fieldwriter, schema
        self._field = None
        self._prefix = b""
        self._encoding = (None, False)

    def encoding(self, name: str) -> tuple[int | None, bool]:
        """How field ``name``'s postings are written: :func:`_encoding`."""
        if name != self._field:
            return _encoding(self._schema[name])
        return self._encoding

    def add(self, name: str, term: bytes, info: bytes, offset: int | None, length: int) -> None:
        """Add a term: ``info`` and its postings' extent, or ``info`` alone when the postings are
        inlined in it (``offset`` None)."""
        if name != self._field:
            if self._field is not None:
                self._writer.finish_field()
            self._writer.start_field(name, self._schema[name])
            self._field, self._prefix = name, pack_ushort(self._writer._fieldid)
            self._encoding = _encoding(self._schema[name])
        extent = b"" if offset is None else pack_long(offset) + pack_int(length)
        self._writer._tindex.add(self._prefix + term, info + extent)

    def finish(self) -> None:
        if self._field is not None:
            self._writer.finish_field()


class _Upper:
    """Terms encoded by a forked child process, into ``upper.pst`` and ``upper.terms`` (chunks of
    pickled ``(field, term, info, offset, length)``), while the parent encodes the others."""

    def __init__(self, folder: Path, entries: Iterator[tuple[Key, Postings]], schema: Schema):
        import multiprocessing

        self._postings, self._terms = folder / "upper.pst", folder / "upper.terms"
        self._child = multiprocessing.get_context("fork").Process(
            target=self._write, args=(entries, schema), name="zhsearch-whoosh-terms")
        self._child.start()

    def _write(self, entries, schema: Schema) -> None:
        encodings: dict[str, tuple[int | None, bool]] = {}  # per field (glob fields' names are known only here)
        with open(self._postings, "wb") as postfile, open(self._terms, "wb") as table:
            terms, rows = _TermWriter(postfile), []
            for (name, term), postings in entries:
                if name not in encodings:
                    encodings[name] = _encoding(schema[name])
                rows.append((name, term, *terms.add(postings, *encodings[name])))
                if len(rows) == _SPILL_CHUNK:
                    pickle.dump(rows, table, protocol=pickle.HIGHEST_PROTOCOL)
                    rows = []
            pickle.dump(rows, table, protocol=pickle.HIGHEST_PROTOCOL)

    def append_to(self, postfile, table: _TermTable, base: int) -> None:
        """Wait for the child; append its postings at offset ``base`` and add its terms to ``table``."""
        self._child.join()
        if self._child.exitcode != 0:
            raise RuntimeError(f"the process writing the upper terms failed (exit code {self._child.exitcode})")
        with open(self._postings, "rb") as source:
            while block := source.read(1 << 22):
                postfile.write(block)
        with open(self._terms, "rb") as terms:
            while True:
                try:
                    rows = pickle.load(terms)
                except EOFError:
                    break
                for name, term, info, offset, length in rows:
                    table.add(name, term, info, None if offset is None else base + offset, length)
        self._postings.unlink()
        self._terms.unlink()


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



def _read_run(path: Path, chunks: list[tuple[Key, int]], low: Key | None, high: Key | None
              ) -> Iterator[tuple[Key, Postings]]:
    """A run's entries with keys in ``[low, high)``, starting at the chunk that may hold ``low``."""
    start = 0
    if low is not None:
        i = bisect.bisect_right([key for key, _ in chunks], low) - 1
        start = chunks[max(i, 0)][1]
    with open(path, "rb") as run:
        run.seek(start)
        while True:
            try:
                chunk = pickle.load(run)
            except EOFError:
                return
            for entry in chunk:
                if high is not None and entry[0] >= high:
                    return
                if low is None or entry[0] >= low:
                    yield entry
