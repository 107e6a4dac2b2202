"""How many paragraphs contain each of many keys, exactly — what a quoted phrase's ``total`` would be
— for a whole vocabulary at once (:func:`paragraph_counts`), in a few passes of numpy over the
skeletons' code units rather than a search per key (xwlb's 101 k words: about a second of CPU,
where a search for each of its 46 k words of three characters or more alone took five).

* one code unit: each (paragraph, unit) of a block of paragraphs once, by a sort, and a unit counted
  once per paragraph it is in;
* two: the length of the bigram's posting list (the match index holds it);
* three or more: every position's next three units as one exact 48-bit number, looked up among
  the keys' first three units — a bitmap of hashes first, then a binary search — and a longer
  key's other units compared at the positions found; then each (key, paragraph) once.

It keeps the occurrences of the keys of three units or more that it found, so that
:func:`touching` can tell, later, which occurrences of any key cover ``marked`` units (where
the original text differs from what the skeleton suggests: a build's display forms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

BLOCK_UNITS = 1 << 18  # code units of paragraphs handled at a time (each takes some 40 bytes a unit)
WIDEST = 32  # keys longer than this many code units are counted one by one (``one_by_one``)
_HASH = np.uint64(0x9E3779B97F4A7C15)
_BITMAP_BITS = 24
_U16 = np.uint64(16)


@dataclass
class Counted:
    """Per key: the paragraphs that contain it, its width in code units and, for a key of one or
    two units, those as one number (``a``, ``a << 16 | b``); every occurrence found of the keys of
    three units or more (but those counted one by one): its key and where it starts in the units."""

    counts: np.ndarray
    widths: np.ndarray
    short_codes: np.ndarray
    found_keys: np.ndarray
    found_starts: np.ndarray


@dataclass
class Touching:
    """Occurrences that cover a marked unit: parallel arrays of the key's index, the occurrence's
    start in the units and its paragraph."""

    keys: np.ndarray
    starts: np.ndarray
    paragraphs: np.ndarray


def _blocks(bounds: np.ndarray, block_units: int):
    """``(first, end)`` paragraph ranges of about ``block_units`` units each, and fewer than 65,536
    paragraphs (a paragraph's place in its block takes 16 bits)."""
    paragraphs, first = len(bounds) - 1, 0
    while first < paragraphs:
        end = int(np.searchsorted(bounds, int(bounds[first]) + block_units, side="right")) - 1
        end = min(max(end, first + 1), paragraphs, first + 0xFFFF)
        yield first, end
        first = end


class _Table:
    """Keys sorted by the number their first three units make, with a bitmap of those numbers'
    hashes to rule most positions out without a binary search."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray):
        order = np.argsort(codes, kind="stable")
        self.codes, self.ids = codes[order], ids[order]
        self.bitmap = np.zeros(1 << _BITMAP_BITS, dtype=bool)
        self.bitmap[self._hash(self.codes)] = True

    @staticmethod
    def _hash(codes: np.ndarray) -> np.ndarray:
        return (codes * _HASH) >> np.uint64(64 - _BITMAP_BITS)

    def ranges(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The positions (into ``codes``) whose number some key starts with, and where its keys lie."""
        maybe = np.flatnonzero(self.bitmap[self._hash(codes)])
        lo = np.searchsorted(self.codes, codes[maybe], "left")
        hi = np.searchsorted(self.codes, codes[maybe], "right")
        found = hi > lo
        return maybe[found], lo[found], hi[found]


def paragraph_counts(units: np.ndarray, bounds: np.ndarray, keys: Sequence[str], *,
                     bigram_counts: Callable[[np.ndarray], np.ndarray],
                     one_by_one: Callable[[str], int], block_units: int = BLOCK_UNITS,
                     marked: np.ndarray | None = None) -> Counted:
    """For each of ``keys`` (non-empty, no character 0), how many paragraphs' skeletons contain it.

    ``units``/``bounds``: the skeletons (paragraph ``gid`` is ``units[bounds[gid]:bounds[gid + 1] - 1]``,
    a 0 after each); ``bigram_counts``: the paragraphs holding each bigram given as ``a << 16 | b``;
    ``one_by_one``: the count of a key wider than :data:`WIDEST` units; ``marked`` (sorted unit
    positions): keep only the occurrences that cover one — all :func:`touching` will look at — so
    that what is kept does not grow with the archive."""
    joined = np.frombuffer("\x00".join(keys).encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    ends = np.flatnonzero(joined == 0) if len(keys) > 1 else np.zeros(0, dtype=np.int64)
    if len(ends) != max(len(keys) - 1, 0):
        raise ValueError("a key cannot hold the character 0")
    ends = np.append(ends, len(joined)) if keys else ends
    offsets = np.concatenate(([0], ends[:-1] + 1))  # key i is joined[offsets[i]:offsets[i] + widths[i]]
    widths = ends - offsets
    padded = np.zeros(len(joined) + WIDEST, dtype=np.uint64)  # room to read past the last key
    padded[: len(joined)] = joined

    def prefix_code(ids: np.ndarray, n: int) -> np.ndarray:  # each key's first n units as one number
        code = np.zeros(len(ids), dtype=np.uint64)
        for j in range(n):
            code = code << _U16 | padded[offsets[ids] + j]
        return code

    counts = np.zeros(len(keys), dtype=np.int64)
    found_keys: list[np.ndarray] = []
    found_starts: list[np.ndarray] = []

    # two units: the bigram's posting list
    two = np.flatnonzero(widths == 2)
    short_codes = np.zeros(len(keys), dtype=np.uint32)
    short_codes[two] = prefix_code(two, 2).astype(np.uint32)
    short_codes[widths == 1] = prefix_code(np.flatnonzero(widths == 1), 1).astype(np.uint32)
    if len(two):
        counts[two] = bigram_counts(short_codes[two])
    for i in np.flatnonzero(widths > WIDEST).tolist():
        counts[i] = one_by_one(keys[i])

    one = np.full(1 << 16, -1, dtype=np.int64)  # a unit → the key that is that unit alone
    singles = np.flatnonzero(widths == 1)
    one[joined[offsets[singles]]] = singles
    long_ids = np.flatnonzero((widths >= 3) & (widths <= WIDEST))
    table = _Table(prefix_code(long_ids, 3), long_ids) if len(long_ids) else None
    if table is not None:  # each key's units, padded with zeros
        long_widths = widths[table.ids]
        columns = np.arange(WIDEST)
        rest = padded[offsets[table.ids][:, None] + columns].astype(np.uint16)

    per_unit = np.zeros(1 << 16, dtype=np.int64)
    for first, end in _blocks(bounds, block_units):
        start, stop = int(bounds[first]), int(bounds[end])
        block = units[start:stop]
        # one unit: (paragraph in the block, unit) as one number, each once: a unit's paragraphs
        local = np.repeat(np.arange(end - first, dtype=np.uint32), np.diff(bounds[first : end + 1]).astype(np.int64))
        pairs = _distinct(local << np.uint32(16) | block)
        per_unit += np.bincount((pairs & 0xFFFF).astype(np.int64), minlength=1 << 16)
        del local
        if table is None:
            continue
        n = len(block)
        wide_block = np.zeros(n + WIDEST, dtype=np.uint64)
        wide_block[:n] = block
        code3 = wide_block[:n] << np.uint64(32) | wide_block[1 : n + 1] << _U16 | wide_block[2 : n + 2]
        at, lo, hi = table.ranges(code3)
        many = hi - lo  # the keys that begin with these three units: each compared at the position
        at = np.repeat(at, many)
        rows = np.repeat(lo - np.cumsum(many) + many, many) + np.arange(int(many.sum()))
        same = np.ones(len(at), dtype=bool)
        left = np.arange(len(at))  # the rows whose key may still go on
        for j in range(3, WIDEST):
            left = left[long_widths[rows[left]] > j]
            if not len(left):
                break
            differ = wide_block[at[left] + j] != rest[rows[left], j]
            same[left[differ]] = False
            left = left[~differ]
        at, key_ids = at[same] + start, table.ids[rows[same]]
        if marked is not None:
            covering = _covers(marked, at, widths[key_ids])
            found_keys.append(key_ids[covering].astype(np.int32))
            found_starts.append(at[covering].astype(np.uint32))
        else:
            found_keys.append(key_ids.astype(np.int32))
            found_starts.append(at.astype(np.uint32))
        # each (key, paragraph) once: no paragraph spans two blocks
        paragraph = np.searchsorted(bounds, at, side="right") - 1
        pairs = _distinct(key_ids.astype(np.uint64) << np.uint64(32) | paragraph.astype(np.uint64))
        counts += np.bincount((pairs >> np.uint64(32)).astype(np.int64), minlength=len(keys))
    ones = np.flatnonzero(one >= 0)
    counts[one[ones]] = per_unit[ones]
    return Counted(counts, widths, short_codes, _joined(found_keys, np.int32), _joined(found_starts, np.uint32))


def touching(counted: Counted, units: np.ndarray, bounds: np.ndarray, marked: np.ndarray) -> Touching:
    """The occurrences of the counted keys that cover a marked unit (``marked``: their positions,
    sorted): from those :func:`paragraph_counts` found, and for keys of one or two units, at the
    marks."""
    keys: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    at = np.asarray(marked, dtype=np.int64)
    if len(at):
        first = counted.found_starts.astype(np.int64)
        covers = _covers(at, first, counted.widths[counted.found_keys])
        keys.append(counted.found_keys[covers])
        starts.append(first[covers])
        one = np.full(1 << 16, -1, dtype=np.int64)  # a unit → the key that is that unit alone
        singles = np.flatnonzero(counted.widths == 1)
        one[counted.short_codes[singles]] = singles
        alone = one[units[at]]
        keys.append(alone[alone >= 0])
        starts.append(at[alone >= 0])
        two = np.flatnonzero(counted.widths == 2)
        if len(two):
            order = np.argsort(counted.short_codes[two])
            codes, two = counted.short_codes[two][order], two[order]
            begin = _distinct(np.concatenate((at, at[at > 0] - 1)))
            begin = begin[begin + 1 < len(units)]
            pair = units[begin].astype(np.uint32) << np.uint32(16) | units[begin + 1]
            where = np.minimum(np.searchsorted(codes, pair), len(codes) - 1)
            hit = codes[where] == pair
            keys.append(two[where[hit]])
            starts.append(begin[hit])
    key_ids, positions = _joined(keys, np.int64), _joined(starts, np.int64)
    return Touching(key_ids, positions, np.searchsorted(bounds, positions, side="right").astype(np.int64) - 1)


def _covers(marked: np.ndarray, starts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Whether each occurrence (``starts``, ``widths``) covers one of the sorted ``marked`` positions:
    the first mark at or after its start lies before its end."""
    marked = np.asarray(marked, dtype=np.int64)
    if not len(marked):
        return np.zeros(len(starts), dtype=bool)
    starts = np.asarray(starts, dtype=np.int64)
    nearest = marked[np.minimum(np.searchsorted(marked, starts), len(marked) - 1)]
    return (nearest >= starts) & (nearest < starts + widths)


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, by a sort (numpy's ``unique`` hashes here, several times slower)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def bigram_counter(units: np.ndarray, bounds: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``bigram_counts`` for :func:`paragraph_counts` worked out from the skeletons themselves (a
    few paragraphs' worth: each (paragraph, bigram) once, by a sort)."""
    units = np.asarray(units, dtype=np.uint64)
    paragraph = np.repeat(np.arange(len(bounds) - 1, dtype=np.uint64), np.diff(np.asarray(bounds, dtype=np.int64)))
    pair = units[:-1] << _U16 | units[1:]
    inside = (units[:-1] != 0) & (units[1:] != 0)
    codes = (pair[inside] & np.uint64(0xFFFFFFFF)).astype(np.uint64)
    distinct = _distinct(paragraph[:-1][inside] << np.uint64(32) | codes) & np.uint64(0xFFFFFFFF)
    distinct = np.sort(distinct)

    def counts(wanted: np.ndarray) -> np.ndarray:
        wanted = np.asarray(wanted, dtype=np.uint64)
        return (np.searchsorted(distinct, wanted, "right") - np.searchsorted(distinct, wanted, "left")).astype(np.int64)

    return counts
