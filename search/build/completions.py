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
import multiprocessing
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from ..formats.completions import FOLDER, write_completion_index
from ..formats.layout import GRAMS
from ..match.grams import GramIndex
from ..paragraphs import InputProblem
from ..segment.codec import patched_text_parts, skeleton_column_path
from ..segment.columns import skeleton_arrays
from ..segment.mapped import open_index
from ..text import analysis, phrase_pinyin
from ..text.pinyin import readings
from .display_forms import Originals, exceptions
from .processes import BuildFailed
from .substring_counts import paragraph_counts

SAMPLED_PARAGRAPHS = 8_000  # paragraphs cut into words to find phrases, at most
MIN_SAMPLED = 2
MIN_PHRASE_PARAGRAPHS = 3
MAX_PHRASES = 20_000
MAX_PHRASE_CHARS = 16
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")


def write_completions(build: Path, on_problem: Callable[[InputProblem], None]) -> None:
    """Write the completion index of the finished ``build`` into its :data:`FOLDER`; a word whose
    pinyin cannot be worked out (a bug) is reported at its line of ``words.txt`` and gets none.
    The words are spelled in a forked process while this one counts."""
    phrase_pinyin.load()  # before the fork: the child shares it
    searcher = open_index(build).searcher()
    try:
        units, bounds = skeleton_arrays(skeleton_column_path(searcher, build))
        grams = GramIndex(build / GRAMS, units, bounds)
        words = grams.words.all()
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as aside:
            spelled_words = aside.submit(_spelled, words, 0)
            parts = patched_text_parts(searcher, build)
            table, patches = parts if parts is not None else (None, ())
            candidates = _phrase_candidates(grams, set(words))
            keys = words + candidates
            originals = Originals.of(units, bounds, table, patches)
            counted = paragraph_counts(units, bounds, keys, bigram_counts=_bigram_counts(grams),
                                       one_by_one=lambda key: len(grams.find(key).gids), marked=originals.marked)
            forms = exceptions(keys, counted, originals, (lambda key: key.translate(table)) if table else (lambda key: key))
            spellings, initials, failed = spelled_words.result()
    finally:
        searcher.close()
    for entry, problem in failed:
        on_problem(InputProblem(str(build / GRAMS / "words.txt"), entry + 1, f"no pinyin for {words[entry]!r} "
                                f"({problem}); it completes from its characters but not from pinyin", fatal=False))
    frequent = [i for i in range(len(words), len(keys)) if counted.counts[i] >= MIN_PHRASE_PARAGRAPHS]
    frequent = sorted(heapq.nlargest(MAX_PHRASES, frequent, key=lambda i: (counted.counts[i], -i)),
                      key=keys.__getitem__)
    entry_of = {old: len(words) + new for new, old in enumerate(frequent)}  # a kept phrase's entry
    phrases = [keys[i] for i in frequent]
    more_spellings, more_initials, failed = _spelled(phrases, len(words))
    if failed:
        raise BuildFailed(f"no pinyin for the phrase {phrases[failed[0][0] - len(words)]!r}: {failed[0][1]}")
    display = {entry_of.get(i, i): form for i, form in forms.items() if i < len(words) or i in entry_of}
    counts = np.concatenate((counted.counts[: len(words)], counted.counts[frequent].astype(np.int64)))
    write_completion_index(build / FOLDER, words=len(words), phrases=phrases, counts=counts,
                           spellings=spellings + more_spellings, initials=initials + more_initials,
                           display=display, table=table)


def _spelled(keys: list[str], first: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[tuple[int, str]]]:
    """``(spelling, entry)`` and ``(initials, entry)`` rows of ``keys``, entries ``first``, ``first + 1``, …
    (the pinyin of those with a Chinese character), and the entries whose pinyin failed, with why."""
    spellings, initials, failed = [], [], []
    for entry, key in enumerate(keys, start=first):
        try:
            if not any(readings(char)[0] for char in key):
                continue
            for spelling in phrase_pinyin.spellings(key):
                spellings.append(("".join(spelling), entry))
                initials.append(("".join(syllable[0] for syllable in spelling), entry))
        except Exception as exc:  # noqa: BLE001 — one word must not stop a build
            failed.append((entry, f"{type(exc).__name__}: {exc}"))
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
