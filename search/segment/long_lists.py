"""The blocks of every long posting list of a :class:`~search.segment.posting_table.PostingTable`,
worked out together: where each block starts and ends, its statistics (last id, highest weight,
shortest and longest field length, weights' sum) by numpy reductions over all blocks at once, and
its body — ``CompactCharacters`` blocks by :func:`search.segment.blocks.encode_many`, the others
one block at a time as :class:`~search.segment.term_writer.TermWriter` always wrote them.
"""

from __future__ import annotations

import zlib
from typing import Callable

import numpy as np

from . import blocks
from .block_batches import _segments, encode_fixed_many, encode_many
from .posting_table import PostingTable

# A block as the term writer writes it: postings, first and last id, highest weight, compression, shortest
# and longest non-zero field length (None and 0 when none), sum of the weights, body
Block = tuple[int, int, int, float, int, int | None, int, float, bytes]
_NO_LENGTH = np.iinfo(np.int64).max


def long_list_blocks(table: PostingTable, terms: np.ndarray, limit: int,
                     encoding: Callable[[str], tuple[int | None, bool]], dumps: Callable[[object], bytes],
                     compression: Callable[[int], int]) -> list[list[Block]]:
    """Per term of ``terms`` (indexes of the table's keys, ascending), its blocks of at most
    ``limit`` postings. ``encoding`` gives a field's ``(fixed value size, columns)``; ``dumps``
    pickles a Whoosh block; ``compression(count)`` is the zlib level of a list of ``count``."""
    if not len(terms):
        return []
    counts = table.counts[terms]
    firsts = (np.cumsum(table.counts) - table.counts)[terms]
    per_term = -(-counts // limit)
    block_term = np.repeat(np.arange(len(terms)), per_term)
    k = np.arange(len(block_term)) - np.repeat(np.cumsum(per_term) - per_term, per_term)
    starts = firsts[block_term] + k * limit
    ends = np.minimum(starts + limit, (firsts + counts)[block_term])
    weights = table.weights
    max_weights = _segments(np.maximum, weights, starts, ends).astype(np.float64)
    lengths = table.lengths.astype(np.int64)
    shortest = _segments(np.minimum, np.where(lengths == 0, _NO_LENGTH, lengths), starts, ends)
    longest = _segments(np.maximum, lengths, starts, ends)
    whole = bool((weights == np.floor(weights)).all() and (np.abs(weights) < 2 ** 24).all())
    # Python adds the weights one by one in doubles: numpy's sums are the same when all are whole
    sums = (_segments(np.add, weights.astype(np.float64), starts, ends).tolist() if whole
            else [sum(weights[a:b].tolist()) for a, b in zip(starts.tolist(), ends.tolist())])
    bodies = _bodies(table, terms, block_term, starts, ends, encoding, dumps, compression)
    rows = zip(block_term.tolist(), (ends - starts).tolist(), table.docs[starts].tolist(),
               table.docs[ends - 1].tolist(), max_weights.tolist(), shortest.tolist(), longest.tolist(), sums, bodies)
    out: list[list[Block]] = [[] for _ in range(len(terms))]
    for term, count, first, last, max_weight, low, high, weight_sum, (compressed, body) in rows:
        out[term].append((count, first, last, max(max_weight, 0), compressed, None if low == _NO_LENGTH else low, high,
                          weight_sum, body))
    return out


def _bodies(table: PostingTable, terms: np.ndarray, block_term: np.ndarray, starts: np.ndarray, ends: np.ndarray,
            encoding, dumps, compression) -> list[tuple[int, bytes]]:
    """Each block's compression code and body, a field at a time."""
    names = [table.keys[i][0] for i in terms.tolist()]
    value_ends = np.cumsum(table.sizes, dtype=np.int64)
    value_starts = value_ends - table.sizes
    values = table.values
    out: list[tuple[int, bytes]] = []
    term_counts = table.counts[terms].tolist()
    first_block = 0
    for name, group in _runs(names):
        fixed_size, columns = encoding(name)
        variable = fixed_size is None or fixed_size < 0
        last_block = first_block + int(np.searchsorted(block_term[first_block:], group.stop))
        a, b = starts[first_block:last_block], ends[first_block:last_block]
        encoded: list[bytes | None] = [None] * len(a)
        code = 0
        if columns and variable:
            low, high = int(a[0]), int(b[-1])  # the field's postings from its first block to its last
            encoded = encode_many(table.docs[low:high], table.weights[low:high],
                                         values[value_starts[low] : value_ends[high - 1]].tobytes(),
                                         table.sizes[low:high], a - low, b - low)
            code = blocks.COLUMNS
        elif fixed_size and fixed_size > 0:  # e.g. title's frequencies: 4 bytes each
            low, high = int(a[0]), int(b[-1])
            encoded = encode_fixed_many(table.docs[low:high], table.weights[low:high],
                                        values[value_starts[low] : value_ends[high - 1]], fixed_size, a - low, b - low)
            code = blocks.FIXED_COLUMNS
        for i, (x, y, body) in enumerate(zip(a.tolist(), b.tolist(), encoded)):
            if body is not None:
                out.append((code, body))
                continue
            level = compression(term_counts[int(block_term[first_block + i])])
            if fixed_size == 0:
                kept = None
            elif variable:
                kept = tuple(v for v in (values[s:e].tobytes() for s, e in zip(value_starts[x:y].tolist(),
                                                                                value_ends[x:y].tolist())) if v)
            else:  # values of one size, stored joined
                kept = values[value_starts[x] : value_ends[y - 1]].tobytes()
            ids = table.docs[x:y].astype(np.int64)
            data = dumps((tuple(np.diff(ids, prepend=0).tolist()), _mini_weights(table.weights[x:y]), kept))
            out.append((level, zlib.compress(data, level) if level else data))
        first_block = last_block
    return out


def _runs(names: list[str]):
    """``(name, range of indexes)`` of each run of equal names."""
    start = 0
    for i in range(1, len(names) + 1):
        if i == len(names) or names[i] != names[start]:
            yield names[start], range(start, i)
            start = i


def _mini_weights(weights: np.ndarray) -> float | tuple | None:
    """A pickled block's weights: None when all are 1, the one weight when all are equal, else
    each (a whole weight as an int: 2 bytes pickled, not a float's 9; Whoosh scores either)."""
    first = float(weights[0])
    if (weights == weights[0]).all():
        return None if first == 1.0 else first
    return tuple(int(w) if w.is_integer() else w for w in weights.tolist())
