"""The Whoosh column types of a build, beside Whoosh's own: each one written by its ``Writer`` and
read back by its ``Reader`` through Whoosh (``columns.Column`` makes them, and ``ColumnReader``
iterates a reader by its ``__getitem__``), and the two the searcher maps with numpy.

* :class:`SkeletonColumn` — every paragraph's skeleton as UTF-16 code units, uncompressed: the
  match index's ``units`` (:func:`skeleton_arrays`) and what stored texts are patches against;
* :class:`PatchColumn` — the non-empty patches (:mod:`search.segment.text_patch`) that give the texts back
  (:func:`patch_arrays`);
* :class:`RefNumericColumn` — a sortable number per document as a reference to its distinct values.

Arrays are little-endian and mapped as the machine's own (zhsearch runs on little-endian machines,
as numpy's ``.npy`` files of the match index assume).
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from pathlib import Path

import numpy as np
from whoosh import columns

from .blocks import little_endian

SKELETON_MAGIC = b"ZSK1"
_SKELETON_FOOTER = struct.Struct("<QQI4s")
_TWO_STARTS = struct.Struct("<II")
_MAX_UNITS = (1 << 32) - 1  # starts are uint32, as the match index's positions


class SkeletonColumn(columns.Column):
    """Each document's skeleton (its normalised text without white space) as UTF-16 code units,
    uncompressed, one after another with a 0 after each: the layout of the match index's
    ``units`` (:mod:`search.match.grams`), which maps this column's file (:func:`skeleton_arrays`) instead
    of holding a copy, and the text that stored paragraphs are patches against
    (:mod:`search.segment.text_patch`).

    Layout: ``b"ZSK1"`` and 4 zero bytes; the code units (and two zero bytes when they are odd in
    number); per document where its units start (uint32, little-endian), and one more entry, the
    number of units (the match index's ``bounds``); the patches' table of
    :class:`~search.segment.text_patch.Patcher` (pairs of code points, uint32); a footer ``<QQI4s``: the
    number of units, of documents, of table pairs, ``b"ZSK1"``. A skeleton cannot hold the
    character 0."""

    _default = ""
    _HEAD = SKELETON_MAGIC + bytes(4)

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
            self._dbfile.write(little_endian(self._starts))
            pairs = array("I", [code for key, value in sorted(self.table.items()) for code in (key, ord(value))])
            self._dbfile.write(little_endian(pairs))
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
            table = little_endian(table, to_bytes=False)
            self.table = {table[i]: chr(table[i + 1]) for i in range(0, len(table), 2)}

        def __repr__(self):
            return "<SkeletonColumn.Reader>"

        def __getitem__(self, docnum):
            if not 0 <= docnum < self._doccount:
                raise IndexError(docnum)
            start, end = _TWO_STARTS.unpack(self._dbfile.get(self._starts_at + 4 * docnum, 8))
            at = self._basepos + len(SkeletonColumn._HEAD) + 2 * start
            return self._dbfile.get(at, 2 * (end - start - 1)).decode("utf-16-le")


SKELETON_COLUMN = SkeletonColumn()


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
    """Each patched document's patch (:mod:`search.segment.text_patch`), only the non-empty ones kept (nine
    paragraphs in ten of xwlb's need none), uncompressed: a hit's text is read without the stored
    fields' decompression and unpickling.

    Layout: the non-empty patches one after another, zero bytes to a multiple of 4; their
    documents' numbers (uint32, little-endian, ascending); where each starts, and one more entry,
    the end (uint32); a footer ``<III4s``: documents, non-empty patches, patched documents,
    ``b"ZPC1"``."""

    _FOOTER = struct.Struct("<III4s")
    _MAGIC = b"ZPC1"

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
            self._dbfile.write(little_endian(self._docnums))
            self._dbfile.write(little_endian(self._starts))
            footer = PatchColumn._FOOTER.pack(doccount, len(self._docnums), self._patched, PatchColumn._MAGIC)
            self._dbfile.write(footer)

    class Reader(columns.ColumnReader):
        def __init__(self, dbfile, basepos, length, doccount):
            footer = PatchColumn._FOOTER
            count, stored, self.patched, magic = footer.unpack(dbfile.get(basepos + length - footer.size, footer.size))
            if magic != PatchColumn._MAGIC or count != doccount:
                raise ValueError(f"not a patch column of {doccount} documents")
            self._dbfile, self._basepos, self._doccount = dbfile, basepos, doccount
            at = basepos + _patch_numbers_offset(length, stored)
            numbers = array("I")
            numbers.frombytes(dbfile.get(at, 4 * (2 * stored + 1)))
            numbers = little_endian(numbers, to_bytes=False)
            self._docnums, self._starts = numbers[:stored], numbers[stored:]

        def __repr__(self):
            return "<Patch.Reader>"

        def __getitem__(self, docnum):
            i = bisect.bisect_left(self._docnums, docnum)
            if i == len(self._docnums) or self._docnums[i] != docnum:
                return b""
            return self._dbfile.get(self._basepos + self._starts[i], self._starts[i + 1] - self._starts[i])


PATCH_COLUMN = PatchColumn()


def _patch_numbers_offset(length: int, stored: int) -> int:
    """Where the documents' numbers and starts of a patch column of ``length`` bytes holding
    ``stored`` patches begin, from its start (its bytes end there)."""
    return length - PatchColumn._FOOTER.size - 4 * (2 * stored + 1)


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
    at = _patch_numbers_offset(size, stored)
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
            self._dbfile.write(little_endian(array(typecode, self._refs[:doccount])))
            self._dbfile.write(little_endian(array("Q", self._values)))  # in reference order
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
            self._values = little_endian(values, to_bytes=False).tolist()
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
