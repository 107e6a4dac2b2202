"""Documents analysed and grouped in a worker process, ready for :class:`~search.segment.writer.SortedSegmentWriter`.

:meth:`DocumentBatch.of` turns consecutive documents — per field its value, or the ``(term,
frequency, weight, encoded value)`` items of :func:`~search.segment.words_format.field_items` —
into what each document stores (values, field lengths, column values) and the batch's postings
as a :class:`~search.segment.posting_table.PostingTable` (numpy columns, which cross process
boundaries cheaply). :class:`PostingsCollector` builds such a table from items that hold for a
run of documents (an article's title, date and source hold for each of its paragraphs) and from
postings already in columns (:func:`search.segment.words_format.compact_values`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
from whoosh.fields import Schema

from .posting_table import Key, PostingTable, ranges
from .words_format import Item

Row = list[tuple[str, object, int, object]]  # a document's (field, stored value, length, column value)


@dataclass
class DocumentBatch:
    """Consecutive documents, analysed and grouped for :meth:`SortedSegmentWriter.add_batch`."""

    first: int  # the first document's number
    stored: list[Row]  # per document
    postings: PostingTable

    @classmethod
    def of(cls, schema: Schema, first: int,
           documents: Iterable[tuple[Mapping[str, object], Mapping[str, Sequence[Item]]]]) -> "DocumentBatch":
        """The batch of ``documents`` numbered from ``first``: each is ``(values, items)`` —
        ``values`` per field (indexed by the field, stored if it stores, in its column if it has
        one) and, for fields analysed elsewhere, their ``items`` (their value is then only stored)."""
        stored = []
        collector = PostingsCollector()
        rows = StoredRows(schema)
        indexed: dict[tuple[str, object], list[Item]] = {}  # field.index(value), for values that recur
        for docnum, (values, items) in enumerate(documents, start=first):
            lengths = collector.add_fields(schema, values, items, range(docnum, docnum + 1), indexed)
            stored.append(rows(values, tuple(items), lengths))
        return cls(first, stored, collector.table())

    def renumber(self, first: int) -> None:
        """Number the documents from ``first`` on instead (in place)."""
        self.postings.docs -= np.uint32(self.first)
        self.postings.docs += np.uint32(first)
        self.first = first


class StoredRows:
    """What a document stores, per field in name order: ``(name, the value if the field stores
    it, the field's length, the column value if it has a column)``. The fields' shape is worked
    out once per set of field names."""

    def __init__(self, schema: Schema):
        self._schema = schema
        self._shapes: dict[tuple, list[tuple[str, bool, object]]] = {}

    def __call__(self, values: Mapping[str, object], analysed: tuple[str, ...], lengths: Mapping[str, int]) -> Row:
        """``values`` per field (stored or in a column), ``analysed`` the fields given as items,
        ``lengths`` per field (0 when missing)."""
        key = (tuple(values), analysed)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = [
                (name, fieldobj.stored, fieldobj if fieldobj.column_type is not None else None)
                for name in sorted(values.keys() | set(analysed)) for fieldobj in (self._schema[name],)]
        value_of, length_of = values.get, lengths.get
        return [(name, value_of(name) if stored else None, length_of(name, 0),
                 None if columned is None or (value := value_of(name)) is None else columned.to_column_value(value))
                for name, stored, columned in shape]


class PostingsCollector:
    """Postings gathered field by field, then :meth:`table`: the batch's postings grouped by key."""

    def __init__(self):
        self._ids: dict[Key, int] = {}
        self._counter = itertools.count()
        # items that hold for runs of documents: per item its key id, weight and value
        self._item_keys: list[int] = []
        self._item_weights: list[float] = []
        self._item_values: list[bytes] = []
        self._runs: list[tuple[int, int, int, int]] = []  # items, where its documents start, how many, length
        self._documents: list[int] = []  # the runs' documents, one run after another
        self._columns: list[tuple[np.ndarray, ...]] = []  # postings given as columns

    def add_fields(self, schema: Schema, values: Mapping[str, object], items: Mapping[str, Sequence[Item]],
                   documents: Sequence[int], indexed: dict) -> dict[str, int]:
        """The postings of fields that hold for each of ``documents`` (ascending): per indexed
        field its ``items``, or its value as the field indexes it (kept in ``indexed`` for values
        that recur); returns each indexed field's length."""
        lengths = {}
        for name in values.keys() | items.keys():
            fieldobj = schema[name]
            if not fieldobj.indexed:
                continue
            terms = items.get(name)
            if terms is None:
                value = values.get(name)
                terms = indexed.get((name, value))
                if terms is None:
                    terms = indexed[name, value] = list(fieldobj.index(value)) if value is not None else []
            length = sum(freq for _, freq, _, _ in terms) if fieldobj.scorable else 0
            self.add_items(name, terms, documents, length)
            lengths[name] = length
        return lengths

    def add_items(self, name: str, items: Sequence[Item], documents: Sequence[int], length: int) -> None:
        """``items`` (``(term, frequency, weight, value)``) of field ``name`` in each of
        ``documents`` (ascending), whose length in that field is ``length``."""
        if not items or not documents:
            return
        setdefault, counter = self._ids.setdefault, self._counter
        self._item_keys += [setdefault((name, term), next(counter)) for term, _, _, _ in items]
        self._item_weights += [weight for _, _, weight, _ in items]
        self._item_values += [value for _, _, _, value in items]
        self._runs.append((len(items), len(self._documents), len(documents), length))
        self._documents += documents

    def add_columns(self, name: str, terms: Sequence[bytes], term_of: np.ndarray, docs: np.ndarray,
                    weights: np.ndarray, lengths: np.ndarray, sizes: np.ndarray, values: np.ndarray) -> None:
        """Postings of field ``name`` as columns: posting ``i`` is of ``terms[term_of[i]]``,
        in document ``docs[i]``; ``values`` joined, ``sizes`` bytes each."""
        if not len(docs):
            return
        setdefault, counter = self._ids.setdefault, self._counter
        ids = np.fromiter((setdefault((name, term), next(counter)) for term in terms), np.int64, len(terms))
        self._columns.append((ids[term_of], np.asarray(docs, np.uint32), np.asarray(weights, np.float32),
                              np.asarray(lengths, np.uint32), np.asarray(sizes, np.uint32),
                              np.asarray(values, np.uint8)))

    def table(self) -> PostingTable:
        """Every posting gathered, grouped by key in key order, each key's in document order."""
        parts = list(self._columns)
        if self._runs:
            items, firsts, documents, lengths = (np.array(column, dtype=np.int64) for column in zip(*self._runs))
            per_item = np.repeat(documents, items)  # how many postings each item makes
            posting_item = np.repeat(np.arange(len(per_item)), per_item)
            docs = np.array(self._documents, dtype=np.int64)[ranges(np.repeat(firsts, items), per_item)]
            item_sizes = np.fromiter(map(len, self._item_values), np.int64, len(self._item_values))
            item_starts = np.cumsum(item_sizes) - item_sizes
            joined = np.frombuffer(b"".join(self._item_values), dtype=np.uint8)
            sizes = item_sizes[posting_item]
            parts.append((np.asarray(self._item_keys, np.int64)[posting_item], docs,
                          np.asarray(self._item_weights, np.float32)[posting_item],
                          np.repeat(np.repeat(lengths, items), per_item), sizes,
                          joined[ranges(item_starts[posting_item], sizes)]))
        if not parts:
            return PostingTable.empty()
        key_ids, docs, weights, lengths, sizes, values = (np.concatenate(column) for column in zip(*parts))
        keys = sorted(self._ids)
        rank = np.empty(next(self._counter), dtype=np.int64)
        rank[np.fromiter(map(self._ids.__getitem__, keys), np.int64, len(keys))] = np.arange(len(keys))
        posting_rank = rank[key_ids]
        order = np.lexsort((docs, posting_rank))
        counts = np.bincount(posting_rank, minlength=len(keys)).astype(np.int64)
        starts = np.cumsum(sizes, dtype=np.int64) - sizes
        sizes = sizes[order]
        kept = counts > 0
        return PostingTable([key for key, keep in zip(keys, kept.tolist()) if keep], counts[kept],
                            docs[order].astype(np.uint32), weights[order].astype(np.float32),
                            lengths[order].astype(np.uint32), sizes.astype(np.uint32),
                            values[ranges(starts[order], sizes)].astype(np.uint8))
