"""The vocabulary of a generation: the words of its live paragraphs, sorted, with their pinyin —
what did-you-mean draws on, exactly the words a whole build of the same articles would hold.

Each segment keeps its own sorted word list and their pinyin (``seg-<id>/grams``); a generation of
one segment without deletions links them, otherwise they are merged here, without the words that
only deleted paragraphs held and without working out any word's pinyin again.
"""

from __future__ import annotations

import heapq
import os
from pathlib import Path

import numpy as np

from ..formats.arrays import NpyAppender
from ..formats.layout import VOCABULARY
from ..formats.pinyin_index import PinyinIndex
from ..match.postings import POSITION, PostingLists
from ..match.skeletons import mapped_words

WORDS, WORD_STARTS = "words.txt", "word_starts.npy"


def write_vocabulary(folder: Path, gram_folders: list[Path], live: list[np.ndarray]) -> None:
    """Write ``folder/vocabulary``: the live words of the segments whose match indexes are in
    ``gram_folders`` (``live``: each segment's live paragraphs), and their pinyin index."""
    target = folder / VOCABULARY
    target.mkdir()
    if len(gram_folders) == 1 and live[0].all():
        for name in (WORDS, WORD_STARTS, PinyinIndex.KEYS, PinyinIndex.WORDS):
            os.link(gram_folders[0] / name, target / name)
        return
    words = [mapped_words(gram) for gram in gram_folders]
    alive = [_alive(PostingLists(gram, "word"), mask) for gram, mask in zip(gram_folders, live)]
    merged = [np.full(len(segment_words), -1, dtype=np.int64) for segment_words in words]

    def lines(n: int):
        data, starts = words[n].data, words[n].starts.tolist()
        for i in np.flatnonzero(alive[n]).tolist():
            yield data[starts[i]: starts[i + 1] - 1], n, i

    starts = NpyAppender(target / WORD_STARTS, POSITION)
    pending, at, rank, last = [], 0, -1, None
    with open(target / WORDS, "wb") as out:
        for word, n, i in heapq.merge(*(lines(n) for n in range(len(words)))):  # UTF-8 sorts as code points
            if word != last:
                if last is not None:
                    out.write(b"\n")  # no final newline, as the match index writes it
                    at += 1
                pending.append(at)
                out.write(word)
                at += len(word)
                rank, last = rank + 1, word
            merged[n][i] = rank
    pending.append(at + 1)  # one past the last word, as if a newline followed
    starts.append(pending)
    starts.close()
    _merged_pinyin(gram_folders, merged).save(target)


def _alive(lists: PostingLists, live: np.ndarray) -> np.ndarray:
    """Per word of a segment, whether any live paragraph holds it."""
    if live.all():
        return np.ones(len(lists), dtype=bool)
    ids = lists.span(0, len(lists.low))
    counts = np.add.reduceat(live[ids].astype(np.int64), lists.offsets[:-1].astype(np.int64)) if len(ids) else ids
    return np.asarray(counts) > 0


def _merged_pinyin(gram_folders: list[Path], merged: list[np.ndarray]) -> PinyinIndex:
    """The segments' pinyin indexes over the merged word list: each key beside the merged position
    of its word, sorted by key and then word, each pair once — what
    :meth:`~search.formats.pinyin_index.PinyinIndex.of_words` gives for the merged list."""
    keys, ids = [], []
    for gram, positions in zip(gram_folders, merged):
        index = PinyinIndex.load(gram)
        mapped = positions[np.asarray(index.words, dtype=np.int64)] if len(index.words) else np.zeros(0, np.int64)
        keep = mapped >= 0
        keys.append(np.asarray(index.keys)[keep])
        ids.append(mapped[keep])
    keys, ids = np.concatenate(keys), np.concatenate(ids)
    order = np.lexsort((ids, keys))
    keys, ids = keys[order], ids[order]
    if len(keys):
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (keys[1:] != keys[:-1]) | (ids[1:] != ids[:-1])
        keys, ids = keys[first], ids[first]
    return PinyinIndex(keys.astype(np.int64), ids.astype(np.uint32))
