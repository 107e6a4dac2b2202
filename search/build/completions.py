"""A generation's completion index (:mod:`search.formats.completions`), worked out from its live
paragraphs: the words of its vocabulary and its frequent phrases, how many live paragraphs
contain each, how the archive writes each, and how each is spelled in pinyin.

* Phrases: pairs of adjacent words of two Chinese characters or more, cut by jieba from a sample
  of about :data:`SAMPLED_PARAGRAPHS` live paragraphs spread over the archive, seen in at least
  :data:`MIN_SAMPLED` of them; kept when at least :data:`MIN_PHRASE_PARAGRAPHS` paragraphs of the
  whole archive contain one, the :data:`MAX_PHRASES` most frequent at most.
* Counts: exact, for every entry at once (:mod:`.substring_counts`), segment by segment
  (:mod:`.segment_tally`, which keeps what each segment holds for the generations after).
* Forms: the one most live paragraphs write (:mod:`.display_forms`), over every segment.
* Pinyin: :mod:`search.text.phrase_pinyin`, a polyphone read as its word reads it; an entry the
  previous generation spelled is not spelled again.
"""

from __future__ import annotations

import heapq
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from ..formats.arrays import release_pages
from ..formats.completions import FOLDER, write_entries, write_forms
from ..formats.layout import GRAMS, VOCABULARY, segment_folder
from ..match.grams import GramIndex
from ..match.skeletons import mapped_words
from ..problems import InputProblem
from ..segment.codec import patched_text_parts, skeleton_column_path
from ..segment.columns import skeleton_arrays
from ..segment.mapped import open_index
from ..text import phrase_pinyin
from ..text.pinyin import readings
from .display_forms import most_written
from .segment_tally import SegmentSource, StretchWorkers, Tally

SAMPLED_PARAGRAPHS = 8_000  # paragraphs cut into words to find phrases, at most
MIN_SAMPLED = 2
MIN_PHRASE_PARAGRAPHS = 3
MAX_PHRASES = 20_000


def write_completions(folder: Path, live: list[np.ndarray], on_problem: Callable[[InputProblem], None],
                      previous: Path | None = None, jobs: int = 1) -> None:
    """Write ``folder/completions`` for the generation in ``folder`` (its table of contents and
    vocabulary written; ``live``: each segment's live paragraphs; ``previous``: the generation it
    follows, if any, whose spellings it reuses; ``jobs``: the processes a segment is read by). A
    word whose pinyin cannot be worked out (a bug) is reported at its line of the vocabulary and
    gets none."""
    folder = Path(folder)
    reader = open_index(folder).reader()
    try:
        readers = reader.readers if hasattr(reader, "readers") else [reader]
        segments = []
        for segment_reader, mask in zip(readers, live):
            units, bounds = skeleton_arrays(skeleton_column_path(segment_reader, folder))
            data = segment_folder(folder, segment_reader.segment().segid)
            segments.append(SegmentSource(units, bounds, GramIndex(data / GRAMS, units, bounds),
                                          np.asarray(mask, dtype=bool), data,
                                          patched_text_parts(segment_reader, folder)))
        _write(folder, segments, on_problem, _previous_spellings(previous), jobs)
    finally:
        reader.close()


def _write(folder: Path, segments: list[SegmentSource], on_problem: Callable[[InputProblem], None],
           known: dict[str, tuple[list[str], list[str]]], jobs: int) -> None:
    # a whole build keeps no tally: an update makes it when it needs it
    keep = not (len(segments) == 1 and segments[0].live.all())
    words = mapped_words(folder / VOCABULARY).all()
    keys = words + _phrase_candidates(segments, set(words), keep)
    counts = np.zeros(len(keys), dtype=np.int64)
    by_table: list[tuple[SegmentSource, Tally]] = []  # per stored texts' table, its segments' tallies added up
    with StretchWorkers(segments, jobs):
        for segment in segments:  # added up as they come: what is held does not grow with the segments
            tally = segment.tally(keys, keep)
            counts += tally.counts
            same = next((total for first, total in by_table if first.table == segment.table), None)
            if same is None:
                by_table.append((segment, tally))
            else:
                same.add(tally)
            del tally
            segment.release()  # what the segment's tally left goes before the next is read
    frequent = [i for i in range(len(words), len(keys)) if counts[i] >= MIN_PHRASE_PARAGRAPHS]
    frequent = sorted(heapq.nlargest(MAX_PHRASES, frequent, key=lambda i: (counts[i], -i)), key=keys.__getitem__)
    phrases = [keys[i] for i in frequent]
    spellings, initials, failed = _spelled(words + phrases, known)
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
    table, forms = _forms(keys, segments, by_table)
    entry_of = {old: len(words) + new for new, old in enumerate(frequent)}  # a kept phrase's entry
    display = {entry_of.get(i, i): form for i, form in forms.items() if i < len(words) or i in entry_of}
    write_forms(target, display, table)


def _forms(keys: list[str], segments: list[SegmentSource],
           by_table: list[tuple[SegmentSource, Tally]]) -> tuple[dict[int, str] | None, dict[int, str]]:
    """The stored texts' table the index keeps (the largest segment's) and ``{key: its form}`` for
    the keys the live paragraphs write most often otherwise than as their base under it
    (``by_table``: a segment of each table and the tallies of the segments of that table added up)."""
    if not segments:
        return None, {}
    largest = max(segments, key=lambda segment: int(segment.live.sum()))
    table, base = largest.table, largest.base()
    tallies = [tally for _, tally in by_table]
    bases = [segment.base() for segment, _ in by_table]
    # keys some segment writes otherwise than the index's base: its patches say so, or its table does
    written_otherwise = set().union(*(tally.forms for tally in tallies))
    for (segment, tally), own in zip(by_table, bases):
        if segment.table != table:
            written_otherwise.update(k for k in np.flatnonzero(tally.counts).tolist() if own(keys[k]) != base(keys[k]))
    forms = {}
    for k in written_otherwise:
        votes: dict[str, int] = {}
        for tally, own in zip(tallies, bases):
            for text, n in ((own(keys[k]), int(tally.counts[k]) - int(tally.touched[k])), *tally.forms.get(k, {}).items()):
                votes[text] = votes.get(text, 0) + n
        text = most_written({text: n for text, n in votes.items() if n > 0} or {base(keys[k]): 0}, keys[k])
        if text != base(keys[k]):
            forms[k] = text
    return table, forms


def _previous_spellings(previous: Path | None) -> dict[str, tuple[list[str], list[str]]]:
    """Each entry of the previous generation's completion index: its spellings and initials."""
    folder = Path(previous) / FOLDER if previous is not None else None
    if folder is None or not (folder / "counts.npy").is_file():
        return {}
    try:
        phrases = (folder / "phrases.txt").read_bytes().decode("utf-8")
        keys = mapped_words(Path(previous) / VOCABULARY).all() + (phrases.split("\n") if phrases else [])
        if len(keys) != len(np.load(folder / "counts.npy", mmap_mode="r")):
            return {}
        known: dict[str, tuple[list[str], list[str]]] = {key: ([], []) for key in keys}
        for n, name in enumerate(("spelling", "initial")):
            text = (folder / f"{name}s.txt").read_bytes().decode("utf-8")
            rows = text.split("\n") if text else []
            entries = np.load(folder / f"{name}_entries.npy").tolist()
            if len(rows) != len(entries):
                return {}
            for row, entry in zip(rows, entries):
                known[keys[entry]][n].append(row)
        return known
    except (OSError, ValueError, IndexError):  # unreadable: every entry is spelled again
        return {}


def _spelled(keys: list[str], known: dict[str, tuple[list[str], list[str]]]
             ) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[tuple[int, str]]]:
    """``(spelling, entry)`` and ``(initials, entry)`` rows of the entries ``keys`` (the pinyin of
    those with a Chinese character; ``known``: those spelled before), and the entries whose
    pinyin failed, with why."""
    spellings, initials, failed = [], [], []
    loaded = False
    try:
        for entry, key in enumerate(keys):
            if key in known:
                spellings += [(spelled, entry) for spelled in known[key][0]]
                initials += [(first, entry) for first in known[key][1]]
                continue
            try:
                if not any(readings(char)[0] for char in key):
                    continue
                if not loaded:
                    phrase_pinyin.load()
                    loaded = True
                spelled = phrase_pinyin.spellings(key)
            except Exception as exc:  # noqa: BLE001 — one word must not stop a build
                failed.append((entry, f"{type(exc).__name__}: {exc}"))
                continue
            spellings += [("".join(spelling), entry) for spelling in spelled]
            initials += [(first, entry) for first in
                         dict.fromkeys("".join(s[0] for s in spelling) for spelling in spelled)]
    finally:
        if loaded:
            phrase_pinyin.unload()
    return spellings, initials, failed


def _phrase_candidates(segments: list[SegmentSource], words: set[str], keep: bool) -> list[str]:
    """Pairs of adjacent words (not words themselves) in at least :data:`MIN_SAMPLED` of a sample
    of live paragraphs spread evenly over the archive (each segment's numbered a multiple of one
    step), sorted."""
    total = sum(int(segment.live.sum()) for segment in segments)
    step = max(1, -(-total // SAMPLED_PARAGRAPHS))
    seen: Counter = Counter()
    for segment in segments:
        seen.update(segment.sampled_pairs(step, keep))
        release_pages(segment.units, segment.bounds)  # read back segment by segment as they are tallied
    return sorted(pair for pair, times in seen.items() if times >= MIN_SAMPLED and pair not in words)
