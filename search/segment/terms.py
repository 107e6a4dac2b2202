"""The term table of :class:`~search.segment.codec.ZhCodec`: Whoosh 3's term infos, sorted, without
its hash table.

Whoosh 2.7's ``W3Codec`` keeps each segment's terms in an ``OrderedHashWriter`` file: per term, two
lengths (8 bytes), two slots of a hash table (24 bytes), a place in the sorted index (4 bytes), the
key, and a ``W3TermInfo`` of 23 bytes plus 12 for the postings' extent. On xwlb's 143,917 terms that
was 13.8 MB, more than half of it fixed cost. Here the same keys, in the same order, sit one after
another with their term infos in varints, and one array of starts locates both; a term is found by
bisection (Whoosh's ordered reader bisects too, for ``terms_from`` and cursors).

:class:`TermTableWriter` takes what ``W3FieldWriter`` gives its table (a key, the bytes of a
``W3TermInfo``); :class:`TermsReader` answers what ``W3TermsReader`` answers, with the same
``W3TermInfo`` objects, so Whoosh's searcher, its matchers and its merges work unchanged.

Layout: ``b"ZTT1"``; per term its key then its packed info; the starts (``typecode`` items, 2n + 1:
key i starts at 2i, its info at 2i + 1, the records end at 2n); the pickled field map; a footer
``<QQQc4s``: where the starts begin, n, where the field map begins, the starts' typecode, ``b"ZTT1"``.
"""

from __future__ import annotations

import pickle
import struct
from array import array
from bisect import bisect_left

from whoosh.codec import base
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.reading import TermNotFound
from whoosh.system import pack_ushort, unpack_ushort
from whoosh.util.numeric import byte_to_length

from . import varints

MAGIC = b"ZTT1"
_FOOTER = struct.Struct("<QQQc4s")
_W3_INFO = W3TermInfo._struct  # !BfIBBfII: inlined, weight, df, min/max length byte, max weight, min/max id
_EXTENT = struct.Struct("!qi")  # W3's offset and length of a term's postings
_F32 = struct.Struct("<f")
_NO_ID = 0xFFFFFFFF
_INLINED, _WEIGHT_WHOLE, _MAX_WEIGHT_WHOLE, _NO_MIN_ID, _NO_MAX_ID, _COMPACT = 1, 2, 4, 8, 16, 32
_NO_WEIGHTS, _WHOLE_WEIGHTS = 0, 1  # the weights of compact inlined postings
_NO_VALUES, _BYTES_VALUES = 0, 1  # ... and their values (shifted by 2)


def _whole(value: float) -> bool:
    return value >= 0 and value.is_integer() and value < 1 << 53


def _write_weight(weight: float, whole: int, out: bytearray) -> None:
    if whole:
        varints.write(int(weight), out)
    else:
        out += _F32.pack(weight)


def _read_weight(data: bytes, at: int, whole: int) -> tuple[float, int]:
    if whole:
        weight, at = varints.read(data, at)
        return float(weight), at
    return _F32.unpack_from(data, at)[0], at + 4


def pack_info(w3: bytes) -> bytes:
    """The bytes of a ``W3TermInfo`` (``to_bytes``) in varints: ~12 bytes instead of 35."""
    inlined, weight, df, min_length, max_length, max_weight, min_id, max_id = _W3_INFO.unpack_from(w3)
    flags = ((_INLINED if inlined else 0) | (_WEIGHT_WHOLE if _whole(weight) else 0)
             | (_MAX_WEIGHT_WHOLE if _whole(max_weight) else 0) | (_NO_MIN_ID if min_id == _NO_ID else 0)
             | (_NO_MAX_ID if max_id == _NO_ID else 0))
    out = bytearray((flags,))
    varints.write(df, out)
    _write_weight(weight, flags & _WEIGHT_WHOLE, out)
    out += bytes((min_length, max_length))
    _write_weight(max_weight, flags & _MAX_WEIGHT_WHOLE, out)
    base = 0
    if not flags & _NO_MIN_ID:
        varints.write(min_id, out)
        base = min_id
    if not flags & _NO_MAX_ID:
        span = max_id - base  # zigzag: never negative in a real table, but any value reads back
        varints.write(varints.zigzag(span), out)
    rest = w3[_W3_INFO.size:]
    if inlined:
        compact = _compact_postings(pickle.loads(rest))
        if compact is not None:
            out[0] |= _COMPACT
        out += rest if compact is None else compact
    else:
        offset, length = _EXTENT.unpack(rest)
        varints.write(offset, out)
        varints.write(length, out)
    return bytes(out)


def _compact_postings(postings) -> bytes | None:
    """Inlined postings ``(ids, weights, values)`` as this sorted writer writes them — ids a tuple of
    ints, weights None or a tuple of whole ints, values None or a tuple of bytes — in varints instead
    of a pickle (xwlb's words: ~40 → ~20 bytes a term); None for any other shape (kept pickled)."""
    if not (isinstance(postings, tuple) and len(postings) == 3):
        return None
    ids, weights, values = postings
    if not (type(ids) is tuple and ids and all(type(i) is int and i >= 0 for i in ids)):
        return None
    if weights is None:
        weights_kind = _NO_WEIGHTS
    elif type(weights) is tuple and len(weights) == len(ids) and all(type(w) is int and w >= 0 for w in weights):
        weights_kind = _WHOLE_WEIGHTS
    else:
        return None
    if values is None:
        values_kind = _NO_VALUES
    elif type(values) is tuple and len(values) == len(ids) and all(type(v) is bytes for v in values):
        values_kind = _BYTES_VALUES
    else:
        return None
    out = bytearray((weights_kind | values_kind << 2,))
    varints.write(len(ids), out)
    previous = 0
    for i in ids:  # ascending in a real table; zigzag keeps any order
        gap = i - previous
        varints.write(varints.zigzag(gap), out)
        previous = i
    for weight in weights or ():
        varints.write(weight, out)
    for value in values or ():
        varints.write(len(value), out)
        out += value
    return bytes(out)


def _read_compact_postings(data: bytes, at: int) -> tuple:
    """What :func:`_compact_postings` wrote, from ``data[at:]``."""
    kinds = data[at]
    count, at = varints.read(data, at + 1)
    ids, previous = [], 0
    for _ in range(count):
        gap, at = varints.read(data, at)
        previous += varints.unzigzag(gap)
        ids.append(previous)
    weights = values = None
    if kinds & 3 == _WHOLE_WEIGHTS:
        weights = []
        for _ in range(count):
            weight, at = varints.read(data, at)
            weights.append(weight)
        weights = tuple(weights)
    if kinds >> 2 == _BYTES_VALUES:
        values = []
        for _ in range(count):
            size, at = varints.read(data, at)
            values.append(bytes(data[at : at + size]))
            at += size
        values = tuple(values)
    return tuple(ids), weights, values


def unpack_info(packed: bytes) -> W3TermInfo:
    """The ``W3TermInfo`` that :func:`pack_info` packed (what ``W3TermInfo.from_bytes`` reads)."""
    flags = packed[0]
    info = W3TermInfo()
    info._df, at = varints.read(packed, 1)
    info._weight, at = _read_weight(packed, at, flags & _WEIGHT_WHOLE)
    info._minlength, info._maxlength = byte_to_length(packed[at]), byte_to_length(packed[at + 1])
    info._maxweight, at = _read_weight(packed, at + 2, flags & _MAX_WEIGHT_WHOLE)
    info._minid = info._maxid = None
    if not flags & _NO_MIN_ID:
        info._minid, at = varints.read(packed, at)
    if not flags & _NO_MAX_ID:
        span, at = varints.read(packed, at)
        info._maxid = (info._minid or 0) + varints.unzigzag(span)
    if flags & _INLINED:
        info._inlined = _read_compact_postings(packed, at) if flags & _COMPACT else pickle.loads(packed[at:])
    else:
        info._offset, at = varints.read(packed, at)
        info._length, at = varints.read(packed, at)
    return info


class TermTableWriter:
    """Stands in for the ``OrderedHashWriter`` of ``W3FieldWriter``: ``add(key, W3 term info bytes)``
    in increasing key order, ``extras["fieldmap"]``, ``close()``."""

    def __init__(self, dbfile):
        self.dbfile = dbfile
        self.extras = {"fieldmap": {}}
        self._starts = array("Q")
        self._last = b""
        dbfile.write(MAGIC)

    def add(self, key: bytes, value: bytes) -> None:
        if self._starts and key <= self._last:
            raise ValueError(f"keys must increase: {self._last!r}..{key!r}")
        self._last = key
        dbfile = self.dbfile
        self._starts.append(dbfile.tell())
        dbfile.write(key)
        self._starts.append(dbfile.tell())
        dbfile.write(pack_info(value))

    def close(self) -> None:
        dbfile = self.dbfile
        starts = self._starts
        starts.append(dbfile.tell())
        typecode = "I" if starts[-1] < 1 << 32 else "Q"
        at = dbfile.tell()
        dbfile.write(array(typecode, starts).tobytes() if typecode == "I" else starts.tobytes())
        fieldmap_at = dbfile.tell()
        dbfile.write(pickle.dumps(self.extras["fieldmap"], pickle.HIGHEST_PROTOCOL))
        dbfile.write(_FOOTER.pack(at, len(starts) // 2, fieldmap_at, typecode.encode(), MAGIC))
        dbfile.close()


class TermsReader(base.TermsReader):
    """``W3TermsReader``'s answers from a :class:`TermTableWriter` file."""

    def __init__(self, codec, dbfile, length: int, postfile):
        self._codec, self._dbfile, self._postfile = codec, dbfile, postfile
        footer = bytes(dbfile.get(length - _FOOTER.size, _FOOTER.size)) if length >= _FOOTER.size else b""
        if len(footer) != _FOOTER.size or footer[-len(MAGIC):] != MAGIC:
            raise ValueError(f"not a zhsearch term table (footer {footer[-len(MAGIC):]!r})")
        starts_at, self.count, fieldmap_at, typecode, _ = _FOOTER.unpack(footer)
        self._starts_at = starts_at
        self._start = struct.Struct("<" + typecode.decode()).size
        self._fieldmap = pickle.loads(dbfile.get(fieldmap_at, length - _FOOTER.size - fieldmap_at))
        self._fieldunmap = {number: name for name, number in self._fieldmap.items()}
        size = (2 * self.count + 1) * self._start
        buffer = getattr(dbfile, "_buf", None)  # a file in memory or mapped: read it in place
        if buffer is not None:
            self._data = memoryview(buffer)
            self._starts = self._data[starts_at : starts_at + size].cast(typecode.decode())
        else:  # a file read through seeks: its starts once, its records as they are asked for
            self._data = None
            self._starts = array(typecode.decode())
            self._starts.frombytes(dbfile.get(starts_at, size))

    # -- the table ---------------------------------------------------------------------------------

    def key(self, i: int) -> bytes:
        start, end = self._starts[2 * i], self._starts[2 * i + 1]
        data = self._data
        return data[start:end].tobytes() if data is not None else self._dbfile.get(start, end - start)

    def _record(self, i: int) -> tuple[bytes, bytes]:
        starts = self._starts
        key_start, info_start, end = starts[2 * i], starts[2 * i + 1], starts[2 * i + 2]
        data = self._data
        record = data[key_start:end].tobytes() if data is not None else self._dbfile.get(key_start, end - key_start)
        return record[: info_start - key_start], record[info_start - key_start :]

    def first_at_least(self, key: bytes) -> int:
        """The index of the first key ≥ ``key`` (``count`` when there is none)."""
        # bisected over the indexes, not over a sequence object holding the table: no reference
        # cycle, so a build swapped out is unmapped as soon as its reader is dropped
        return bisect_left(range(self.count), key, key=self.key)

    def _find(self, key: bytes) -> int:
        """The index of ``key``, or -1."""
        i = self.first_at_least(key)
        return i if i < self.count and self.key(i) == key else -1

    def _encode(self, fieldname: str, tbytes: bytes) -> bytes:
        return pack_ushort(self._fieldmap.get(fieldname, 65535)) + tbytes

    def _decode(self, key: bytes) -> tuple[str, bytes]:
        return self._fieldunmap[unpack_ushort(key[:2])[0]], key[2:]

    def _info(self, fieldname: str, tbytes: bytes) -> W3TermInfo:
        i = self._find(self._encode(fieldname, tbytes))
        if i < 0:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return unpack_info(self._record(i)[1])

    def _from(self, fieldname: str, prefix: bytes):
        for i in range(self.first_at_least(self._encode(fieldname, prefix)), self.count):
            yield self._record(i)

    # -- Whoosh's TermsReader ----------------------------------------------------------------------

    def __contains__(self, term) -> bool:
        fieldname, tbytes = term
        return self._find(self._encode(fieldname, tbytes)) >= 0

    def indexed_field_names(self):
        return self._fieldmap.keys()

    def cursor(self, fieldname, fieldobj):
        return _FieldCursor(self, fieldname, fieldobj)

    def terms(self):
        return (self._decode(self.key(i)) for i in range(self.count))

    def terms_from(self, fieldname, prefix):
        return (self._decode(key) for key, _ in self._from(fieldname, prefix))

    def items(self):
        return ((self._decode(key), unpack_info(info)) for key, info in map(self._record, range(self.count)))

    def items_from(self, fieldname, prefix):
        return ((self._decode(key), unpack_info(info)) for key, info in self._from(fieldname, prefix))

    def term_info(self, fieldname, tbytes):
        return self._info(fieldname, tbytes)

    def _packed(self, fieldname: str, tbytes: bytes) -> bytes:
        """A term's packed info; KeyError when there is no such term (as W3's ``range_for_key``:
        Whoosh's reader answers 0 for it)."""
        i = self._find(self._encode(fieldname, tbytes))
        if i < 0:
            raise KeyError((fieldname, tbytes))
        return self._record(i)[1]

    def frequency(self, fieldname, tbytes):
        return unpack_info(self._packed(fieldname, tbytes)).weight()

    def doc_frequency(self, fieldname, tbytes):
        return varints.read(self._packed(fieldname, tbytes), 1)[0]  # the count follows the flags

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        return self._codec.postings_reader(self._postfile, self._info(fieldname, tbytes), format_,
                                           term=(fieldname, tbytes), scorer=scorer)

    def close(self):
        if self._data is not None:  # views of the mapping keep it mapped until released
            self._starts.release()
            self._data.release()
            self._data = None
        self._dbfile.close()
        self._postfile.close()


class _FieldCursor(base.FieldCursor):
    """A field's terms in order, as ``W3FieldCursor`` walks them."""

    def __init__(self, table: TermsReader, fieldname: str, fieldobj):
        self._table, self._fieldname, self._fieldobj = table, fieldname, fieldobj
        self._prefix = table._encode(fieldname, b"")
        self._first = table.first_at_least(self._prefix)
        self._at = self._first
        self._text = None
        self.next()

    def first(self):
        self._at = self._first
        return self.next()

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        self._at = self._table.first_at_least(self._prefix + term)
        return self.next()

    def next(self):
        if self._at is not None and self._at < self._table.count:
            key = self._table.key(self._at)
            if key.startswith(self._prefix):
                self._text = self._fieldobj.from_bytes(key[2:])
                self._at += 1
                return self._text
        self._text = self._at = None
        return None

    def text(self):
        return self._text

    def term_info(self):
        if self._at is None:
            return None
        return unpack_info(self._table._record(self._at - 1)[1])

    def is_valid(self):
        return self._at is not None
