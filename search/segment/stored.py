"""The stored-fields column of every build: documents' stored values compressed by zstd, a block of
documents at a time, against a dictionary trained on the segment's own first values
(:data:`STORED_COLUMN`, read and written by :class:`~search.segment.codec.ZhCodec`).
"""

from __future__ import annotations

import pickle
import struct
import threading
from itertools import accumulate

import zstandard
from whoosh import columns

# The column's header names its frames: ZDC1 (builds before 2026-12-02) holds zstd's standard
# frames, ZDC2 frames without zstd's 4-byte magic number (the column says what they are).
_MAGIC, _MAGIC_STANDARD_FRAMES = b"ZDC2", b"ZDC1"
_FRAME_FORMATS = {_MAGIC: zstandard.FORMAT_ZSTD1_MAGICLESS, _MAGIC_STANDARD_FRAMES: zstandard.FORMAT_ZSTD1}
_HEADER = struct.Struct("<4sI")  # magic, dictionary length (0: no dictionary)
# ZDC3: documents compressed together a block at a time (DictionaryCompressedColumn's block_docs)
_MAGIC_BLOCKS = b"ZDC3"
_BLOCK_HEADER = struct.Struct("<4sII")  # magic, dictionary length, documents a block
# Measured on xwlb's 131,367 stored paragraphs (48 MiB of pickles): zstd 3 with a 112 KiB
# dictionary trained on 4 MiB, standard frames, 18.6 MiB; a 1 MiB dictionary trained on 16 MiB,
# zstd 9, frames without magic, 14.0 MiB (1.9 s to compress them all; a value still decompresses
# in ~1 µs). Since the texts are patches in a column of their own, the stored values are the other
# fields (xwlb: 19.9 MB of pickles): trained on 4 MiB, the dictionary is 256 KiB and the values
# 3.83 MB, after 0.4 s of training; on 16 MiB, 1 MiB, 3.96 MB and 1.7 s (and 12 MiB more held).
TRAINING_BYTES = 4 << 20  # values buffered to train the dictionary (~28,000 paragraphs)
DICTIONARY_BYTES = 1 << 20
_MIN_TRAINING_VALUES = 256  # fewer values do not train a dictionary worth its bytes
_MIN_TRAINING_BLOCKS = 64  # ... nor fewer blocks (each of many values)
# A block already holds its neighbours' repeats, so a small dictionary does best: xwlb's stored
# fields 32 documents a block, trained on 4 MiB, with a 148 KiB dictionary 0.79 MB, 64 KiB 0.65 MB,
# 16 KiB 0.60 MB (4.09 MB a value at a time).
_BLOCK_DICTIONARY_SHARE = 256
LEVEL = 9


def _compressor(dictionary: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdCompressor:
    # no magic, dictionary id or checksum in each value's frame: 4 + 4 + 4 bytes a value for nothing
    parameters = zstandard.ZstdCompressionParameters.from_level(
        LEVEL, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_dict_id=False, write_checksum=False,
        write_content_size=True)
    return zstandard.ZstdCompressor(dict_data=dictionary, compression_params=parameters)


def train_dictionary(samples: list[bytes], min_samples: int = _MIN_TRAINING_VALUES, share: int = 16) -> bytes:
    """A zstd dictionary for values like ``samples`` (``1/share`` of their size at most), or ``b""``
    when they are too few to train one."""
    if len(samples) < min_samples:
        return b""
    # zstd advises samples of ~100× the dictionary; on paragraphs 16× measured better (see above)
    size = min(DICTIONARY_BYTES, max(sum(map(len, samples)) // share, 256))
    try:
        return zstandard.train_dictionary(size, samples, level=LEVEL).as_bytes()
    except zstandard.ZstdError:  # e.g. samples too uniform or too small for zstd's trainer
        return b""


class DictionaryCompressedColumn(columns.Column):
    """Variable-length byte strings compressed by zstd with a dictionary trained on the column's
    first values (up to ``training_bytes``), written at the column's head: each value on its own,
    or with ``block_docs`` > 1 the values of that many consecutive documents together.

    Layouts: ``b"ZDC2"``, the dictionary's length (u32, little-endian), the dictionary, then a
    ``VarBytesColumn`` of the compressed values, zstd frames without their magic number; an empty
    value stays empty. ``b"ZDC3"``, the dictionary's length, ``block_docs`` (u32), the dictionary,
    then a ``VarBytesColumn`` of compressed blocks: block ``b`` holds documents
    ``b * block_docs`` onwards, their lengths (u32 each) and then their bytes, one frame without
    its magic number. Neighbouring documents share most of their stored fields (an article's id,
    date and source), which a value compressed alone cannot reuse; Lucene's stored fields are
    compressed in chunks of documents for the same reason. Columns headed ``b"ZDC1"`` (standard
    frames, one value each) still read."""

    _default = b""

    def __init__(self, training_bytes: int = TRAINING_BYTES, block_docs: int = 1):
        if block_docs < 1:
            raise ValueError("block_docs must be at least 1")
        self.training_bytes = training_bytes
        self.block_docs = block_docs

    def writer(self, dbfile):
        if self.block_docs > 1:
            return self.BlockWriter(dbfile, self.training_bytes, self.block_docs)
        return self.Writer(dbfile, self.training_bytes)

    def reader(self, dbfile, basepos, length, doccount):
        if bytes(dbfile.get(basepos, 4)) == _MAGIC_BLOCKS:
            return self.BlockReader(dbfile, basepos, length, doccount)
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

    class BlockWriter(columns.ColumnWriter):
        """Writes the ``ZDC3`` layout: documents in ascending order, a block at a time."""

        def __init__(self, dbfile, training_bytes, block_docs):
            self._dbfile = dbfile
            self._training_bytes = training_bytes
            self._block_docs = block_docs
            self._blocks = columns.VarBytesColumn.Writer(dbfile)
            self._block: list[bytes] = []  # the values of the block being filled
            self._written = 0  # blocks written (or pending)
            self._pending: list[bytes] | None = []  # whole blocks waiting for the dictionary
            self._pending_bytes = 0
            self._compress = None

        def __repr__(self):
            return "<DictionaryCompressed.BlockWriter>"

        def add(self, docnum, value):
            self.fill(docnum)
            if docnum < self._next:
                raise ValueError(f"document {docnum} comes after document {self._next - 1}")
            self._block.append(value)
            if len(self._block) == self._block_docs:
                self._end_block()

        @property
        def _next(self) -> int:
            """The number of the next document."""
            return self._written * self._block_docs + len(self._block)

        def fill(self, docnum):
            while self._next < docnum:
                self._block.append(b"")
                if len(self._block) == self._block_docs:
                    self._end_block()

        def _end_block(self):
            values, self._block = self._block, []
            block = struct.pack(f"<{len(values)}I", *map(len, values)) + b"".join(values)
            if self._pending is None:
                self._blocks.add(self._written, self._compress(block))
            else:
                self._pending.append(block)
                self._pending_bytes += len(block)
                if self._pending_bytes >= self._training_bytes:
                    self._start()
            self._written += 1

        def _start(self):
            """Train the dictionary on the blocks so far, write it, then write those blocks."""
            pending, self._pending = self._pending, None
            dictionary = train_dictionary(pending, min_samples=_MIN_TRAINING_BLOCKS, share=_BLOCK_DICTIONARY_SHARE)
            self._dbfile.write(_BLOCK_HEADER.pack(_MAGIC_BLOCKS, len(dictionary), self._block_docs))
            self._dbfile.write(dictionary)
            self._compress = _compressor(zstandard.ZstdCompressionDict(dictionary) if dictionary else None).compress
            for number, block in enumerate(pending):
                self._blocks.add(number, self._compress(block))

        def finish(self, doccount):
            self.fill(doccount)
            if self._block:
                self._end_block()
            if self._pending is not None:
                self._start()
            self._blocks.finish(self._written)

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

    class BlockReader(columns.ColumnReader):
        """Reads the ``ZDC3`` layout, keeping the block read last (per thread) at hand."""

        def __init__(self, dbfile, basepos, length, doccount):
            magic, size, self._block_docs = _BLOCK_HEADER.unpack(dbfile.get(basepos, _BLOCK_HEADER.size))
            if magic != _MAGIC_BLOCKS or self._block_docs < 1:
                raise ValueError(f"not a block-compressed column (header {magic!r})")
            dictionary = bytes(dbfile.get(basepos + _BLOCK_HEADER.size, size)) if size else b""
            self._dictionary = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
            skip = _BLOCK_HEADER.size + size
            blocks = -(-doccount // self._block_docs)
            self._blocks = columns.VarBytesColumn.Reader(dbfile, basepos + skip, length - skip, blocks)
            self._local = threading.local()  # a zstd decompressor must not be shared between threads
            self._doccount = doccount

        def __repr__(self):
            return "<DictionaryCompressed.BlockReader>"

        def _block(self, number: int) -> tuple[bytes, list[int]]:
            """Block ``number``'s bytes and where each of its values starts (and the last ends)."""
            local = self._local
            if getattr(local, "number", None) == number:
                return local.block
            if not hasattr(local, "decompress"):
                local.decompress = zstandard.ZstdDecompressor(
                    dict_data=self._dictionary, format=zstandard.FORMAT_ZSTD1_MAGICLESS).decompress
            count = min(self._block_docs, self._doccount - number * self._block_docs)
            data = local.decompress(self._blocks[number])
            head = 4 * count
            local.block = data, list(accumulate(struct.unpack_from(f"<{count}I", data), initial=head))
            local.number = number
            return local.block

        def __getitem__(self, docnum):
            if not 0 <= docnum < self._doccount:
                raise IndexError(docnum)
            number, i = divmod(docnum, self._block_docs)
            data, starts = self._block(number)
            return data[starts[i] : starts[i + 1]]


class _PickleColumn(columns.PickleColumn):
    """Whoosh's ``PickleColumn`` with pickle's current protocol instead of protocol 2, whose
    ``datetime`` takes a detour through ``copyreg`` (a stored paragraph unpickles in 1.7 µs, not 2.6)."""

    class Writer(columns.PickleColumn.Writer):
        def add(self, docnum, v):
            self._child.add(docnum, b"" if v is None else pickle.dumps(v, pickle.HIGHEST_PROTOCOL))


STORED_BLOCK_DOCS = 32  # xwlb: 0.60 MB (4.09 a value at a time; 64 a block: 0.51 MB, but twice the bytes to read a document)
STORED_COLUMN = _PickleColumn(DictionaryCompressedColumn(block_docs=STORED_BLOCK_DOCS))
