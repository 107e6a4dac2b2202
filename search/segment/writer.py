"""Writing one Whoosh segment from postings sorted here, not through Whoosh's per-document pool.

Whoosh's ``add_document`` sends every posting through a pool of pickled tuples, sorted on disk
at commit: slow. Here the work is split so that the costly part runs in worker
processes:

* :meth:`~search.segment.documents.DocumentBatch.of` (in a worker) turns consecutive documents
  into what each document stores and the batch's postings grouped by (field, term);
* :class:`SortedSegmentWriter` (in the writing process) passes each document's stored part to the
  codec's ``PerDocumentWriter``, keeps a bounded number of postings, spills them to disk as runs
  sorted by (field, term) (:class:`~search.segment.posting_table.RunFile`, numpy columns), and at
  :meth:`~SortedSegmentWriter.commit` merges the runs a key range at a time and writes every
  term's postings, in document order, into the codec's ``FieldWriter`` (its postings file and
  term table) through :class:`~search.segment.term_writer.TermWriter`; a forked child encodes
  the upper half of the terms meanwhile.

A field of any Whoosh type is added the same way: declare it in the schema and pass its value.
``tests/test_whoosh_index.py`` checks that what is written reads back exactly as what Whoosh's
own ``add_document`` writes.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Mapping, Sequence

from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from . import term_writer
from .codec import ZhCodec
from .documents import DocumentBatch
from .posting_table import Key, PostingTable, RunFile
from .term_writer import TermTable, TermWriter
from .words_format import Item

INDEX_NAME = "MAIN"  # Whoosh's default index name: open_dir(folder) finds it
_TERMS_CHUNK = 1024  # terms the upper half's child pickles together


class SortedSegmentWriter:
    """Writes ``schema``'s documents (numbered 0, 1, … in the order added) as one Whoosh segment
    in ``folder``; ``whoosh.index.open_dir(folder)`` opens it after :meth:`commit`.

    At most about ``budget`` postings are held in memory; then they are spilled as a sorted run,
    and the runs are merged a range of about ``budget`` postings at a time.
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
        self._buffer: list[PostingTable] = []
        self._buffered = 0
        self._runs: list[RunFile] = []
        self._fields: dict = {}  # name → field object (a glob field's too)

    @property
    def segment(self):
        """Whoosh's segment object of what is being written (its id names the segment's files)."""
        return self._segment

    def add_document(self, values: Mapping[str, object], items: Mapping[str, Sequence[Item]] = {}) -> int:
        """Add the next document (see :meth:`DocumentBatch.of`); returns its number."""
        self.add_batch(DocumentBatch.of(self.schema, self.doc_count, [(values, items)]))
        return self.doc_count - 1

    def add_batch(self, batch: DocumentBatch) -> None:
        """Add the documents of ``batch``, which must be numbered from :attr:`doc_count` on."""
        if batch.first != self.doc_count:
            raise ValueError(f"batch starts at document {batch.first}, expected {self.doc_count}")
        perdoc, fields = self._perdoc, self._fields
        start_doc, add_field, add_column_value, finish_doc = (perdoc.start_doc, perdoc.add_field,
                                                              perdoc.add_column_value, perdoc.finish_doc)
        for docnum, row in enumerate(batch.stored, start=batch.first):
            start_doc(docnum)
            for name, value, length, column in row:
                fieldobj = fields.get(name)
                if fieldobj is None:
                    fieldobj = fields[name] = self.schema[name]
                add_field(name, fieldobj, value, length)
                if column is not None:
                    add_column_value(name, fieldobj.column_type, column)
            finish_doc()
        self.doc_count += len(batch.stored)
        if len(batch.postings):
            self._buffer.append(batch.postings)
            self._buffered += len(batch.postings)
        if self._buffered >= self._budget:
            self._spill()

    def _spill(self) -> None:
        """Write the buffered postings as one run sorted by (field, term); empty the buffer."""
        if not self._buffer:
            return
        table = PostingTable.merged(self._buffer)
        self._buffer, self._buffered = [], 0
        self._runs.append(RunFile(self.folder / f"postings-{len(self._runs)}.run", table, sample=self._budget // 32))

    def commit(self) -> None:
        """Write the terms and postings, close the segment and write the index's table of contents.

        With spilled runs, the key space is cut into ranges of about ``budget`` postings; a
        forked child process encodes every other range while this one encodes the others, each
        range into files of its own, which are then appended in key order (:class:`_Ranges`)."""
        self._perdoc.close()
        writer = self._codec.field_writer(self._storage, self._segment)
        table = TermTable(writer, self.schema)
        if not self._runs:  # everything is still in memory
            terms = TermWriter(writer._postfile)
            for row in terms.add_table(PostingTable.merged(self._buffer), table.encoding):
                table.add(*row)
        else:
            self._spill()  # the rest joins the runs
            cuts = self._cuts()
            _Ranges(self.folder, self._runs, list(zip(cuts, cuts[1:])), self.schema).append_to(writer._postfile, table)
        table.finish()
        writer.close()
        self._remove_runs()
        self._segment.set_doc_count(self.doc_count)
        TOC(self.schema, [self._segment], 0).write(self._storage, INDEX_NAME)
        shutil.rmtree(self.folder / f"{INDEX_NAME}.tmp", ignore_errors=True)  # the per-doc writer's scratch

    def _cuts(self) -> list[Key | None]:
        """Keys that cut the runs' key space into ranges of about half ``budget`` postings (two
        processes hold one each, with their encoding's temporaries), with None first and last
        (unbounded); each run's sampled keys stand for its postings."""
        samples = sorted(key for run in self._runs for key in run.samples)
        step = max(1, len(samples) * self._budget // 2 // max(1, sum(run.postings for run in self._runs)))
        inner = sorted(set(samples[step::step]))
        return [None, *inner, None]

    def cancel(self) -> None:
        """Stop without writing an index (the folder is left for the caller to remove)."""
        if not self._perdoc.is_closed:
            self._perdoc.close()
        self._remove_runs()

    def _remove_runs(self) -> None:
        for run in self._runs:
            run.remove()
        self._runs = []
        self._buffer = []


class _Ranges:
    """The runs' postings merged and encoded a key range at a time, range ``i`` into
    ``range-i.pst`` and ``range-i.terms`` (chunks of pickled ``(field, term, info, offset,
    length)``): a forked child process takes every other range, this one the rest (ranges of
    equal postings differ in cost with their fields, so the two take turns)."""

    def __init__(self, folder: Path, runs: list[RunFile], ranges: list[tuple[Key | None, Key | None]], schema: Schema):
        import multiprocessing

        self._folder, self._runs, self._ranges, self._schema = folder, runs, ranges, schema
        self._child = None
        if len(ranges) > 1:
            self._child = multiprocessing.get_context("fork").Process(
                target=self._write, args=(1,), name="zhsearch-whoosh-terms")
            self._child.start()
        try:
            self._write(0)
        finally:
            if self._child is not None:
                self._child.join()
        if self._child is not None and self._child.exitcode != 0:
            raise RuntimeError(f"the process writing terms failed (exit code {self._child.exitcode})")

    def _files(self, i: int) -> tuple[Path, Path]:
        return self._folder / f"range-{i}.pst", self._folder / f"range-{i}.terms"

    def _write(self, start: int) -> None:
        """Encode ranges ``start``, ``start + 2``, … into their files."""
        encodings: dict[str, tuple[int | None, bool]] = {}  # per field (glob fields' names are known only here)

        def encoding(name: str) -> tuple[int | None, bool]:
            if name not in encodings:
                encodings[name] = term_writer.field_encoding(self._schema[name])
            return encodings[name]

        for i in range(start, len(self._ranges), 2):
            low, high = self._ranges[i]
            postings_path, terms_path = self._files(i)
            with open(postings_path, "wb") as postfile, open(terms_path, "wb") as table:
                terms, rows = TermWriter(postfile), []
                postings = PostingTable.merged([run.read(low, high) for run in self._runs])
                for row in terms.add_table(postings, encoding):
                    rows.append(row)
                    if len(rows) == _TERMS_CHUNK:
                        pickle.dump(rows, table, protocol=pickle.HIGHEST_PROTOCOL)
                        rows = []
                pickle.dump(rows, table, protocol=pickle.HIGHEST_PROTOCOL)

    def append_to(self, postfile, table: TermTable) -> None:
        """Append every range's postings to ``postfile`` and its terms to ``table``, in key order."""
        for i in range(len(self._ranges)):
            base = postfile.tell()
            postings_path, terms_path = self._files(i)
            with open(postings_path, "rb") as source:
                while block := source.read(1 << 22):
                    postfile.write(block)
            with open(terms_path, "rb") as terms:
                while True:
                    try:
                        rows = pickle.load(terms)
                    except EOFError:
                        break
                    for name, term, info, offset, length in rows:
                        table.add(name, term, info, None if offset is None else base + offset, length)
            postings_path.unlink()
            terms_path.unlink()
