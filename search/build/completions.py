"""A generation's completion index (:mod:`search.formats.completions`), worked out from its live
paragraphs: the words of its vocabulary and its frequent phrases, how many live paragraphs
contain each, how the archive writes each, and how each is spelled in pinyin.

* Phrases: pairs of adjacent words of two Chinese characters or more, cut by jieba
  from a sample of about :data:`SAMPLED_PARAGRAPHS` live paragraphs spread over the archive, seen
  in at least :data:`MIN_SAMPLED` of them; kept when at least :data:`MIN_PHRASE_PARAGRAPHS`
  paragraphs of the whole archive contain one, the :data:`MAX_PHRASES` most frequent at most.
* Counts: exact, for every entry at once (:mod:`.substring_counts`), per segment, less what its
  deleted paragraphs hold.
* Forms: :mod:`.display_forms`; over several segments, each segment's votes added up.
* Pinyin: :mod:`search.text.phrase_pinyin`, a polyphone read as its word reads it.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..formats.completions import FOLDER, write_entries, write_forms
from ..formats.layout import GRAMS, VOCABULARY, segment_folder
from ..match.grams import GramIndex
from ..match.skeletons import mapped_words
from ..problems import InputProblem
from ..segment.codec import patched_text_parts, skeleton_column_path
from ..segment.columns import skeleton_arrays
from ..segment.mapped import open_index
from ..text import analysis, phrase_pinyin
from ..text.pinyin import readings
from .display_forms import Originals, exceptions, form_votes, most_written
from .substring_counts import Counted, bigram_counter, paragraph_counts, touching

SAMPLED_PARAGRAPHS = 8_000  # paragraphs cut into words to find phrases, at most
MIN_SAMPLED = 2
MIN_PHRASE_PARAGRAPHS = 3
MAX_PHRASES = 20_000
MAX_PHRASE_CHARS = 16
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")


@dataclass
class _Segment:
    """One segment of the generation: its skeletons, match index, live paragraphs, and its stored
    texts' table and patches (None when its texts are not all patched)."""

    units: np.ndarray
    bounds: np.ndarray
    grams: GramIndex
    live: np.ndarray
    parts: tuple | None

    @property
    def whole(self) -> bool:
        return bool(self.live.all())


def write_completions(folder: Path, live: list[np.ndarray], on_problem: Callable[[InputProblem], None]) -> None:
    """Write ``folder/completions`` for the generation in ``folder`` (its table of contents and
    vocabulary written; ``live``: each segment's live paragraphs). A word whose pinyin cannot be
    worked out (a bug) is reported at its line of the vocabulary and gets none."""
    folder = Path(folder)
    reader = open_index(folder).reader()
    try:
        readers = reader.readers if hasattr(reader, "readers") else [reader]
        segments = []
        for segment_reader, mask in zip(readers, live):
            units, bounds = skeleton_arrays(skeleton_column_path(segment_reader, folder))
            grams = GramIndex(segment_folder(folder, segment_reader.segment().segid) / GRAMS, units, bounds)
            segments.append(_Segment(units, bounds, grams, np.asarray(mask, dtype=bool),
                                     patched_text_parts(segment_reader, folder)))
        _write(folder, segments, on_problem)
    finally:
        reader.close()


def _write(folder: Path, segments: list[_Segment], on_problem: Callable[[InputProblem], None]) -> None:
    words = mapped_words(folder / VOCABULARY).all()
    keys = words + _phrase_candidates(segments, set(words))
    counted = [paragraph_counts(s.units, s.bounds, keys, bigram_counts=_bigram_counts(s.grams),
                                one_by_one=lambda key, grams=s.grams: len(grams.find(key).gids)) for s in segments]
    live_counts = [c.counts - _dead_counts(s, keys) for s, c in zip(segments, counted)]
    counts = np.sum(live_counts, axis=0) if segments else np.zeros(len(keys), dtype=np.int64)
    frequent = [i for i in range(len(words), len(keys)) if counts[i] >= MIN_PHRASE_PARAGRAPHS]
    frequent = sorted(heapq.nlargest(MAX_PHRASES, frequent, key=lambda i: (counts[i], -i)), key=keys.__getitem__)
    phrases = [keys[i] for i in frequent]
    phrase_pinyin.load()
    try:
        spellings, initials, failed = _spelled(words + phrases)
    finally:
        phrase_pinyin.unload()
    target = folder / FOLDER
    write_entries(target, words=len(words), phrases=phrases,
                  counts=np.concatenate((counts[: len(words)], counts[frequent])),
                  spellings=spellings, initials=initials)
    for entry, problem in failed:  # at its line of the vocabulary, or of the phrases written
        lines, line = ((folder / VOCABULARY / "words.txt", entry + 1) if entry < len(words)
                       else (target / "phrases.txt", entry - len(words) + 1))
        key = words[entry] if entry < len(words) else phrases[entry - len(words)]
        on_problem(InputProblem(str(lines), line, f"no pinyin for {key!r} ({problem}); it completes from "
                                "its characters but not from pinyin", fatal=False))
    table, forms = _forms(keys, segments, counted, live_counts)
    entry_of = {old: len(words) + new for new, old in enumerate(frequent)}  # a kept phrase's entry
    display = {entry_of.get(i, i): form for i, form in forms.items() if i < len(words) or i in entry_of}
    write_forms(target, display, table)


def _forms(keys: list[str], segments: list[_Segment], counted: list[Counted],
           live_counts: list[np.ndarray]) -> tuple[dict[int, str] | None, dict[int, str]]:
    """The stored texts' table the index keeps (the largest segment's) and ``{key: its form}`` for
    the keys the live paragraphs write most often otherwise than as their base under it."""
    if not segments:
        return None, {}
    largest = max(range(len(segments)), key=lambda n: int(segments[n].live.sum()))
    table = segments[largest].parts[0] if segments[largest].parts is not None else None
    base = _base(table)
    if len(segments) == 1 and segments[0].whole:
        s, c = segments[0], counted[0]
        originals = _originals(s, table)
        return table, exceptions(keys, c, touching(c, s.units, s.bounds, originals.marked), originals, s.units, base)
    per_segment = []  # each segment's votes, and how its untouched occurrences read
    for s, c, live_count in zip(segments, counted, live_counts):
        own = s.parts[0] if s.parts is not None else None
        originals = _originals(s, own)
        found = touching(c, s.units, s.bounds, originals.marked)
        alive = s.live[found.paragraphs]
        found.keys, found.starts, found.paragraphs = found.keys[alive], found.starts[alive], found.paragraphs[alive]
        found_votes = form_votes(keys, c, live_count, found, originals, s.units, _base(own))
        if own != table:  # its base forms may differ from the index's: its other keys vote for theirs
            own_base = _base(own)
            for k in np.flatnonzero(live_count).tolist():
                if k not in found_votes and own_base(keys[k]) != base(keys[k]):
                    found_votes[k] = {own_base(keys[k]): int(live_count[k])}
        per_segment.append((found_votes, live_count, _base(own)))
    votes: dict[int, dict[str, int]] = {}
    for k in set().union(*(found for found, _, _ in per_segment)):
        into = votes[k] = {}
        for found, live_count, own_base in per_segment:
            for text, n in (found[k].items() if k in found else ((own_base(keys[k]), int(live_count[k])),)):
                into[text] = into.get(text, 0) + n
    forms = {k: most_written(written, keys[k]) for k, written in votes.items()}
    return table, {k: text for k, text in forms.items() if text != base(keys[k])}


def _originals(segment: _Segment, table: dict[int, str] | None) -> Originals:
    patches = segment.parts[1] if segment.parts is not None else ()
    return Originals.of(segment.units, segment.bounds, table, patches)


def _base(table: dict[int, str] | None) -> Callable[[str], str]:
    return (lambda key: key.translate(table)) if table else (lambda key: key)


def _dead_counts(segment: _Segment, keys: list[str]) -> np.ndarray | int:
    """Per key, the paragraphs of ``segment`` that contain it but are deleted (0 when none are)."""
    dead = np.flatnonzero(~segment.live)
    if not len(dead):
        return 0
    starts, ends = segment.bounds[dead].astype(np.int64), segment.bounds[dead + 1].astype(np.int64)
    units = np.concatenate([segment.units[a:b] for a, b in zip(starts.tolist(), ends.tolist())])
    bounds = np.concatenate(([0], np.cumsum(ends - starts))).astype(np.int64)
    texts = [units[a: b - 1].tobytes().decode("utf-16-le", "surrogatepass") for a, b in zip(bounds[:-1], bounds[1:])]
    return paragraph_counts(units, bounds, keys, bigram_counts=bigram_counter(units, bounds),
                            one_by_one=lambda key: sum(key in text for text in texts)).counts


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


def _phrase_candidates(segments: list[_Segment], words: set[str]) -> list[str]:
    """Pairs of adjacent words (not words themselves) in at least :data:`MIN_SAMPLED` of a sample
    of live paragraphs spread evenly over the archive, sorted. Only the runs of Chinese characters
    are cut: jieba then leaves the cutting to rjieba throughout."""
    live = [np.flatnonzero(s.live) for s in segments]
    total = sum(len(ids) for ids in live)
    step = max(1, -(-total // SAMPLED_PARAGRAPHS))
    firsts = np.cumsum([0] + [len(ids) for ids in live])
    seen: Counter = Counter()
    for at in range(0, total, step):
        n = int(np.searchsorted(firsts, at, side="right")) - 1
        runs = _HAN_RUN.findall(segments[n].grams.skeletons[int(live[n][at - firsts[n]])])
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
