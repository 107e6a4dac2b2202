"""What one segment holds of a generation's completion entries (:class:`Tally`): per key, how many of
its paragraphs contain it and how they write it; and the pairs of words of its sampled paragraphs
(the phrase candidates).

A segment's paragraphs never change, so what they hold is worked out once and kept in the
segment's folder (``seg-<id>/tally/``), which later generations share by hard links: an update
works out its new segment whole, the keys new to an older segment from the few paragraphs that
contain them (the match index finds them), and takes away what the paragraphs it deletes held.
A whole build, one segment with nothing deleted, keeps no tally: the first update makes it. A
segment of fewer than :data:`KEEP_FROM_UNITS` code units keeps none either: reading it again costs
little.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ..formats.arrays import release_pages
from ..match.grams import GramIndex
from ..text import analysis
from .display_forms import Originals, written_forms
from .processes import release_memory
from .substring_counts import bigram_counter, paragraph_counts, touching

TALLY = "tally"
# a smaller segment is read whole again at each generation (its tally would cost more disk than time)
KEEP_FROM_UNITS = 1 << 20
# a segment is tallied this many code units at a time: the occurrences worked out for a stretch (most
# of its units where its texts mix scripts) take tens of bytes a unit, so memory stays flat however
# large the segment
STRETCH_UNITS = 1 << 20
MAX_PHRASE_CHARS = 16
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
_SEPARATOR = "\x00"  # no key holds it (paragraph_counts refuses one)


@dataclass
class Tally:
    """Per key (of a list the caller holds): the paragraphs that contain it (``counts``), those with
    an occurrence written otherwise than its base (``touched``), and per key written otherwise, the
    paragraphs writing each such form (``forms``). All three add up over disjoint paragraphs."""

    counts: np.ndarray
    touched: np.ndarray
    forms: dict[int, dict[str, int]] = field(default_factory=dict)

    def add(self, other: "Tally") -> None:
        """Add what ``other`` holds (of other paragraphs) to this, in place."""
        self.counts += other.counts
        self.touched += other.touched
        for k, written in other.forms.items():
            into = self.forms.setdefault(k, {})
            for text, n in written.items():
                into[text] = into.get(text, 0) + n

    def minus(self, other: "Tally") -> "Tally":
        """What this holds but ``other`` (some of its paragraphs)."""
        forms = {k: dict(written) for k, written in self.forms.items()}
        for k, written in other.forms.items():
            into = forms.setdefault(k, {})
            for text, n in written.items():
                into[text] = into.get(text, 0) - n
                if not into[text]:
                    del into[text]
        return Tally(self.counts - other.counts, self.touched - other.touched, {k: w for k, w in forms.items() if w})


_FORKED: tuple | None = None  # (segments by id, keys) while stretch workers are forked (nothing of it is pickled)
_last_read = None  # in a stretch worker, the segment it read last


def _forked_stretch(job: tuple[int, int, int]) -> Tally:
    global _last_read
    segments, keys = _FORKED
    number, first, end = job
    segment = segments[number]
    if _last_read is not None and _last_read is not segment:
        _last_read.release()  # what the worker mapped and kept of the segment before
    _last_read = segment
    return segment._stretch(keys, first, end)


class StretchWorkers:
    """The processes that tally whole segments' stretches for the ``segments`` of one completion
    step (with ``jobs`` > 1; else none, and each segment is read in this process): forked once, at
    the first stretch, and kept for the segments after. A pool forked for each segment would copy
    what the builder had added up from the segments before it, once a worker (at 5× the archive
    the last segment's workers held ~100 MiB more each than the first's). A worker lets go of a
    segment's pages and of its freed heap when it moves on to the next."""

    def __init__(self, segments: list["SegmentSource"], jobs: int):
        self.jobs, self._segments = jobs, segments
        self._keys: list[str] | None = None
        self._pool = None
        if jobs > 1:
            for segment in segments:
                segment.workers = self

    def tally(self, segment: "SegmentSource", keys: list[str], stretches: list[tuple[int, int]]) -> Iterator[Tally]:
        """What each of ``segment``'s ``stretches`` holds of ``keys`` (one list for every segment), in order."""
        global _FORKED
        if self._pool is None:
            self._keys = keys
            _FORKED = ({id(each): each for each in self._segments}, keys)
            try:
                self._pool = multiprocessing.get_context("fork").Pool(self.jobs)
            finally:
                _FORKED = None
        if keys is not self._keys:
            raise ValueError("stretch workers tally one list of keys")
        return self._pool.imap(_forked_stretch, [(id(segment), first, end) for first, end in stretches])

    def __enter__(self) -> "StretchWorkers":
        return self

    def __exit__(self, *exc) -> None:
        for segment in self._segments:
            segment.workers = None
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _stretches(bounds: np.ndarray, units: int):
    """``(first, end)`` paragraph ranges of about ``units`` code units each (at least one paragraph)."""
    paragraphs, first = len(bounds) - 1, 0
    while first < paragraphs:
        end = int(np.searchsorted(bounds, int(bounds[first]) + units, side="right")) - 1
        end = min(max(end, first + 1), paragraphs)
        yield first, end
        first = end


@dataclass
class SegmentSource:
    """One segment of a generation: its skeletons, match index, live paragraphs, folder, and its
    stored texts' table and patches (``parts``; None when its texts are not all patched)."""

    units: np.ndarray
    bounds: np.ndarray
    grams: GramIndex
    live: np.ndarray
    folder: Path
    parts: tuple | None
    workers: StretchWorkers | None = None  # the processes a whole segment's paragraphs are read by (None: this one)

    @property
    def table(self) -> dict[int, str] | None:
        return self.parts[0] if self.parts is not None else None

    def release(self) -> None:
        """Let go of the pages of the segment's files this process read, and of its freed heap."""
        release_pages(self.units, self.bounds)
        release_memory()

    def base(self) -> Callable[[str], str]:
        """A key as this segment's texts write it unless a patch says otherwise."""
        table = self.table
        return (lambda key: key.translate(table)) if table else (lambda key: key)

    def tally(self, keys: list[str], keep: bool) -> Tally:
        """What the live paragraphs hold of ``keys``; ``keep``: keep (or extend) the segment's tally
        of all its paragraphs for the next generation."""
        keep = keep and len(self.units) >= KEEP_FROM_UNITS
        cached = _read(self.folder / TALLY) if keep else None
        if cached is None:
            whole = self.tally_of(keys)
            if keep:
                _write(self.folder / TALLY, keys, whole)
        else:
            known, tally = cached
            position = {key: i for i, key in enumerate(known)}
            missing = [key for key in keys if key not in position]
            if missing:
                gids = np.unique(np.concatenate([self.grams.find(key).gids for key in missing]))
                extra = self.tally_of(missing, gids if len(gids) * 4 < len(self.live) else None)
                first = len(known)
                known = known + missing
                tally = Tally(np.concatenate((tally.counts, extra.counts)), np.concatenate((tally.touched, extra.touched)),
                              {**tally.forms, **{first + k: w for k, w in extra.forms.items()}})
                position.update({key: first + i for i, key in enumerate(missing)})
                if keep:
                    _write(self.folder / TALLY, known, tally)
            at = np.array([position[key] for key in keys], dtype=np.int64)
            back = {int(i): n for n, i in enumerate(at.tolist())}
            whole = Tally(tally.counts[at], tally.touched[at],
                          {back[k]: w for k, w in tally.forms.items() if k in back})
        dead = np.flatnonzero(~self.live)
        return whole.minus(self.tally_of(keys, dead)) if len(dead) else whole

    def tally_of(self, keys: list[str], gids: np.ndarray | None = None) -> Tally:
        """What all the segment's paragraphs (or those of ``gids``, sorted) hold of ``keys``."""
        if gids is None:
            return self._whole_tally(keys)
        units, bounds = _gathered(self.units, self.bounds, gids)
        patches = [] if self.parts is None else [(i, patch) for i, patch in
                                                 enumerate(map(self.parts[1], gids.tolist())) if patch]
        texts = [units[a: b - 1].tobytes().decode("utf-16-le", "surrogatepass")
                 for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
        return self._tally(keys, units, bounds, patches, bigram_counter(units, bounds),
                           lambda key: sum(key in text for text in texts))

    def _whole_tally(self, keys: list[str]) -> Tally:
        """:meth:`tally_of` every paragraph, a stretch of :data:`STRETCH_UNITS` at a time (what is
        worked out for a stretch grows with it), the stretches shared out among the :attr:`workers`."""
        whole = Tally(np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=np.int64))
        stretches = list(_stretches(self.bounds, STRETCH_UNITS))
        if self.workers is not None and len(stretches) > 1:
            for part in self.workers.tally(self, keys, stretches):
                whole.add(part)
        else:
            for first, end in stretches:
                whole.add(self._stretch(keys, first, end))
        return whole

    def _stretch(self, keys: list[str], first: int, end: int) -> Tally:
        """What paragraphs ``first:end`` hold of ``keys``. The counts of keys of two code units and
        of the widest keys come from the match index, for the whole segment: the first stretch
        takes them, the others none."""
        start = int(self.bounds[first])
        units, bounds = self.units[start : int(self.bounds[end])], self.bounds[first : end + 1] - self.bounds[first]
        patches = () if self.parts is None else self.parts[1].between(first, end)
        if first == 0:
            return self._tally(keys, units, bounds, patches, _bigram_counts(self.grams),
                               lambda key: len(self.grams.find(key).gids))
        return self._tally(keys, units, bounds, patches, lambda codes: np.zeros(len(codes), np.int64), lambda key: 0)

    def _tally(self, keys: list[str], units: np.ndarray, bounds: np.ndarray, patches, bigram_counts,
               one_by_one) -> Tally:
        originals = Originals.of(units, bounds, self.table, patches)
        counted = paragraph_counts(units, bounds, keys, bigram_counts=bigram_counts, one_by_one=one_by_one,
                                   marked=originals.marked)
        forms, touched = written_forms(keys, counted, touching(counted, units, bounds, originals.marked), originals,
                                       units, self.base())
        return Tally(counted.counts, np.asarray(touched, dtype=np.int64), forms)

    def sampled_pairs(self, step: int, keep: bool) -> Counter:
        """How many of the segment's live paragraphs numbered a multiple of ``step`` hold each pair of
        adjacent words of two characters or more (the words cut by jieba from the runs of Chinese
        characters only: jieba then leaves the cutting to rjieba throughout)."""
        keep = keep and len(self.units) >= KEEP_FROM_UNITS
        path = self.folder / TALLY / "sample.json"
        cached = _read_json(path) if keep else None
        if not isinstance(cached, dict) or cached.get("step") != step or not isinstance(cached.get("pairs"), dict):
            cached = {"step": step, "pairs": {str(gid): _pairs(self.grams.skeletons[gid])
                                              for gid in range(0, len(self.live), step)}}
            if keep:
                path.parent.mkdir(exist_ok=True)
                _replace(path, json.dumps(cached, ensure_ascii=False).encode("utf-8"))
        seen: Counter = Counter()
        for gid, pairs in cached["pairs"].items():
            if self.live[int(gid)]:
                seen.update(pairs)
        return seen


def _pairs(text: str) -> list[str]:
    runs = _HAN_RUN.findall(text)
    tokens = [token if len(token) > 1 else "" for token in analysis.tokens("，".join(runs))] if runs else []
    return sorted({a + b for a, b in zip(tokens, tokens[1:]) if a and b and len(a) + len(b) <= MAX_PHRASE_CHARS})


def _gathered(units: np.ndarray, bounds: np.ndarray, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The skeletons of paragraphs ``gids`` alone, laid out as the match index lays them out."""
    starts, ends = bounds[gids].astype(np.int64), bounds[gids + 1].astype(np.int64)
    gathered = np.concatenate([units[a:b] for a, b in zip(starts.tolist(), ends.tolist())]) if len(gids) else units[:0]
    return gathered, np.concatenate(([0], np.cumsum(ends - starts))).astype(np.int64)


def _bigram_counts(grams: GramIndex) -> Callable[[np.ndarray], np.ndarray]:
    """The paragraphs that hold each bigram (``a << 16 | b``): its posting list's length."""

    def counts(codes: np.ndarray) -> np.ndarray:
        keys, offsets = grams.bigram_keys, grams.bigrams.offsets
        if not len(keys):
            return np.zeros(len(codes), dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
        return np.where(keys[at] == codes, offsets[at + 1].astype(np.int64) - offsets[at], 0)

    return counts


def _read(folder: Path) -> tuple[list[str], Tally] | None:
    """A segment's kept tally: its keys and what all its paragraphs hold of them."""
    try:
        text = (folder / "keys.txt").read_bytes().decode("utf-8", "surrogatepass")
        numbers = np.load(folder / "counts.npy")
        forms = json.loads((folder / "forms.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none kept, or damaged: worked out again
        return None
    keys = text.split(_SEPARATOR) if text else []
    if numbers.shape != (2, len(keys)):
        return None
    return keys, Tally(numbers[0].astype(np.int64), numbers[1].astype(np.int64),
                       {int(k): written for k, written in forms.items()})


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(folder: Path, keys: Sequence[str], tally: Tally) -> None:
    """Keep a segment's tally. Its files may be links shared with an older generation: each is
    replaced, never written in place."""
    folder.mkdir(exist_ok=True)
    _replace(folder / "keys.txt", _SEPARATOR.join(keys).encode("utf-8", "surrogatepass"))
    numbers = np.stack((tally.counts, tally.touched))
    numbers = numbers.astype(np.int32 if not len(tally.counts) or numbers.max() < 2**31 else np.int64)
    _replace(folder / "counts.npy", lambda handle: np.save(handle, numbers))
    _replace(folder / "forms.json", json.dumps({str(k): w for k, w in tally.forms.items()}).encode("ascii"))


def _replace(path: Path, content) -> None:
    """Write ``path`` anew (a fresh file, not through a link another generation shares)."""
    fresh = path.with_name(path.name + ".new")
    with open(fresh, "wb") as handle:
        content(handle) if callable(content) else handle.write(content)
    os.replace(fresh, path)
