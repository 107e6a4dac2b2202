"""Which words of a build's vocabulary sound how: :class:`PinyinIndex`, written with the build beside
the match index's word list and mapped by every worker (did-you-mean).
"""

from __future__ import annotations

from array import array
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..text.pinyin import spelling_key, spellings

MAX_SPAN = 8  # the longest piece looked up as one word (words longer are not indexed)
WORD_SPELLINGS = 8  # pinyin spellings indexed per vocabulary word


class PinyinIndex:
    """Which words sound how: the keys (:func:`spelling_key`) of each word's toneless spellings
    (up to :data:`WORD_SPELLINGS` a word, words of 1 to :data:`MAX_SPAN` characters), sorted, and
    beside each key the position of its word in the word list. Built with the index and mapped
    from :data:`KEYS` and :data:`WORDS` in its folder, so every worker shares one copy."""

    KEYS, WORDS = "pinyin_keys.npy", "pinyin_words.npy"

    def __init__(self, keys: np.ndarray, words: np.ndarray):
        if len(keys) != len(words):
            raise ValueError("the pinyin keys and their words do not agree")
        self.keys, self.words = keys, words

    @classmethod
    def of_words(cls, words: Iterable[str],
                 on_error: Callable[[int, str, Exception], None] | None = None) -> "PinyinIndex":
        """The index of ``words`` (numbered in the order given): about 4 µs a word (xwlb's 101 k: 0.4 s).

        With ``on_error``, a word whose spellings cannot be worked out (a bug) is passed to it with
        its number and left out, rather than stopping the build: it is still found by search, only
        not suggested for what sounds like it."""
        keys, ids = array("q"), array("I")
        for i, word in enumerate(words):
            if 1 <= len(word) <= MAX_SPAN:
                try:
                    found = [spelling_key(spelling) for spelling in islice(spellings(word), WORD_SPELLINGS)]
                except Exception as exc:  # noqa: BLE001 — one word must not stop a build
                    if on_error is None:
                        raise
                    on_error(i, word, exc)
                    continue
                keys.extend(found)
                ids.extend([i] * len(found))
        keys, ids = np.frombuffer(keys, dtype=np.int64), np.frombuffer(ids, dtype=np.uint32)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], ids[order])

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (beside the word list it numbers)."""
        np.save(Path(folder) / self.KEYS, self.keys)
        np.save(Path(folder) / self.WORDS, self.words)

    @classmethod
    def load(cls, folder: Path) -> "PinyinIndex":
        """The index :meth:`save` wrote into ``folder``, memory-mapped read-only."""
        return cls(*(np.asarray(np.load(Path(folder) / name, mmap_mode="r")) for name in (cls.KEYS, cls.WORDS)))

    def spelled(self, spellings: Iterable[tuple[str, ...]]) -> list[int]:
        """The positions of the words with any of ``spellings``, each once, in the order found."""
        wanted = np.array([spelling_key(s) for s in spellings], dtype=np.int64)
        lo, hi = np.searchsorted(self.keys, wanted, "left"), np.searchsorted(self.keys, wanted, "right")
        return list(dict.fromkeys(int(i) for a, b in zip(lo.tolist(), hi.tolist()) for i in self.words[a:b]))
