"""How many paragraphs contain each of many keys, exactly — what a quoted phrase's ``total`` would be
— for a whole vocabulary at once (:func:`paragraph_counts`), in a few passes of numpy over the
skeletons' code units rather than a search per key (xwlb's 101 k words: ~1 s against ~5 s).

* one code unit: the units of each block of paragraphs sorted (numpy's radix sort of ``uint16``),
  and a unit counted once per paragraph it is in;
* two: the length of the bigram's posting list (the match index holds it);
* three or more: every position's next three units as one exact 48-bit number, looked up among
  the keys' first three units — a bitmap of hashes first, then a binary search — and a longer
  key's other units compared at the positions found; then each (key, paragraph) once.

It also gives, on request, the occurrences that touch ``marked`` positions (where the original
text differs from what the skeleton suggests: a build's display forms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

BLOCK_UNITS = 1 << 20  # code units of paragraphs handled at a time
WIDEST = 32  # keys longer than this many code units are counted one by one (``one_by_one``)
_HASH = np.uint64(0x9E3779B97F4A7C15)
_BITMAP_BITS = 24
_U16 = np.uint64(16)


@dataclass
class Counted:
    """Per key: the paragraphs that contain it and its width in code units; and the occurrences
    that touch marked positions, as parallel arrays of the key's index, its start in the units and
    its paragraph."""

    counts: np.ndarray
    widths: np.ndarray
    touching_keys: np.ndarray
    touching_starts: np.ndarray
    touching_paragraphs: np.ndarray


def _blocks(bounds: np.ndarray, block_units: int):
    """``(first, end)`` paragraph ranges of about ``block_units`` units each."""
    paragraphs, first = len(bounds) - 1, 0
    while first < paragraphs:
        end = int(np.searchsorted(bounds, int(bounds[first]) + block_units, side="right")) - 1
        end = min(max(end, first + 1), paragraphs)
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
                     one_by_one: Callable[[str], int],
                     marked: np.ndarray | None = None, block_units: int = BLOCK_UNITS) -> Counted:
    """For each of ``keys`` (non-empty, no character 0), how many paragraphs' skeletons contain it.

    ``units``/``bounds``: the skeletons (paragraph ``gid`` is ``units[bounds[gid]:bounds[gid + 1] - 1]``,
    a 0 after each); ``bigram_counts``: the paragraphs holding each bigram given as ``a << 16 | b``;
    ``one_by_one``: the count of a key wider than :data:`WIDEST` units. With ``marked`` (a bool
    per unit), the occurrences of keys that cover a marked unit are returned too (not for keys
    counted one by one)."""
    joined = np.frombuffer("\x00".join(keys).encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    ends = np.flatnonzero(joined == 0) if len(keys) > 1 else np.zeros(0, dtype=np.int64)
    ends = np.append(ends, len(joined))
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
    touching: list[tuple[np.ndarray, np.ndarray]] = []  # (key ids, starts)
    if marked is not None and not marked.any():
        marked = None

    # two units: the bigram's posting list
    two = np.flatnonzero(widths == 2)
    if len(two):
        counts[two] = bigram_counts(prefix_code(two, 2).astype(np.uint32))
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
    pairs: list[np.ndarray] = []  # (key << 32 | paragraph) of each occurrence found, many times over
    for first, end in _blocks(bounds, block_units):
        start, stop = int(bounds[first]), int(bounds[end])
        block = units[start:stop]
        paragraph = np.repeat(np.arange(first, end, dtype=np.int64), np.diff(bounds[first : end + 1]).astype(np.int64))
        # one unit: sorted by unit (stable: paragraphs stay in order), a unit counted at its first
        # place in each paragraph
        order = np.argsort(block, kind="stable")
        by_unit, their_paragraph = block[order], paragraph[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (by_unit[1:] != by_unit[:-1]) | (their_paragraph[1:] != their_paragraph[:-1])
        per_unit += np.bincount(by_unit[new], minlength=1 << 16)
        if table is None:
            continue
        n = len(block)
        wide_block = np.zeros(n + WIDEST, dtype=np.uint64)
        wide_block[:n] = block
        at, lo, hi = table.ranges(wide_block[:n] << np.uint64(32) | wide_block[1 : n + 1] << _U16 | wide_block[2 : n + 2])
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
        at, key_ids = at[same], table.ids[rows[same]]
        pairs.append(key_ids.astype(np.uint64) << np.uint64(32) | paragraph[at].astype(np.uint64))
        if marked is not None:
            touching.append(_touching(marked[start:stop], at, widths[key_ids], key_ids, start))
    ones = np.flatnonzero(one >= 0)
    counts[one[ones]] = per_unit[ones]
    if pairs:
        found = _distinct(np.concatenate(pairs))
        counts += np.bincount((found >> np.uint64(32)).astype(np.int64), minlength=len(keys))
    if marked is not None:
        touching.extend(_touching_short(units, marked, one, two, prefix_code(two, 2).astype(np.uint32)))
    key_ids = np.concatenate([k for k, _ in touching]) if touching else np.zeros(0, dtype=np.int64)
    positions = np.concatenate([p for _, p in touching]) if touching else np.zeros(0, dtype=np.int64)
    paragraphs = np.searchsorted(bounds, positions, side="right") - 1
    return Counted(counts, widths, key_ids.astype(np.int64), positions.astype(np.int64), paragraphs.astype(np.int64))


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, by a sort (numpy's ``unique`` hashes here, several times slower)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _touching(marked: np.ndarray, at: np.ndarray, widths: np.ndarray, key_ids: np.ndarray,
              offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Of occurrences starting at ``at`` (in a block whose units' marks are ``marked``), those that
    cover a marked unit: their keys and starts (in the whole units)."""
    before = np.concatenate(([0], np.cumsum(marked, dtype=np.int64)))
    hit = before[np.minimum(at + widths, len(marked))] > before[at]
    return key_ids[hit], at[hit] + offset


def _touching_short(units: np.ndarray, marked: np.ndarray, one: np.ndarray, two: np.ndarray, codes: np.ndarray):
    """The occurrences of keys of one unit and of two (``two``, their ``codes``) that cover a marked unit."""
    at = np.flatnonzero(marked)
    if not len(at):
        return
    singles = one[units[at]]
    yield singles[singles >= 0], at[singles >= 0]
    if not len(two):
        return
    order = np.argsort(codes)
    codes, two = codes[order], two[order]
    starts = _distinct(np.concatenate((at, at[at > 0] - 1)))
    starts = starts[starts + 1 < len(units)]
    pair = units[starts].astype(np.uint32) << np.uint32(16) | units[starts + 1]
    where = np.minimum(np.searchsorted(codes, pair), len(codes) - 1)
    found = codes[where] == pair
    yield two[where[found]], starts[found]
