"""Posting lists of a segment's frequent longer words, so that a query for one costs what a query
for a bigram costs however large the archive grows.

A key of three code units or more is otherwise found by intersecting its bigrams' lists and
checking each candidate paragraph (:meth:`~search.match.grams.GramIndex.find`): work that grows
with its matches, every time it is searched. The words that are searched most are the frequent
ones — 新闻联播, 习近平, 国务院 — so for each word of the segment's vocabulary of three code units
or more that is a word of at least one paragraph in :data:`SHARE` (and of :data:`LEAST`), the
build writes its exact matches once, as the other streams are written:

* ``frequent_words.npy`` — the words listed, as their positions in ``words.txt`` (ascending);
* ``frequent_offsets.npy`` / ``frequent_{low,high_at,high}.npy`` — each word's paragraphs, every
  paragraph whose skeleton contains it (not only those where it is a word);
* ``frequent_tf_*.npy`` — how often it occurs in each (the counts other than 1);
* ``frequent_blocks.npy`` / ``frequent_block_tf.npy`` — BM25 bounds per block of postings (:mod:`.blockmax`).

:meth:`GramIndex.key_list` then hands such a word's list out as it hands out a bigram's. About
750 words at any size of the shared corpora; some 2 s of a 108 M-character build.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..formats.arrays import NpyAppender
from .blockmax import MEAN, write_block_bounds
from .postings import POSITION, DocIdsWriter, IdStream, SparseCounts, SparseCountsReader

NAME = "frequent"
SHARE = 1000  # a word of one paragraph in this many is listed
LEAST = 64  # and of this many paragraphs at least (a small segment lists none it need not)
MIN_UNITS = 3  # shorter keys have lists of their own (unigrams, bigrams)


def listed_words(grams) -> np.ndarray:
    """The positions in ``grams``' vocabulary of the words to list (ascending)."""
    sizes = np.diff(grams.word_lists.offsets.astype(np.int64))
    frequent = np.flatnonzero(sizes >= max(LEAST, grams.count // SHARE))
    return np.array([i for i in frequent.tolist()
                     if len(grams.words[i].encode("utf-16-le", "surrogatepass")) >= 2 * MIN_UNITS], dtype=np.uint32)


def write_frequent_lists(folder: Path, grams) -> None:
    """Write the frequent words' lists into the match index folder ``folder``, opened as ``grams``
    (a :class:`~search.match.grams.GramIndex` with its skeletons)."""
    folder = Path(folder)
    words = listed_words(grams)
    ids = DocIdsWriter(folder, NAME)
    offsets = NpyAppender(folder / f"{NAME}_offsets.npy", POSITION)
    dtype = grams.unigram_tf.value.dtype  # a word occurs no more often in a paragraph than its first unit
    counts = SparseCounts(folder, f"{NAME}_tf", dtype)
    total = 0
    offsets.append([0])
    for word in words.tolist():
        matches = grams.find(grams.words[word])
        ids.append(matches.gids)
        counts.append(matches.tf.astype(dtype))
        total += len(matches.gids)
        offsets.append([total])
    for closing in (ids, offsets, counts):
        closing.close()
    np.save(folder / f"{NAME}_words.npy", words)
    lengths = np.diff(grams.bounds.astype(np.int64)) - 1
    mean = float(np.load(folder / MEAN)[0])  # the other streams' own: the same bounds for every stream
    write_block_bounds(folder, NAME, IdStream(*IdStream.arrays(folder, NAME)), SparseCountsReader(folder, f"{NAME}_tf"),
                       lengths, mean)
