"""The Whoosh codec of every build: Whoosh 3's format, with stored fields and terms in far less room.

Whoosh 2.7's ``W3Codec`` keeps each document's stored fields as a pickle compressed by zlib one
document at a time. A paragraph is a few hundred bytes of UTF-8, too little for zlib to find
anything to reuse, so xwlb's stored column was 49 MiB for 29 MiB of text. :class:`ZhCodec` keeps
everything of ``W3Codec`` except these parts:

* when the schema declares a ``skeleton`` field whose column is a
  :class:`~search.segment.columns.SkeletonColumn`, a document's stored ``text`` is a patch against
  its skeleton (:mod:`search.segment.text_patch`), kept in a patch column; the stored fields hold
  ``None`` in its place and read back the whole text (:class:`ZhPerDocReader`). Fields of those
  names with ordinary types are stored as any other field;
* the stored column, written as a :class:`~search.segment.stored.DictionaryCompressedColumn`: 32 documents' values
  compressed together by zstd (an article's paragraphs repeat its id, date and source), with a
  dictionary trained on the segment's own first blocks and kept at the head of the column. A
  document still reads on its own: one block decompresses in about a microsecond (xwlb's stored
  fields: 0.6 MB, 4.1 MB a value at a time);
* postings blocks of ``CompactCharacters`` fields and of values of one size column by column
  (:mod:`search.segment.blocks`, read by :class:`ZhLeafMatcher`);
* the term table, a :mod:`search.segment.terms` table instead of Whoosh's on-disk hash (xwlb: 13.8
  → 6.2 MB), which answers with Whoosh's own ``W3TermInfo``.

The codec is recorded in the index's table of contents, as Whoosh records every segment's codec,
so ``whoosh.index.open_dir`` opens a build wherever this package can be imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher, W3PerDocReader, W3PerDocWriter

from . import blocks, terms, text_patch
from .columns import PATCH_COLUMN, SKELETON_COLUMN, SkeletonColumn, patch_arrays
from .stored import STORED_COLUMN

# When the SKELETON_FIELD's column is a SkeletonColumn, a document's stored PATCHED_FIELD text is
# kept as a text_patch patch against its skeleton, in the PATCHES column; the stored fields hold
# None in its place (Whoosh never stores None), and read back the whole text.
PATCHED_FIELD, SKELETON_FIELD, PATCHES = "text", "skeleton", "_patches"


def skeleton_column_path(source, folder: Path) -> Path:
    """Where the skeleton column of one segment (``source``: its reader, or a searcher of an index
    of that one segment, in ``folder``) lives."""
    return Path(folder) / W3Codec.column_filename(_segment_reader(source).segment(), SKELETON_FIELD)


class ZhPerDocWriter(W3PerDocWriter):
    """``W3PerDocWriter`` whose stored-fields column is :data:`STORED_COLUMN`, and which keeps a
    document's :data:`PATCHED_FIELD` text as a :class:`~search.segment.text_patch.SkeletonPatch` against
    its :data:`SKELETON_FIELD` column value, in the :data:`PATCHES` column (``None`` in the stored
    fields). The patches' table is learned from the first documents, held back meanwhile, and kept
    in the skeleton column."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._skeleton = None  # this document's
        self._patcher = text_patch.Patcher(text_patch.LEARN_CHARACTERS)
        self._held: list[tuple[int, dict, str | None]] = []  # documents' numbers, stored fields, skeletons

    def _create_column(self, fieldname, column):
        super()._create_column(fieldname, STORED_COLUMN if fieldname == "_stored" else column)

    def add_column_value(self, fieldname, columnobj, value):
        if fieldname == SKELETON_FIELD and isinstance(columnobj, SkeletonColumn):
            self._skeleton = value.decode("utf-8") if isinstance(value, bytes) else value
        super().add_column_value(fieldname, columnobj, value)

    def finish_doc(self):
        stored, skeleton = self._storedfields, self._skeleton
        self._skeleton = None
        if stored:
            if self._patcher.learning:
                text = stored.get(PATCHED_FIELD)
                if isinstance(text, str) and skeleton is not None:
                    self._patcher.observe(text, skeleton)
                self._held.append((self._docnum, dict(stored), skeleton))
                if not self._patcher.learning:
                    self._release()
            else:
                self._add_stored(self._docnum, dict(stored), skeleton)
            stored.clear()
        self._indoc = False

    def _add_stored(self, docnum: int, stored: dict, skeleton: str | None) -> None:
        text = stored.get(PATCHED_FIELD)
        if isinstance(text, str) and skeleton is not None:
            if PATCHES not in self._colwriters:
                self._create_column(PATCHES, PATCH_COLUMN)
            self._get_column(PATCHES).add(docnum, bytes(self._patcher.make(text, skeleton)))
            stored[PATCHED_FIELD] = None
        # to the column itself: add_column_value would file it under the document being written
        self._get_column("_stored").add(docnum, stored)

    def _keep_table(self) -> None:
        """Give the skeleton column the patches' table, to write at its end."""
        writer = self._colwriters.get(SKELETON_FIELD)
        if isinstance(writer, SkeletonColumn.Writer):
            writer.table = self._patcher.table

    def _release(self) -> None:
        """The table is learned: write the held documents' stored fields, and keep the table."""
        self._keep_table()
        held, self._held = self._held, []
        for docnum, stored, skeleton in held:
            self._add_stored(docnum, stored, skeleton)

    def close(self):
        if self._indoc:
            self.finish_doc()
        if self._patcher.learning:
            self._patcher.learn()
            self._release()
        self._keep_table()  # (a skeleton column created after the table was learned has none yet)
        super().close()


class ZhPerDocReader(W3PerDocReader):
    """``W3PerDocReader`` that reads the stored fields from :data:`STORED_COLUMN`, a patched text
    from its patch and skeleton."""

    def stored_fields(self, docnum):
        value = self._cached_reader("_stored", STORED_COLUMN)[docnum]
        if value is None:
            return {}
        if PATCHED_FIELD in value and value[PATCHED_FIELD] is None:
            value[PATCHED_FIELD] = self.patched_text(docnum)
        return value

    def patched_text(self, docnum: int) -> str:
        """Document ``docnum``'s patched text, read through Whoosh's column readers."""
        skeletons = self._cached_reader(SKELETON_FIELD, SKELETON_COLUMN)
        patch = self._cached_reader(PATCHES, PATCH_COLUMN)[docnum]
        return text_patch.apply(text_patch.base(skeletons[docnum], skeletons.table), patch)


class ZhFieldWriter(W3FieldWriter):
    """``W3FieldWriter`` whose term table is a :class:`~search.terms.TermTableWriter`."""

    def __init__(self, codec, storage, segment):  # W3FieldWriter's, with the other table
        self._codec, self._storage, self._segment = codec, storage, segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = terms.TermTableWriter(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False


class ZhCodec(W3Codec):
    """Whoosh 3's codec with the stored fields in a block
    :class:`~search.segment.stored.DictionaryCompressedColumn` and the terms in a
    :mod:`search.segment.terms` table."""

    # A codec is pickled into the index's table of contents with its attributes: one pickled
    # before the term table existed (builds before 2026-12-02) has no ``terms_table`` of its own
    # and reads this class default, Whoosh's hash table.
    terms_table = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.terms_table = 2

    def per_document_writer(self, storage, segment):
        return ZhPerDocWriter(self, storage, segment)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return ZhLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    def per_document_reader(self, storage, segment):
        return ZhPerDocReader(storage, segment)

    def field_writer(self, storage, segment):
        if self.terms_table == 1:
            return super().field_writer(storage, segment)
        return ZhFieldWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        if self.terms_table == 1:
            return super().terms_reader(storage, segment)
        name = segment.make_filename(self.TERMS_EXT)
        return terms.TermsReader(self, storage.open_file(name), storage.file_length(name),
                                        segment.open_file(storage, self.POSTS_EXT))


class ZhLeafMatcher(W3LeafMatcher):
    """``W3LeafMatcher`` that also reads blocks written column by column
    (:mod:`search.segment.blocks`: ``CompactCharacters`` values, or values of one size); the ids,
    weights and values of such a block are decoded only when asked for, as Whoosh's are."""

    _BLOCKS = (blocks.ColumnBlock, blocks.FixedColumnBlock)

    def _read_data(self):
        length = self._nextoffset - self._dataoffset
        if self._compression == blocks.COLUMNS:
            self._data = blocks.ColumnBlock(self._postfile.get(self._dataoffset, length), self._blocklength)
        elif self._compression == blocks.FIXED_COLUMNS:
            self._data = blocks.FixedColumnBlock(self._postfile.get(self._dataoffset, length),
                                                        self._blocklength, self._fixedsize)
        else:
            super()._read_data()

    def _from_column_block(self, part: str) -> bool:
        """Set ``self._<part>`` (ids, weights or values) from this block when it is a column block;
        False when it is Whoosh's own, which the superclass reads."""
        if self._data is None:
            self._read_data()
        if not isinstance(self._data, self._BLOCKS):
            return False
        setattr(self, f"_{part}", getattr(self._data, part)())
        return True

    def _read_ids(self):
        if not self._from_column_block("ids"):
            super()._read_ids()

    def _read_weights(self):
        if not self._from_column_block("weights"):
            super()._read_weights()

    def _read_values(self):
        if not self._from_column_block("values"):
            super()._read_values()


def _segment_reader(source):
    """The reader of a searcher, or the reader itself."""
    return source.reader() if hasattr(source, "reader") else source


def stored_fields_reader(source) -> Callable[[int], dict]:
    """``stored_fields`` of one segment written with :class:`ZhCodec` (``source``: its reader, or a
    searcher of an index of that one segment), without the pass through the schema that Whoosh's
    ``SegmentReader`` makes on every call (a build stores no field outside its schema): that pass
    cost as much as reading the fields. Like Whoosh's, it reads deleted documents too."""
    reader = _segment_reader(source)
    perdoc = getattr(reader, "_perdoc", None)
    if isinstance(perdoc, ZhPerDocReader):
        return perdoc.stored_fields
    return reader.stored_fields


def text_reader(source, folder: Path, units: np.ndarray, bounds: np.ndarray) -> Callable[[int], str]:
    """Each document's stored :data:`PATCHED_FIELD` text, for one segment in ``folder`` (``source``:
    its reader, or a searcher of an index of that one segment) whose every document's text is
    patched: from the skeletons' mapped ``units`` and ``bounds`` and the mapped patch column,
    without the stored fields (9.0 → ~3.5 µs a paragraph of xwlb's). Otherwise through the stored
    fields."""
    parts = patched_text_parts(source, folder)
    if parts is None:
        stored = stored_fields_reader(source)
        return lambda docnum: stored(docnum)[PATCHED_FIELD]
    table, patches = parts
    bases = text_patch.MappedBases(units, bounds, table)
    apply = text_patch.apply
    return lambda docnum: apply(bases(docnum), patches(docnum))


def patched_text_parts(source, folder: Path) -> tuple[dict[int, str] | None, text_patch.MappedPatches] | None:
    """What each document's text is made of in one segment in ``folder`` (``source``: its reader, or
    a searcher of an index of that one segment) whose every document's text is patched: the
    patches' table (skeleton code point → the character it usually stands for) and the mapped
    patches; None for another segment."""
    reader = _segment_reader(source)
    perdoc = getattr(reader, "_perdoc", None)
    if not (isinstance(perdoc, ZhPerDocReader) and perdoc.has_column(PATCHES) and perdoc.has_column(SKELETON_FIELD)):
        return None
    data, docnums, starts, patched = patch_arrays(Path(folder) / W3Codec.column_filename(reader.segment(), PATCHES))
    if patched != reader.doc_count_all():
        return None
    return (perdoc._cached_reader(SKELETON_FIELD, SKELETON_COLUMN).table,
            text_patch.MappedPatches(data, docnums, starts))
