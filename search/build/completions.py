"""A build's completion index (:mod:`search.formats.completions`), worked out from the finished build:
the words of its match index and its frequent phrases, how many paragraphs contain each, how the
archive writes each, and how each is spelled in pinyin.

* Phrases: pairs of adjacent words of two Chinese characters or more, cut by jieba
  from a sample of about :data:`SAMPLED_PARAGRAPHS` paragraphs spread over the archive, seen in at
  least :data:`MIN_SAMPLED` of them; kept when at least :data:`MIN_PHRASE_PARAGRAPHS` paragraphs
  of the whole archive contain one, the :data:`MAX_PHRASES` most frequent at most.
* Counts: exact, for every entry at once (:mod:`.substring_counts`).
* Forms: :mod:`.display_forms`.
* Pinyin: :mod:`search.text.phrase_pinyin`, a polyphone read as its word reads it.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from ..formats.arrays import mapped
from ..formats.completions import FOLDER, write_entries, write_forms
from ..formats.layout import GRAMS
from ..match.grams import GramIndex
from ..paragraphs import InputProblem
from ..segment.codec import patched_text_parts, skeleton_column_path
from ..segment.columns import skeleton_arrays
from ..segment.mapped import open_index
from ..text import analysis, phrase_pinyin
from ..text.pinyin import readings
from .display_forms import Originals, exceptions
from .substring_counts import paragraph_counts, touching

SAMPLED_PARAGRAPHS = 8_000  # paragraphs cut into words to find phrases, at most
MIN_SAMPLED = 2
MIN_PHRASE_PARAGRAPHS = 3
MAX_PHRASES = 20_000
MAX_PHRASE_CHARS = 16
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
_UNITS = ("units.npy", "bounds.npy")  # the match index's copy of the skeletons, when it writes one


class CompletionsBuilder:
    """Writes a build's completion index into its :data:`FOLDER` in two steps: :meth:`count` once
    the match index is written (its words, its skeletons: in ``grams/units.npy`` and
    ``bounds.npy``, which it removes, or else Whoosh's skeleton column) — a build runs it while
    Whoosh writes its terms beside it — and :meth:`write` once the Whoosh index is (its stored
    texts' patches tell how the archive writes each entry). A word whose pinyin cannot be worked
    out (a bug) is reported at its line of ``words.txt`` and gets none."""

    def __init__(self, build: Path, on_problem: Callable[[InputProblem], None]):
        self.build, self.on_problem = Path(build), on_problem
        self._counted = None

    def count(self) -> None:
        """The phrases, every entry's paragraphs, the phrases kept, the entries' pinyin (the phrase
        dictionary is let go after): the index but for the forms."""
        units, bounds = _skeletons(self.build)
        grams = GramIndex(self.build / GRAMS, units, bounds)
        words = grams.words.all()
        keys = words + _phrase_candidates(grams, set(words))
        counted = paragraph_counts(units, bounds, keys, bigram_counts=_bigram_counts(grams),
                                   one_by_one=lambda key: len(grams.find(key).gids))
        frequent = [i for i in range(len(words), len(keys)) if counted.counts[i] >= MIN_PHRASE_PARAGRAPHS]
        frequent = sorted(heapq.nlargest(MAX_PHRASES, frequent, key=lambda i: (counted.counts[i], -i)),
                          key=keys.__getitem__)
        phrases = [keys[i] for i in frequent]
        phrase_pinyin.load()
        try:
            spellings, initials, failed = _spelled(words + phrases)
        finally:
            phrase_pinyin.unload()
        write_entries(self.build / FOLDER, words=len(words), phrases=phrases,
                      counts=np.concatenate((counted.counts[: len(words)], counted.counts[frequent])),
                      spellings=spellings, initials=initials)
        self._counted = units, bounds, words, keys, counted, frequent, phrases, failed

    def write(self) -> None:
        """How the archive writes each entry: the index complete."""
        if self._counted is None:
            self.count()
        units, bounds, words, keys, counted, frequent, phrases, failed = self._counted
        for entry, problem in failed:  # at its line of words.txt, or of the phrases written below
            lines, line = ((self.build / GRAMS / "words.txt", entry + 1) if entry < len(words)
                           else (self.build / FOLDER / "phrases.txt", entry - len(words) + 1))
            key = words[entry] if entry < len(words) else phrases[entry - len(words)]
            self.on_problem(InputProblem(str(lines), line, f"no pinyin for {key!r} ({problem}); it completes from "
                                         "its characters but not from pinyin", fatal=False))
        searcher = open_index(self.build).searcher()
        try:
            parts = patched_text_parts(searcher, self.build)
        finally:
            searcher.close()
        table, patches = parts if parts is not None else (None, ())
        originals = Originals.of(units, bounds, table, patches)
        forms = exceptions(keys, counted, touching(counted, units, bounds, originals.marked), originals, units,
                           (lambda key: key.translate(table)) if table else (lambda key: key))
        entry_of = {old: len(words) + new for new, old in enumerate(frequent)}  # a kept phrase's entry
        display = {entry_of.get(i, i): form for i, form in forms.items() if i < len(words) or i in entry_of}
        write_forms(self.build / FOLDER, display, table)
        for name in _UNITS:
            (self.build / GRAMS / name).unlink(missing_ok=True)
        self._counted = None


def write_completions(build: Path, on_problem: Callable[[InputProblem], None]) -> None:
    """Write the completion index of a finished ``build`` in one go (:class:`CompletionsBuilder`)."""
    CompletionsBuilder(build, on_problem).write()


def _skeletons(build: Path) -> tuple[np.ndarray, np.ndarray]:
    """The skeletons' units and bounds: the match index builder's copy when it made one for this
    step, else Whoosh's skeleton column."""
    if all((build / GRAMS / name).is_file() for name in _UNITS):
        return tuple(mapped(build / GRAMS / name) for name in _UNITS)
    searcher = open_index(build).searcher()
    try:
        return skeleton_arrays(skeleton_column_path(searcher, build))
    finally:
        searcher.close()


def _spelled(keys: list[str]) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[tuple[int, str]]]:
    """``(spelling, entry)`` and ``(initials, entry)`` rows of the entries ``keys`` (the pinyin of
    those with a Chinese character), and the entries whose pinyin failed, with why."""
    spellings, initials, failed = [], [], []
    for entry, key in enumerate(keys):
        try:
            if not any(readings(char)[0] for char in key):
                continue
            spelled = phrase_pinyin.spellings(key)
        except Exception as exc:  # noqa: BLE001 — one word must not stop a build
            failed.append((entry, f"{type(exc).__name__}: {exc}"))
            continue
        spellings += [("".join(spelling), entry) for spelling in spelled]
        initials += [(first, entry) for first in dict.fromkeys("".join(s[0] for s in spelling) for spelling in spelled)]
    return spellings, initials, failed


def _phrase_candidates(grams: GramIndex, words: set[str]) -> list[str]:
    """Pairs of adjacent words (not words themselves) in at least :data:`MIN_SAMPLED` of a sample
    of paragraphs spread evenly over the archive, sorted. Only the runs of Chinese characters are
    cut: jieba then leaves the cutting to rjieba throughout."""
    step = max(1, -(-grams.count // SAMPLED_PARAGRAPHS))
    seen: Counter = Counter()
    for gid in range(0, grams.count, step):
        runs = _HAN_RUN.findall(grams.skeletons[gid])
        tokens = [token if len(token) > 1 else "" for token in analysis.tokens("，".join(runs))] if runs else []
        seen.update({a + b for a, b in zip(tokens, tokens[1:]) if a and b and len(a) + len(b) <= MAX_PHRASE_CHARS})
    return sorted(pair for pair, times in seen.items() if times >= MIN_SAMPLED and pair not in words)


def _bigram_counts(grams: GramIndex) -> Callable[[np.ndarray], np.ndarray]:
    """The paragraphs that hold each bigram (``a << 16 | b``): its posting list's length."""

    def counts(codes: np.ndarray) -> np.ndarray:
        keys, offsets = grams.bigram_keys, grams.bigrams.offsets
        if not len(keys):
            return np.zeros(len(codes), dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
        return np.where(keys[at] == codes, offsets[at + 1].astype(np.int64) - offsets[at], 0)

    return counts
