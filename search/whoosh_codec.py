"""The Whoosh codec of every build: Whoosh 3's format, with stored fields and terms in far less room.

Whoosh 2.7's ``W3Codec`` keeps each document's stored fields as a pickle compressed by zlib one
document at a time. A paragraph is a few hundred bytes of UTF-8, too little for zlib to find
anything to reuse, so xwlb's stored column was 49 MiB for 29 MiB of text. :class:`ZhCodec` keeps
everything of ``W3Codec`` (its postings, its columns) except two parts:

* the stored column, written as a :class:`DictionaryCompressedColumn`: each value compressed alone
  by zstd, with a dictionary trained on the segment's own first values and kept at the head of the
  column (xwlb: 15.5 MiB). A document still decompresses on its own, faster than zlib (one value,
  about a microsecond);
* the term table, a :mod:`search.whoosh_terms` table instead of Whoosh's on-disk hash (xwlb: 13.8
  → 7.7 MB), which answers with Whoosh's own ``W3TermInfo``.

The codec is recorded in the index's table of contents, as Whoosh records every segment's codec,
so ``whoosh.index.open_dir`` opens a build wherever this package can be imported.
"""

from __future__ import annotations

import bisect
import os
import pickle
import struct
import threading
from array import array
from pathlib import Path
from typing import Callable

import numpy as np
import zstandard
from whoosh import columns
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher, W3PerDocReader, W3PerDocWriter

from . import text_patch, whoosh_blocks, whoosh_terms

# A document's stored PATCHED_FIELD text is kept as a text_patch patch against its SKELETON_FIELD
# column value, in the PATCHES column; the stored fields hold None in its place (Whoosh never
# stores None), and read back the whole text.
PATCHED_FIELD, SKELETON_FIELD, PATCHES = "text", "skeleton", "_patches"
# The column's header names its frames: ZDC1 (builds before 2026-12-02) holds zstd's standard
# frames, ZDC2 frames without zstd's 4-byte magic number (the column says what they are).
_MAGIC, _MAGIC_STANDARD_FRAMES = b"ZDC2", b"ZDC1"
_FRAME_FORMATS = {_MAGIC: zstandard.FORMAT_ZSTD1_MAGICLESS, _MAGIC_STANDARD_FRAMES: zstandard.FORMAT_ZSTD1}
_HEADER = struct.Struct("<4sI")  # magic, dictionary length (0: no dictionary)
# Measured on xwlb's 131,367 stored paragraphs (48 MiB of pickles): zstd 3 with a 112 KiB
# dictionary trained on 4 MiB, standard frames, 18.6 MiB; a 1 MiB dictionary trained on 16 MiB,
# zstd 9, frames without magic, 14.0 MiB (1.9 s to compress them all; a value still decompresses
# in ~1 µs). Since the texts are patches in a column of their own, the stored values are the other
# fields (xwlb: 19.9 MB of pickles): trained on 4 MiB, the dictionary is 256 KiB and the values
# 3.83 MB, after 0.4 s of training; on 16 MiB, 1 MiB, 3.96 MB and 1.7 s (and 12 MiB more held).
TRAINING_BYTES = 4 << 20  # values buffered to train the dictionary (~28,000 paragraphs)
DICTIONARY_BYTES = 1 << 20
_MIN_TRAINING_VALUES = 256  # fewer values do not train a dictionary worth its bytes
LEVEL = 9


def _compressor(dictionary: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdCompressor:
    # no magic, dictionary id or checksum in each value's frame: 4 + 4 + 4 bytes a value for nothing
    parameters = zstandard.ZstdCompressionParameters.from_level(
        LEVEL, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_dict_id=False, write_checksum=False,
        write_content_size=True)
    return zstandard.ZstdCompressor(dict_data=dictionary, compression_params=parameters)


def train_dictionary(samples: list[bytes]) -> bytes:
    """A zstd dictionary for values like ``samples``, or ``b""`` when they are too few to train one."""
    if len(samples) < _MIN_TRAINING_VALUES:
        return b""
    # zstd advises samples of ~100× the dictionary; on paragraphs 16× measured better (see above)
    size = min(DICTIONARY_BYTES, max(sum(map(len, samples)) // 16, 256))
    try:
        return zstandard.train_dictionary(size, samples, level=LEVEL).as_bytes()
    except zstandard.ZstdError:  # e.g. samples too uniform or too small for zstd's trainer
        return b""


class DictionaryCompressedColumn(columns.Column):
    """Variable-length byte strings, each compressed on its own by zstd with a dictionary trained
    on the column's first values (up to ``training_bytes``), written at the column's head.

    Layout: ``b"ZDC2"``, the dictionary's length (u32, little-endian), the dictionary, then a
    ``VarBytesColumn`` of the compressed values, zstd frames without their magic number. An
    empty value stays empty. Columns headed ``b"ZDC1"`` (standard frames) still read."""

    _default = b""

    def __init__(self, training_bytes: int = TRAINING_BYTES):
        self.training_bytes = training_bytes

    def writer(self, dbfile):
        return self.Writer(dbfile, self.training_bytes)

    def reader(self, dbfile, basepos, length, doccount):
        return self.Reader(dbfile, basepos, length, doccount)

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile, training_bytes):
            self._dbfile = dbfile
            self._training_bytes = training_bytes
            self._values = columns.VarBytesColumn.Writer(dbfile)
            self._pending: list[tuple[int, bytes]] | None = []  # values waiting for the dictionary
            self._pending_bytes = 0
            self._compress = None

        def __repr__(self):
            return "<DictionaryCompressed.Writer>"

        def add(self, docnum, value):
            if self._pending is None:
                self._write(docnum, value)
                return
            self._pending.append((docnum, value))
            self._pending_bytes += len(value)
            if self._pending_bytes >= self._training_bytes:
                self._start()

        def _start(self):
            """Train the dictionary on the values so far, write it, then write those values."""
            pending, self._pending = self._pending, None
            dictionary = train_dictionary([value for _, value in pending if value])
            self._dbfile.write(_HEADER.pack(_MAGIC, len(dictionary)))
            self._dbfile.write(dictionary)
            compressor = _compressor(zstandard.ZstdCompressionDict(dictionary) if dictionary else None)
            self._compress = compressor.compress
            for docnum, value in pending:
                self._write(docnum, value)

        def _write(self, docnum, value):
            self._values.add(docnum, self._compress(value) if value else value)

        def fill(self, docnum):
            if self._pending is not None:
                self._start()
            self._values.fill(docnum)

        def finish(self, doccount):
            if self._pending is not None:
                self._start()
            self._values.finish(doccount)

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            magic, size = _HEADER.unpack(dbfile.get(basepos, _HEADER.size))
            if magic not in _FRAME_FORMATS:
                raise ValueError(f"not a dictionary-compressed column (header {magic!r})")
            self._format = _FRAME_FORMATS[magic]
            dictionary = bytes(dbfile.get(basepos + _HEADER.size, size)) if size else b""
            self._dictionary = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
            skip = _HEADER.size + size
            self._values = columns.VarBytesColumn.Reader(dbfile, basepos + skip, length - skip, doccount)
            self._local = threading.local()  # a zstd decompressor must not be shared between threads
            self._doccount = doccount  # ColumnReader's own methods (len, iteration) read it

        def __repr__(self):
            return "<DictionaryCompressed.Reader>"

        def _decompress(self, value):
            try:
                return self._local.decompress(value)
            except AttributeError:
                decompressor = zstandard.ZstdDecompressor(dict_data=self._dictionary, format=self._format)
                self._local.decompress = decompressor.decompress
                return decompressor.decompress(value)

        def __getitem__(self, docnum):
            value = self._values[docnum]
            return self._decompress(value) if value else b""

        def __iter__(self):
            for value in self._values:
                yield self._decompress(value) if value else b""

        def load(self):
            return list(self)


SKELETON_MAGIC = b"ZSK1"
_SKELETON_FOOTER = struct.Struct("<QQI4s")
_TWO_STARTS = struct.Struct("<II")
_MAX_UNITS = (1 << 32) - 1  # starts are uint32, as the match index's positions


class SkeletonColumn(columns.Column):
    """Each document's skeleton (its normalised text without white space) as UTF-16 code units,
    uncompressed, one after another with a 0 after each: the layout of the match index's
    ``units`` (:mod:`search.grams`), which maps this column's file (:func:`skeleton_units`) instead
    of holding a copy, and the text that stored paragraphs are patches against
    (:mod:`search.text_patch`).

    Layout: ``b"ZSK1"`` and 4 zero bytes; the code units (and two zero bytes when they are odd in
    number); per document where its units start (uint32, little-endian), and one more entry, the
    number of units (the match index's ``bounds``); the patches' table of
    :class:`~search.text_patch.Patcher` (pairs of code points, uint32); a footer ``<QQI4s``: the
    number of units, of documents, of table pairs, ``b"ZSK1"``. A skeleton cannot hold the
    character 0."""

    _default = ""
    _HEAD = SKELETON_MAGIC + bytes(4)

    def writer(self, dbfile):
        return self.Writer(dbfile)

    def reader(self, dbfile, basepos, length, doccount):
        return self.Reader(dbfile, basepos, length, doccount)

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile):
            self._dbfile = dbfile
            self._starts = array("I")
            self._units = 0
            self.table: dict[int, str] = {}  # written at the end: set it before then
            dbfile.write(SkeletonColumn._HEAD)

        def __repr__(self):
            return "<SkeletonColumn.Writer>"

        def add(self, docnum, value):
            self.fill(docnum)
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            if "\x00" in value:
                raise ValueError(f"document {docnum}: a skeleton cannot hold the character 0")
            data = value.encode("utf-16-le") + b"\x00\x00"
            if self._units + len(data) // 2 > _MAX_UNITS:
                raise ValueError(f"the skeleton column holds at most {_MAX_UNITS:,} code units")
            self._starts.append(self._units)
            self._dbfile.write(data)
            self._units += len(data) // 2

        def fill(self, docnum):
            while len(self._starts) < docnum:  # documents without a skeleton: an empty one
                self.add(len(self._starts), "")

        def finish(self, doccount):
            self.fill(doccount)
            if self._units % 2:  # the starts that follow are mapped as uint32: aligned to 4 bytes
                self._dbfile.write(b"\x00\x00")
            self._starts.append(self._units)
            self._dbfile.write(whoosh_blocks.little_endian(self._starts))
            pairs = array("I", [code for key, value in sorted(self.table.items()) for code in (key, ord(value))])
            self._dbfile.write(whoosh_blocks.little_endian(pairs))
            self._dbfile.write(_SKELETON_FOOTER.pack(self._units, doccount, len(pairs) // 2, SKELETON_MAGIC))

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            units, count, pairs, magic = _SKELETON_FOOTER.unpack(
                dbfile.get(basepos + length - _SKELETON_FOOTER.size, _SKELETON_FOOTER.size))
            if magic != SKELETON_MAGIC or count != doccount:
                raise ValueError(f"not a skeleton column of {doccount} documents")
            self._dbfile, self._basepos, self._doccount = dbfile, basepos, doccount
            self._starts_at = basepos + _bounds_offset(units)
            table = array("I")
            table.frombytes(dbfile.get(self._starts_at + 4 * (doccount + 1), 8 * pairs))
            table = whoosh_blocks.little_endian(table, to_bytes=False)
            self.table = {table[i]: chr(table[i + 1]) for i in range(0, len(table), 2)}

        def __repr__(self):
            return "<SkeletonColumn.Reader>"

        def __getitem__(self, docnum):
            if not 0 <= docnum < self._doccount:
                raise IndexError(docnum)
            start, end = _TWO_STARTS.unpack(self._dbfile.get(self._starts_at + 4 * docnum, 8))
            at = self._basepos + len(SkeletonColumn._HEAD) + 2 * start
            return self._dbfile.get(at, 2 * (end - start - 1)).decode("utf-16-le")

        def __iter__(self):
            for docnum in range(self._doccount):
                yield self[docnum]

        def load(self):
            return list(self)


SKELETON_COLUMN = SkeletonColumn()


def skeleton_column_path(searcher, folder: Path) -> Path:
    """Where the skeleton column of the one-segment index ``searcher`` reads (in ``folder``) lives."""
    return Path(folder) / W3Codec.column_filename(searcher.reader().segment(), SKELETON_FIELD)


def _bounds_offset(units: int) -> int:
    """Where the starts of a skeleton column of ``units`` code units begin, from its start."""
    return len(SkeletonColumn._HEAD) + 2 * units + (2 if units % 2 else 0)


def skeleton_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The code units (uint16) and bounds (uint32: each document's start, then the number of
    units) of the skeleton column file at ``path``, memory-mapped read-only."""
    with open(path, "rb") as file:
        file.seek(-_SKELETON_FOOTER.size, os.SEEK_END)
        units, documents, _, magic = _SKELETON_FOOTER.unpack(file.read(_SKELETON_FOOTER.size))
        file.seek(0)
        head = file.read(len(SkeletonColumn._HEAD))
    if magic != SKELETON_MAGIC or head != SkeletonColumn._HEAD:
        raise ValueError(f"{path}: not a skeleton column")
    bounds = np.asarray(np.memmap(path, dtype="<u4", mode="r", offset=_bounds_offset(units), shape=(documents + 1,)))
    if not units:
        return np.empty(0, dtype=np.uint16), bounds
    return np.asarray(np.memmap(path, dtype="<u2", mode="r", offset=len(SkeletonColumn._HEAD), shape=(units,))), bounds


class PatchColumn(columns.Column):
    """Each patched document's patch (:mod:`search.text_patch`), only the non-empty ones kept (nine
    paragraphs in ten of xwlb's need none), uncompressed: a hit's text is read without the stored
    fields' decompression and unpickling.

    Layout: the non-empty patches one after another, zero bytes to a multiple of 4; their
    documents' numbers (uint32, little-endian, ascending); where each starts, and one more entry,
    the end (uint32); a footer ``<III4s``: documents, non-empty patches, patched documents,
    ``b"ZPC1"``."""

    _FOOTER = struct.Struct("<III4s")
    _MAGIC = b"ZPC1"

    def writer(self, dbfile):
        return self.Writer(dbfile)

    def reader(self, dbfile, basepos, length, doccount):
        return self.Reader(dbfile, basepos, length, doccount)

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile):
            self._dbfile = dbfile
            self._docnums, self._starts = array("I"), array("I", [0])
            self._patched = 0

        def __repr__(self):
            return "<Patch.Writer>"

        def add(self, docnum, value):
            if self._docnums and docnum <= self._docnums[-1]:
                raise ValueError(f"document {docnum} patched after document {self._docnums[-1]}")
            self._patched += 1
            if value:
                self._dbfile.write(value)
                self._docnums.append(docnum)
                self._starts.append(self._starts[-1] + len(value))

        def fill(self, docnum):
            pass  # a document without a patch has none

        def finish(self, doccount):
            self._dbfile.write(bytes(-self._starts[-1] % 4))  # the numbers that follow are mapped as uint32
            self._dbfile.write(whoosh_blocks.little_endian(self._docnums))
            self._dbfile.write(whoosh_blocks.little_endian(self._starts))
            footer = PatchColumn._FOOTER.pack(doccount, len(self._docnums), self._patched, PatchColumn._MAGIC)
            self._dbfile.write(footer)

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            footer = PatchColumn._FOOTER
            count, stored, self.patched, magic = footer.unpack(dbfile.get(basepos + length - footer.size, footer.size))
            if magic != PatchColumn._MAGIC or count != doccount:
                raise ValueError(f"not a patch column of {doccount} documents")
            self._dbfile, self._basepos, self._doccount = dbfile, basepos, doccount
            at = basepos + length - footer.size - 4 * (2 * stored + 1)
            numbers = array("I")
            numbers.frombytes(dbfile.get(at, 4 * (2 * stored + 1)))
            numbers = whoosh_blocks.little_endian(numbers, to_bytes=False)
            self._docnums, self._starts = numbers[:stored], numbers[stored:]

        def __repr__(self):
            return "<Patch.Reader>"

        def __getitem__(self, docnum):
            i = bisect.bisect_left(self._docnums, docnum)
            if i == len(self._docnums) or self._docnums[i] != docnum:
                return b""
            return self._dbfile.get(self._basepos + self._starts[i], self._starts[i + 1] - self._starts[i])


PATCH_COLUMN = PatchColumn()


def patch_arrays(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The patch column file at ``path``, memory-mapped read-only: its bytes (uint8), the
    documents with a non-empty patch and where each starts (uint32), and how many documents were
    patched."""
    footer = PatchColumn._FOOTER
    with open(path, "rb") as file:
        file.seek(-footer.size, os.SEEK_END)
        count, stored, patched, magic = footer.unpack(file.read(footer.size))
        size = os.fstat(file.fileno()).st_size
    if magic != PatchColumn._MAGIC:
        raise ValueError(f"{path}: not a patch column")
    at = size - footer.size - 4 * (2 * stored + 1)
    numbers = np.asarray(np.memmap(path, dtype="<u4", mode="r", offset=at, shape=(2 * stored + 1,)))
    data = np.asarray(np.memmap(path, dtype=np.uint8, mode="r", shape=(at,))) if at else np.empty(0, np.uint8)
    return data, numbers[:stored], numbers[stored:], patched


class RefNumericColumn(columns.Column):
    """A sortable column of whole numbers (what ``NUMERIC`` and ``DATETIME`` fields put in one:
    non-negative, at most 64 bits) that repeat: each distinct value once, and per document a
    reference to it in 1, 2 or 4 bytes. Whoosh's ``NumericColumn`` spends 8 bytes a paragraph on
    its article's date (xwlb: 1.05 MB for 7,231 dates) and 4 on its number.

    Layout: the references (little-endian, as narrow as the distinct values allow), the distinct
    values (uint64), a footer ``<IIc4s``: documents, distinct values, the references' typecode,
    ``b"ZRN1"``."""

    reversible = True
    _FOOTER = struct.Struct("<IIc4s")
    _MAGIC = b"ZRN1"

    def __init__(self, default: int = 0):
        self._default = default

    def default_value(self, reverse=False):
        return 0 - self._default if reverse else self._default

    def writer(self, dbfile):
        return self.Writer(dbfile, self._default)

    def reader(self, dbfile, basepos, length, doccount):
        return self.Reader(dbfile, basepos, length, doccount)

    class Writer(columns.ColumnWriter):
        def __init__(self, dbfile, default):
            self._dbfile = dbfile
            self._values = {default: 0}  # value → its reference
            self._refs = array("I")

        def __repr__(self):
            return "<RefNumeric.Writer>"

        def fill(self, docnum):
            if docnum > len(self._refs):
                self._refs.extend([0] * (docnum - len(self._refs)))  # the default's reference

        def add(self, docnum, value):
            if type(value) is not int or not 0 <= value < 1 << 64:
                raise ValueError(f"document {docnum}: {value!r} is not a whole number of at most 64 bits")
            self.fill(docnum)
            self._refs.append(self._values.setdefault(value, len(self._values)))

        def finish(self, doccount):
            self.fill(doccount)
            typecode = "B" if len(self._values) <= 1 << 8 else "H" if len(self._values) <= 1 << 16 else "I"
            self._dbfile.write(whoosh_blocks.little_endian(array(typecode, self._refs[:doccount])))
            self._dbfile.write(whoosh_blocks.little_endian(array("Q", self._values)))  # in reference order
            self._dbfile.write(RefNumericColumn._FOOTER.pack(doccount, len(self._values), typecode.encode(),
                                                             RefNumericColumn._MAGIC))

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            footer = RefNumericColumn._FOOTER
            count, distinct, typecode, magic = footer.unpack(dbfile.get(basepos + length - footer.size, footer.size))
            if magic != RefNumericColumn._MAGIC or count != doccount:
                raise ValueError(f"not a reference column of {doccount} documents")
            self._dbfile, self._basepos, self._doccount = dbfile, basepos, doccount
            self._ref = struct.Struct("<" + typecode.decode())
            values = array("Q")
            values.frombytes(dbfile.get(basepos + doccount * self._ref.size, 8 * distinct))
            self._values = whoosh_blocks.little_endian(values, to_bytes=False).tolist()
            self._reverse = False

        def __repr__(self):
            return "<RefNumeric.Reader>"

        def __getitem__(self, docnum):
            if not 0 <= docnum < self._doccount:
                raise IndexError(docnum)
            size = self._ref.size
            return self._values[self._ref.unpack(self._dbfile.get(self._basepos + docnum * size, size))[0]]

        def sort_key(self, docnum):
            return 0 - self[docnum] if self._reverse else self[docnum]

        def set_reverse(self):
            self._reverse = True


class _PickleColumn(columns.PickleColumn):
    """Whoosh's ``PickleColumn`` with pickle's current protocol instead of protocol 2, whose
    ``datetime`` takes a detour through ``copyreg`` (a stored paragraph unpickles in 1.7 µs, not 2.6)."""

    class Writer(columns.PickleColumn.Writer):
        def add(self, docnum, v):
            self._child.add(docnum, b"" if v is None else pickle.dumps(v, pickle.HIGHEST_PROTOCOL))


STORED_COLUMN = _PickleColumn(DictionaryCompressedColumn())


class ZhPerDocWriter(W3PerDocWriter):
    """``W3PerDocWriter`` whose stored-fields column is :data:`STORED_COLUMN`, and which stores a
    document's :data:`PATCHED_FIELD` text as a :class:`~search.text_patch.SkeletonPatch` against
    its :data:`SKELETON_FIELD` column value. The patches' table is learned from the first
    documents, held back meanwhile, and kept in the skeleton column."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._skeleton = None  # this document's
        self._patcher = text_patch.Patcher(text_patch.LEARN_CHARACTERS)
        self._held: list[tuple[int, dict, str | None]] = []  # documents' numbers, stored fields, skeletons

    def _create_column(self, fieldname, column):
        super()._create_column(fieldname, STORED_COLUMN if fieldname == "_stored" else column)

    def add_column_value(self, fieldname, columnobj, value):
        if fieldname == SKELETON_FIELD:
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

    def _release(self) -> None:
        """The table is learned: write the held documents' stored fields, and keep the table."""
        if SKELETON_FIELD in self._colwriters:
            self._colwriters[SKELETON_FIELD].table = self._patcher.table
        held, self._held = self._held, []
        for docnum, stored, skeleton in held:
            self._add_stored(docnum, stored, skeleton)

    def close(self):
        if self._indoc:
            self.finish_doc()
        if self._patcher.learning:
            self._patcher.learn()
            self._release()
        if SKELETON_FIELD in self._colwriters:  # (created after the table was learned, it has none yet)
            self._colwriters[SKELETON_FIELD].table = self._patcher.table
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
    """``W3FieldWriter`` whose term table is a :class:`~search.whoosh_terms.TermTableWriter`."""

    def __init__(self, codec, storage, segment):  # W3FieldWriter's, with the other table
        self._codec, self._storage, self._segment = codec, storage, segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = whoosh_terms.TermTableWriter(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False


class ZhCodec(W3Codec):
    """Whoosh 3's codec with the stored fields in a :class:`DictionaryCompressedColumn` and the
    terms in a :mod:`search.whoosh_terms` table."""

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
        return whoosh_terms.TermsReader(self, storage.open_file(name), storage.file_length(name),
                                        segment.open_file(storage, self.POSTS_EXT))


class ZhLeafMatcher(W3LeafMatcher):
    """``W3LeafMatcher`` that also reads blocks written column by column
    (:mod:`search.whoosh_blocks`: ``CompactCharacters`` values, or values of one size); the ids,
    weights and values of such a block are decoded only when asked for, as Whoosh's are."""

    _BLOCKS = (whoosh_blocks.ColumnBlock, whoosh_blocks.FixedColumnBlock)

    def _read_data(self):
        length = self._nextoffset - self._dataoffset
        if self._compression == whoosh_blocks.COLUMNS:
            self._data = whoosh_blocks.ColumnBlock(self._postfile.get(self._dataoffset, length), self._blocklength)
        elif self._compression == whoosh_blocks.FIXED_COLUMNS:
            self._data = whoosh_blocks.FixedColumnBlock(self._postfile.get(self._dataoffset, length),
                                                        self._blocklength, self._fixedsize)
        else:
            super()._read_data()

    def _read_ids(self):
        if self._data is None:
            self._read_data()
        if isinstance(self._data, self._BLOCKS):
            self._ids = self._data.ids()
        else:
            super()._read_ids()

    def _read_weights(self):
        if self._data is None:
            self._read_data()
        if isinstance(self._data, self._BLOCKS):
            self._weights = self._data.weights()
        else:
            super()._read_weights()

    def _read_values(self):
        if self._data is None:
            self._read_data()
        if isinstance(self._data, self._BLOCKS):
            self._values = self._data.values()
        else:
            super()._read_values()


def stored_fields_reader(searcher) -> Callable[[int], dict]:
    """``searcher.stored_fields`` for an index of one segment written with :class:`ZhCodec`,
    without the pass through the schema that Whoosh's ``SegmentReader`` makes on every call (a
    build stores no field outside its schema): that pass cost as much as reading the fields."""
    reader = searcher.reader()
    perdoc = getattr(reader, "_perdoc", None)
    if isinstance(perdoc, ZhPerDocReader) and not reader.has_deletions():
        return perdoc.stored_fields
    return searcher.stored_fields


def text_reader(searcher, folder: Path, units: np.ndarray, bounds: np.ndarray) -> Callable[[int], str]:
    """Each document's stored :data:`PATCHED_FIELD` text, for an index of one segment in ``folder``
    whose every document's text is patched: from the skeletons' mapped ``units`` and ``bounds``
    and the mapped patch column, without the stored fields (9.0 → ~3.5 µs a paragraph of xwlb's).
    Otherwise through the stored fields."""
    reader = searcher.reader()
    perdoc = getattr(reader, "_perdoc", None)
    stored = stored_fields_reader(searcher)
    if not (isinstance(perdoc, ZhPerDocReader) and perdoc.has_column(PATCHES) and perdoc.has_column(SKELETON_FIELD)):
        return lambda docnum: stored(docnum)[PATCHED_FIELD]
    segment = reader.segment()
    data, docnums, starts, patched = patch_arrays(Path(folder) / W3Codec.column_filename(segment, PATCHES))
    if patched != reader.doc_count_all() or reader.has_deletions():
        return lambda docnum: stored(docnum)[PATCHED_FIELD]
    bases = text_patch.MappedBases(units, bounds, perdoc._cached_reader(SKELETON_FIELD, SKELETON_COLUMN).table)
    patches = text_patch.MappedPatches(data, docnums, starts)
    apply = text_patch.apply
    return lambda docnum: apply(bases(docnum), patches(docnum))
