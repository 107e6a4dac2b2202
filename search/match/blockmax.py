"""BM25's constants and an upper bound of BM25 per block of a posting stream, so that a query can rank
only the paragraphs that can still enter its page, whatever the collection it is scored against.

BM25 of a key with ``tf`` occurrences in a paragraph of ``length`` code units is
``idf · (k1 + 1) / (1 + h)`` with ``h = (α + β · length) / tf``, ``α = k1 (1 − b)`` and
``β = k1 b / mean length``: it falls as ``h`` grows. For each block of :data:`BLOCK` postings of a
stream (block *j*: positions ``j·BLOCK …`` of the whole stream, whichever lists they belong to),
``<name>_blocks.npy`` holds the least ``h`` of its postings at the segment's own mean length
(``block_mean.npy``), rounded down to float32, and ``<name>_block_tf.npy`` the least and the most
``tf`` of its postings (capped at 255). Against any other collection — deletions, other segments
beside it — ``β = λ β₀``, and a posting's ``h = λ h₀ + (1 − λ) α / tf``: with the block's least
``h₀`` and the ``tf`` that makes the second term least, :func:`score_bounds` bounds every posting
of the block for any collection statistics, and exactly (to float32) when the block's postings are
alike — the same short paragraph in many articles, whose ties a page must break. Counts stored
capped (a bigram's at 255) count as unbounded there, so the bound also holds for the key's true
count.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..formats.arrays import NpyAppender

BM25_K1 = 1.2
BM25_B = 0.75
BLOCK = 64  # postings a bound covers
MEAN = "block_mean.npy"  # the segment's mean paragraph length the bounds were worked out at
_ALPHA = BM25_K1 * (1 - BM25_B)
_CHUNK = BLOCK * (1 << 14)  # postings worked on at a time
TF_CAP = 255  # a block's least and most tf are kept below this; at it, a count is taken as unbounded
MARGIN = 1e-9  # relative: bounds and scores are computed in different orders of float operations


def write_block_bounds(folder: Path, name: str, ids, counts, lengths: np.ndarray, mean: float,
                       capped: int | None = None) -> None:
    """``<name>_blocks.npy`` for the stream ``name``: ``ids`` (an IdStream), ``counts`` (its
    SparseCountsReader), ``lengths`` per paragraph; ``capped``: the value a stored count is capped at."""
    beta = BM25_K1 * BM25_B / mean if mean > 0 else 0.0
    out = NpyAppender(Path(folder) / f"{name}_blocks.npy", np.float32)
    out_tf = NpyAppender(Path(folder) / f"{name}_block_tf.npy", np.uint8)
    total = len(ids.low)
    for lo in range(0, total, _CHUNK):
        hi = min(total, lo + _CHUNK)
        stored = counts.read(lo, hi)
        tf = stored.astype(np.float64)
        h = (_ALPHA + beta * lengths[ids.span(lo, hi).astype(np.intp)]) / tf
        if capped is not None:
            h[tf >= capped] = 0.0
        pad = -len(h) % BLOCK
        least = np.concatenate([h, np.full(pad, np.inf)]).reshape(-1, BLOCK).min(axis=1)
        rounded = least.astype(np.float32)
        over = rounded > least
        rounded[over] = np.nextafter(rounded[over], np.float32(0))
        out.append(rounded)
        small = np.minimum(stored, TF_CAP).astype(np.uint8)
        fewest = np.concatenate([small, np.full(pad, TF_CAP, np.uint8)]).reshape(-1, BLOCK).min(axis=1)
        most = np.concatenate([small, np.zeros(pad, np.uint8)]).reshape(-1, BLOCK).max(axis=1)
        out_tf.append(np.stack([fewest, most], axis=1).ravel())  # per block: least tf, most tf
    out.close()
    out_tf.close()
    np.save(Path(folder) / MEAN, np.array([mean], dtype=np.float64))


def bm25(tf: np.ndarray, lengths: np.ndarray, idf_value: float, mean: float) -> np.ndarray:
    """BM25 of a key held ``tf`` times (float64, or a Python number) in paragraphs of ``lengths``
    code units, against a collection of mean length ``mean``: every score's float operations, in
    their order, so that equal inputs give the same float whichever path computes it."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / mean)
    return idf_value * tf * (BM25_K1 + 1) / (tf + norm)


def alike_maxima(least: np.ndarray, tf_range: np.ndarray, own_mean: float, idf_value: float,
                 mean: float) -> np.ndarray:
    """Per block whose postings all have one ``tf`` (below :data:`TF_CAP`), the BM25 of its best
    posting exactly as it is scored — its least length recovered from its least ``h`` — and +inf
    for the other blocks. Equal scores are the same floats, so a block at a page's last score can
    be known to hold nothing above it."""
    fewest, most = tf_range[0::2], tf_range[1::2]
    alike = (fewest == most) & (most < TF_CAP)
    out = np.full(len(least), np.inf)
    if not alike.any() or own_mean <= 0 or mean <= 0:
        return out
    tf = most[alike].astype(np.float64)
    beta = BM25_K1 * BM25_B / own_mean
    # h = (α + β·length) / tf, rounded down to float32: the length recovered is at most the least
    # length, and is it unless the rounding moved it by 1e-3 (paragraphs of ~10⁴ units and more)
    lengths = np.floor((least[alike].astype(np.float64) * tf - _ALPHA) / beta + 1e-3)
    out[alike] = bm25(tf, np.maximum(lengths, 0), idf_value, mean)
    return out


def idf(df: int, count: int) -> float:
    """BM25's idf of a key held by ``df`` of ``count`` paragraphs."""
    return math.log(1 + (count - df + 0.5) / (df + 0.5))


def score_bounds(least: np.ndarray, idf_value: float, mean: float, own_mean: float,
                 tf_range: np.ndarray | None = None) -> np.ndarray:
    """Upper bounds of BM25 (with ``idf_value``, against a collection of mean length ``mean``) of
    the postings of blocks whose least ``h`` at ``own_mean`` is ``least`` and (``tf_range``, two
    per block) whose least and most ``tf`` are those given."""
    ratio = own_mean / mean if mean > 0 else 0.0  # λ: β against the collection, over the segment's own
    least = least.astype(np.float64)
    h = min(1.0, ratio) * least  # a posting's h is at least this for any collection
    if tf_range is not None and ratio != 1.0 and mean > 0:
        fewest, most = tf_range[0::2].astype(np.float64), tf_range[1::2].astype(np.float64)
        if ratio < 1:  # (1 − λ) α / tf is least at the most tf (none for a count stored capped)
            inverse = np.where(most >= TF_CAP, 0.0, 1 / np.maximum(most, 1))
        else:  # ... and, negative, at the least tf
            inverse = 1 / np.maximum(fewest, 1)
        h = np.maximum(h, ratio * least + (1 - ratio) * _ALPHA * inverse)
    return idf_value * (BM25_K1 + 1) / (1 + h) * (1 + MARGIN) + MARGIN
