"""Writing one Whoosh segment from postings sorted here, not through Whoosh's per-document pool.

Whoosh's ``add_document`` sends every posting through a pool of pickled tuples, sorted on disk
at commit: slow. Here the work is split so that the costly part runs in worker
processes:

* :meth:`~search.segment.documents.DocumentBatch.of` (in a worker) turns consecutive documents
  into what each document stores and the batch's postings grouped by (field, term);
* :class:`SortedSegmentWriter` (in the writing process) passes each document's stored part to the
  codec's ``PerDocumentWriter``, keeps a bounded number of postings, spills them to disk as runs
  sorted by (field, term), and at :meth:`~SortedSegmentWriter.commit` merges the runs and writes
  every term's postings, in document order, into the codec's ``FieldWriter`` (its postings file
  and term table) through :class:`~search.segment.term_writer.TermWriter`; a forked child encodes
  the upper half of the terms meanwhile.

A field of any Whoosh type is added the same way: declare it in the schema and pass its value.
``tests/test_whoosh_index.py`` checks that what is written reads back exactly as what Whoosh's
own ``add_document`` writes.
"""

from __future__ import annotations

import bisect
import heapq
import pickle
import shutil
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from . import term_writer
from .codec import ZhCodec
from .documents import DocumentBatch, Key, Postings, join_postings
from .term_writer import TermTable, TermWriter
from .words_format import Item

INDEX_NAME = "MAIN"  # Whoosh's default index name: open_dir(folder) finds it
_SPILL_CHUNK = 1024  # terms pickled together in a run file (the merge holds one chunk of each run)


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
        entries = [(key, join_postings(parts)) for key, parts in sorted(self._buffer.items())]
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
                    yield key, join_postings(parts)
            return
        runs = [_read_run(path, chunks, low, high) for path, chunks in self._runs]
        merged = heapq.merge(*runs, key=lambda entry: entry[0])
        current_key, parts = None, []
        for key, postings in merged:  # heapq.merge is stable: runs (and so documents) stay in order
            if key != current_key:
                if parts:
                    yield current_key, join_postings(parts)
                current_key, parts = key, []
            parts.append(postings)
        if parts:
            yield current_key, join_postings(parts)

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
        terms = TermWriter(writer._postfile)
        table = TermTable(writer, self.schema)
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
            terms, rows = TermWriter(postfile), []
            for (name, term), postings in entries:
                if name not in encodings:
                    encodings[name] = term_writer.field_encoding(schema[name])
                rows.append((name, term, *terms.add(postings, *encodings[name])))
                if len(rows) == _SPILL_CHUNK:
                    pickle.dump(rows, table, protocol=pickle.HIGHEST_PROTOCOL)
                    rows = []
            pickle.dump(rows, table, protocol=pickle.HIGHEST_PROTOCOL)

    def append_to(self, postfile, table: TermTable, base: int) -> None:
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
