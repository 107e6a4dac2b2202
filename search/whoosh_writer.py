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
  every term's postings, in document order, through the codec's ``FieldWriter`` and postings
  writer, a block of up to 128 postings at a time.

A field of any Whoosh type is added the same way: declare it in the schema and pass its value.
"""

from __future__ import annotations

import heapq
import pickle
import shutil
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from whoosh import formats
from whoosh.analysis import Token
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.system import pack_uint

INDEX_NAME = "MAIN"  # Whoosh's default index name: open_dir(folder) finds it
_SPILL_CHUNK = 4096  # terms pickled together in a run file
# A block of fewer postings is stored uncompressed: zlib's fixed cost (~80 µs a call) buys nothing
# on a few dozen bytes, and most terms have a handful of postings.
_COMPRESS_FROM = 16

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


# What each format's word_values encodes, given a word's (position, startchar, endchar) list
_ENCODERS = {
    formats.Existence: lambda fmt, places: b"",
    formats.Frequency: lambda fmt, places: pack_uint(len(places)),
    formats.Positions: lambda fmt, places: fmt.encode([position for position, _, _ in places]),
    formats.Characters: lambda fmt, places: fmt.encode(places),
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


@dataclass
class Postings:
    """Postings of one term in document order: numbers, weights, encoded values, field lengths
    (the numbers, weights and lengths as the bytes of ``array("I")``/``array("f")``)."""

    docs: bytes = b""
    weights: bytes = b""
    values: list[bytes] = field(default_factory=list)
    lengths: bytes = b""

    @classmethod
    def joined(cls, parts: Sequence["Postings"]) -> "Postings":
        if len(parts) == 1:
            return parts[0]
        return cls(b"".join(p.docs for p in parts), b"".join(p.weights for p in parts),
                   [v for p in parts for v in p.values], b"".join(p.lengths for p in parts))


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
        grouped: dict[Key, list[tuple[int, float, bytes, int]]] = {}
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
                    for term, _, weight, encoded in terms:
                        postings = grouped.get((name, term))
                        if postings is None:
                            grouped[name, term] = [(docnum, weight, encoded, length)]
                        else:
                            postings.append((docnum, weight, encoded, length))
                column = None
                if fieldobj.column_type is not None and value is not None:
                    column = fieldobj.to_column_value(value)
                row.append((name, value if fieldobj.stored else None, length, column))
            stored.append(row)
        keys = sorted(grouped)
        postings = []
        for key in keys:
            docs, weights, values, lengths = zip(*grouped[key])
            postings.append(Postings(array("I", docs).tobytes(), array("f", weights).tobytes(), list(values),
                                     array("I", lengths).tobytes()))
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
        self._codec = W3Codec()
        self._segment = self._codec.new_segment(self._storage, INDEX_NAME)
        self._perdoc = self._codec.per_document_writer(self._storage, self._segment)
        self._budget = budget
        self._buffer: dict[Key, list[Postings]] = {}
        self._buffered = 0
        self._runs: list[Path] = []

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
            self._buffered += len(postings.values)
        if self._buffered >= self._budget:
            self._spill()

    def _spill(self) -> None:
        """Write the buffered postings as one run sorted by (field, term); empty the buffer."""
        if not self._buffer:
            return
        path = self.folder / f"postings-{len(self._runs)}.run"
        entries = [(key, Postings.joined(parts)) for key, parts in sorted(self._buffer.items())]
        with open(path, "wb") as out:
            for i in range(0, len(entries), _SPILL_CHUNK):
                pickle.dump(entries[i : i + _SPILL_CHUNK], out, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(path)
        self._buffer = {}
        self._buffered = 0

    def _merged(self) -> Iterator[tuple[Key, Postings]]:
        """Every (field, term) once, in order, with its postings from all runs in document order."""
        if not self._runs:  # everything fitted in memory
            for key, parts in sorted(self._buffer.items()):
                yield key, Postings.joined(parts)
            return
        self._spill()
        merged = heapq.merge(*(_read_run(path) for path in self._runs), key=lambda entry: entry[0])
        current_key, parts = None, []
        for key, postings in merged:  # heapq.merge is stable: runs (and so documents) stay in order
            if key != current_key:
                if parts:
                    yield current_key, Postings.joined(parts)
                current_key, parts = key, []
            parts.append(postings)
        if parts:
            yield current_key, Postings.joined(parts)

    def commit(self) -> None:
        """Write the terms and postings, close the segment and write the index's table of contents."""
        self._perdoc.close()
        writer = self._codec.field_writer(self._storage, self._segment)
        current = None
        for (name, term), postings in self._merged():
            if name != current:
                if current is not None:
                    writer.finish_field()
                current = name
                writer.start_field(name, self.schema[name])
            writer.start_term(term)
            _write_postings(writer._postwriter, postings)
            writer.finish_term()
        if current is not None:
            writer.finish_field()
        writer.close()
        self._remove_runs()
        self._segment.set_doc_count(self.doc_count)
        TOC(self.schema, [self._segment], 0).write(self._storage, INDEX_NAME)
        shutil.rmtree(self.folder / f"{INDEX_NAME}.tmp", ignore_errors=True)  # the per-doc writer's scratch

    def cancel(self) -> None:
        """Stop without writing an index (the folder is left for the caller to remove)."""
        if not self._perdoc.is_closed:
            self._perdoc.close()
        self._remove_runs()

    def _remove_runs(self) -> None:
        for path in self._runs:
            path.unlink(missing_ok=True)
        self._runs = []
        self._buffer = {}


def _write_postings(postwriter, postings: Postings, blocklimit: int = 128) -> None:
    """Fill ``postwriter`` (a ``W3PostingsWriter`` between ``start_postings`` and
    ``finish_postings``) a block at a time: what ``add_posting`` does posting by posting, with
    the block's statistics computed once. The last block is left for ``finish_postings``."""
    docs, weights, lengths = array("I"), array("f"), array("I")
    docs.frombytes(postings.docs)
    weights.frombytes(postings.weights)
    lengths.frombytes(postings.lengths)
    values = postings.values
    if postwriter._format.fixed_value_size() == 0:
        values = [b""] * len(docs)
    postwriter._compression = 3 if len(docs) >= _COMPRESS_FROM else 0
    for start in range(0, len(docs), blocklimit):
        if start:
            postwriter._write_block()
        end = start + blocklimit
        postwriter._ids = docs[start:end]
        block_weights = postwriter._weights = weights[start:end]
        postwriter._values = [v for v in values[start:end] if v]
        block_lengths = [n for n in lengths[start:end] if n]
        postwriter._minlength = min(block_lengths) if block_lengths else None
        postwriter._maxlength = max(block_lengths) if block_lengths else 0
        postwriter._maxweight = max(max(block_weights), 0)


def _read_run(path: Path) -> Iterator[tuple[Key, Postings]]:
    with open(path, "rb") as run:
        while True:
            try:
                chunk = pickle.load(run)
            except EOFError:
                return
            yield from chunk
