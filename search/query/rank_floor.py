"""The least rank by id (``article_rank``) among any range of articles, as a lower bound, for many
ranges at once: what lets a page that breaks ties by article id pass over a block of tied matches
whose articles all come after its last (:mod:`search.query.pruned`)."""

from __future__ import annotations

import numpy as np

CHUNK = 16  # articles a least rank is kept for; a range's bound is exact to the chunks it touches


class RankFloor:
    """A sparse table of the least rank of runs of chunks: ``least(first, last)`` is at most the
    least rank of the articles ``first … last`` (inclusive), in two lookups per range."""

    def __init__(self, ranks: np.ndarray):
        pad = -len(ranks) % CHUNK
        top = np.iinfo(np.int32).max  # ranks are positions among the articles
        padded = np.concatenate([np.asarray(ranks, dtype=np.int32), np.full(pad, top, dtype=np.int32)])
        level = padded.reshape(-1, CHUNK).min(axis=1) if len(padded) else np.zeros(1, dtype=np.int32)
        levels = [level]
        span = 1
        while 2 * span <= len(level):  # levels[k][i]: the least over chunks i … i + 2**k - 1
            previous = levels[-1]
            levels.append(np.minimum(previous[:-span], previous[span:]))
            span *= 2
        self._table = np.full((len(levels), len(level)), top, dtype=np.int32)
        for k, values in enumerate(levels):
            self._table[k, : len(values)] = values

    def least(self, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Per range, a rank no greater than that of any article ``first[i] … last[i]``."""
        low, high = np.asarray(first) // CHUNK, np.asarray(last) // CHUNK
        k = np.floor(np.log2(high - low + 1)).astype(np.intp)
        return np.minimum(self._table[k, low], self._table[k, high - (1 << k) + 1]).astype(np.int64)

