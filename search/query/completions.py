"""As-you-type completions: the build's words and frequent phrases that begin with what was typed,
most used first, from its completion index (:mod:`search.formats.completions`).

What was typed is normalised as search normalises a query (Traditional and Simplified fold, case
and width too) and may be Chinese characters, pinyin — whole (``beijing``), partial (``beij``),
the syllables' first letters (``bj``) — or characters followed by pinyin (``北j``, ``北京s``): then
an entry qualifies when it begins with those characters and its pinyin continues with the
letters (the characters in any of their readings). An entry counts the paragraphs that contain
it; at equal counts words go before phrases, each in code point order.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import islice, product

import numpy as np

from ..formats.completions import CompletionIndex
from ..text.normalize import normalize, skeleton
from ..text.pinyin import readings

MAX_SIZE = 20
MAX_TYPED = 64  # characters; what is longer begins no entry worth offering
MAX_HEAD_SPELLINGS = 16  # readings of the characters before the pinyin tried, at most
MAX_PIECES = 3  # a spelled term may be this many entries one after another (did-you-mean)
_PINYIN_TAIL = re.compile(r"[a-zü']+\Z")


class Completer:
    """Completions and pinyin look-ups over one build's :class:`CompletionIndex`."""

    def __init__(self, index: CompletionIndex):
        self.index = index

    def complete(self, typed: str, size: int = 8) -> list[dict]:
        """Up to ``size`` entries that begin with ``typed`` (see the module), most paragraphs first:
        ``[{"text": as the archive most often writes it, "count": paragraphs containing it}]``."""
        if not 1 <= size <= MAX_SIZE:
            raise ValueError(f"size must be between 1 and {MAX_SIZE}")
        text = skeleton(normalize(_printable(typed[: 4 * MAX_TYPED])))
        if not text or len(text) > MAX_TYPED:
            return []
        index = self.index
        found = [np.arange(r.start, r.stop) for r in index.starting_with(text)]
        tail = _PINYIN_TAIL.search(text)
        letters = tail.group().replace("'", "").replace("ü", "v") if tail else ""
        if letters:
            head = text[: tail.start()]
            within = index.starting_with(head) if head else None
            for spelled in _spellings(head):
                for lines, entries, prefix in (
                        (index.spellings, index.spelling_entries, "".join(spelled) + letters),
                        (index.initials, index.initial_entries, "".join(s[0] for s in spelled) + letters)):
                    lo, hi = lines.prefix_range(prefix)
                    ids = np.asarray(entries[lo:hi], dtype=np.int64)
                    if within is not None:
                        ids = ids[np.logical_or.reduce([(ids >= r.start) & (ids < r.stop) for r in within])]
                    found.append(ids)
        ids, counts = _top(np.concatenate(found), index.counts, size)
        return [{"text": index.text(entry), "count": count} for entry, count in zip(ids.tolist(), counts.tolist())]

    def spelled(self, letters: str) -> list[tuple[str, str, int]]:
        """The entries, most used first, whose whole pinyin is ``letters`` (``xijinping``), or, when
        none is, the entries that one after another are (``chongqingbeijing``, up to
        :data:`MAX_PIECES`): ``(text as the archive writes it, normalised text, paragraphs that
        contain it)``; for a split, the texts joined by spaces (one term each) and the least of
        the entries' paragraphs."""
        letters = letters.replace("'", "")
        if not letters.isascii() or not letters.isalpha() or len(letters) > MAX_TYPED:
            return []
        index = self.index
        whole = [(index.text(entry), index.key(entry), index.count(entry)) for entry in self._exactly(letters)]
        best = self._pieces(letters) if not whole else None
        return whole or ([best] if best else [])

    def _exactly(self, letters: str) -> list[int]:
        """The entries spelled ``letters``, most paragraphs first (a spelling sorts before the
        spellings it begins, so they are the first of its prefix range)."""
        lines, at = self.index.spellings, self.index.spellings.prefix_range(letters)[0]
        exact = set()
        while at < len(lines) and lines[at] == letters:
            exact.add(int(self.index.spelling_entries[at]))
            at += 1
        return sorted(exact, key=lambda entry: (-self.index.count(entry), entry))

    def _pieces(self, letters: str) -> tuple[str, str, int] | None:
        """The best split of ``letters`` into 2 to :data:`MAX_PIECES` spelled entries — the one whose
        least used entry is most used — as :meth:`spelled` gives an entry."""
        best: dict[int, tuple[int, tuple[int, ...]]] = {0: (1 << 62, ())}  # letters spelled → (least count, entries)
        for start in range(len(letters)):
            if start not in best or len(best[start][1]) == MAX_PIECES:
                continue
            least, texts = best[start]
            for end in range(start + 1, len(letters) + 1):
                piece = letters[start:end]
                lo, hi = self.index.spellings.prefix_range(piece)
                if lo == hi:
                    break  # no entry is spelled so far: a longer piece is none either
                entries = [] if start == 0 and end == len(letters) else self._exactly(piece)
                if entries:
                    option = (min(least, self.index.count(entries[0])), texts + (entries[0],))
                    if end not in best or option[0] > best[end][0]:
                        best[end] = option
        least, entries = best.get(len(letters), (0, ()))
        if len(entries) < 2:
            return None
        return " ".join(map(self.index.text, entries)), " ".join(map(self.index.key, entries)), least


def _printable(text: str) -> str:
    """``text`` without control, format and lone surrogate characters (no entry holds one)."""
    if text.isprintable():
        return text
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))


def _spellings(head: str):
    """The pinyin spellings of typed characters (every reading of each; other characters as
    themselves), at most :data:`MAX_HEAD_SPELLINGS`; one empty spelling for no characters."""
    return islice(product(*((readings(char)[0] or (char,)) for char in head)), MAX_HEAD_SPELLINGS)


def _top(ids: np.ndarray, counts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``size`` distinct entries of ``ids`` that count most (ties: the smaller entry), in order."""
    ids = np.unique(ids)
    if not len(ids):
        return ids, ids
    found = np.asarray(counts[ids], dtype=np.int64)
    if len(ids) > size:
        least = np.partition(found, len(found) - size)[len(found) - size]
        keep = found >= least
        ids, found = ids[keep], found[keep]
    order = np.lexsort((ids, -found))[:size]
    return ids[order], found[order]
