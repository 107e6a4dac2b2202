"""Many posting blocks encoded at once, byte for byte as :mod:`search.segment.blocks` encodes one:
the numbers every block needs (its columns' narrowest types, its weights' kind) by numpy
reductions over all the blocks of a field, then each block its slices of columns converted once,
compressed. A term writer's per-block cost is then a few slices and one zstd call.
"""

from __future__ import annotations

import numpy as np

from .blocks import (
    _FIXED_HEADER,
    _FLOAT_WEIGHTS,
    _HEADER,
    _NO_WEIGHTS,
    _TYPES,
    _WEIGHTS_ARE_COUNTS,
    _WEIGHTS_FOLLOW,
    _WHOLE_WEIGHTS,
    _compressor,
    encode,
    numbers_of,
)


def encode_many(ids: np.ndarray, weights: np.ndarray, joined: bytes, sizes: np.ndarray, starts: np.ndarray,
                ends: np.ndarray) -> list[bytes | None]:
    """:func:`encode` of many blocks at once: block ``i`` holds postings ``starts[i]:ends[i]`` of
    ``ids``, ``weights`` and the ``CompactCharacters`` values (``joined``, ``sizes`` bytes each).
    The columns of every block are worked out together; each block is then its columns' bytes,
    compressed. A block that :func:`encode` would not write is None."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    parsed = numbers_of(joined, sizes)
    if parsed is None or (parsed[0] % 3).any() or not (parsed[0] > 0).all() or not len(starts):
        return [encode(ids[a:b], weights[a:b], _slice(joined, sizes, a, b), sizes[a:b])
                for a, b in zip(starts.tolist(), ends.tolist())]
    counts, numbers = parsed
    occurrences = counts // 3
    first_occurrence = np.cumsum(occurrences) - occurrences
    ids = np.asarray(ids, dtype=np.int64)
    gaps = np.diff(ids, prepend=0)
    gaps[starts] = ids[starts]  # a block's first id counts from 0
    weights = np.asarray(weights, dtype=np.float32)
    as_counts = (weights == occurrences.astype(np.float32)).astype(np.int8)
    occurrence_starts = first_occurrence[starts]
    occurrence_ends = first_occurrence[ends - 1] + occurrences[ends - 1]
    columns = [(gaps, starts, ends), (occurrences, starts, ends)]
    columns += [(numbers[i::3], occurrence_starts, occurrence_ends) for i in range(3)]
    codes = [_codes(_segments(np.minimum, values, a, b), _segments(np.maximum, values, a, b))
             for values, a, b in columns]
    weights_kind = np.where(_segments(np.minimum, as_counts, starts, ends) == 1, _WEIGHTS_ARE_COUNTS, _WEIGHTS_FOLLOW)
    typed = [{} for _ in columns]  # per column, its values in each type a block needs
    compress = _compressor().compress
    bodies: list[bytes | None] = []
    rows = zip(starts.tolist(), ends.tolist(), occurrence_starts.tolist(), occurrence_ends.tolist(),
               weights_kind.tolist(), *(code.tolist() for code in codes))
    for a, b, oa, ob, kind, *block_codes in rows:
        if 0 in block_codes:
            bodies.append(None)
            continue
        body = [_HEADER.pack(ob - oa, *block_codes, kind)]
        for (values, _, _), code, cache, (low, high) in zip(columns, block_codes, typed, ((a, b), (a, b), (oa, ob),
                                                                                            (oa, ob), (oa, ob))):
            converted = cache.get(code)
            if converted is None:
                converted = cache[code] = values.astype(_TYPES[code])
            body.append(converted[low:high].tobytes())
        if kind == _WEIGHTS_FOLLOW:
            body.append(weights[a:b].astype("<f4").tobytes())
        bodies.append(compress(b"".join(body)))
    return bodies


def _slice(joined: bytes, sizes: np.ndarray, a: int, b: int) -> bytes:
    """The values of postings ``a:b`` out of all of them joined."""
    start = int(np.sum(sizes[:a], dtype=np.int64))
    return joined[start : start + int(np.sum(sizes[a:b], dtype=np.int64))]


def _segments(reduce, values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``reduce`` (a ufunc) over each ``values[starts[i]:ends[i]]``; an empty one gives 0."""
    if not len(values):
        return np.zeros(len(starts), dtype=np.int64)
    padded = np.append(values, values[:1])  # reduceat's indexes must be below the length
    bounds = np.empty(2 * len(starts), dtype=np.int64)
    bounds[0::2], bounds[1::2] = starts, ends
    reduced = reduce.reduceat(padded, bounds)[0::2]
    return np.where(ends > starts, reduced, 0)


def _codes(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per block, the code of the narrowest column type its values fit (as :func:`_column`), 0
    when none does."""
    unsigned = np.where(high < 1 << 8, 1, np.where(high < 1 << 16, 2, np.where(high < 1 << 32, 3, 0)))
    signed = np.where((low >= -(1 << 31)) & (high < 1 << 31), 4, 0)
    return np.where(low >= 0, unsigned, signed)


def encode_fixed_many(ids: np.ndarray, weights: np.ndarray, values: np.ndarray, size: int, starts: np.ndarray,
                      ends: np.ndarray) -> list[bytes | None]:
    """:func:`~search.segment.blocks.encode_fixed` of many blocks at once: block ``i`` holds
    postings ``starts[i]:ends[i]`` of ``ids``, ``weights`` and ``values`` (uint8, ``size`` bytes
    a posting)."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if size <= 0 or len(values) != len(ids) * size or not len(starts):
        return [None] * len(starts)
    ids = np.asarray(ids, dtype=np.int64)
    gaps = np.diff(ids, prepend=0)
    gaps[starts] = ids[starts]
    gaps_codes = _codes(_segments(np.minimum, gaps, starts, ends), _segments(np.maximum, gaps, starts, ends))
    weights = np.asarray(weights, dtype=np.float32)
    ones = _segments(np.minimum, (weights == 1.0).astype(np.int8), starts, ends) == 1
    whole_weight = (weights >= 0) & (weights == np.floor(weights)) & (weights < 2 ** 24)
    whole = _segments(np.minimum, whole_weight.astype(np.int8), starts, ends) == 1
    as_ints = np.where(whole_weight, weights, 0).astype(np.int64)
    weights_codes = _codes(_segments(np.minimum, as_ints, starts, ends), _segments(np.maximum, as_ints, starts, ends))
    planes = values.reshape(len(ids), size)
    typed: dict = {}
    compress = _compressor().compress
    out: list[bytes | None] = []
    rows = zip(starts.tolist(), ends.tolist(), gaps_codes.tolist(), ones.tolist(), whole.tolist(),
               weights_codes.tolist())
    for a, b, gaps_code, one, is_whole, weights_code in rows:
        if not gaps_code:
            out.append(None)
            continue
        gap_bytes = _typed(typed, "gaps", gaps, gaps_code)[a:b].tobytes()
        if one:
            kind, weights_code, weights_data = _NO_WEIGHTS, 1, b""
        elif is_whole:
            kind, weights_data = _WHOLE_WEIGHTS, _typed(typed, "weights", as_ints, weights_code)[a:b].tobytes()
        else:
            kind, weights_code, weights_data = _FLOAT_WEIGHTS, 1, weights[a:b].astype("<f4").tobytes()
        out.append(compress(_FIXED_HEADER.pack(gaps_code, kind, weights_code) + gap_bytes + weights_data
                            + planes[a:b].T.tobytes()))
    return out


def _typed(cache: dict, name: str, values: np.ndarray, code: int) -> np.ndarray:
    """``values`` in the column type ``code``, converted once."""
    found = cache.get((name, code))
    if found is None:
        found = cache[name, code] = values.astype(_TYPES[code])
    return found


