"""A paragraph's text as the few edits that turn its skeleton back into it.

Every build holds each paragraph's skeleton (its normalised text without white space: what
matching compares) once, uncompressed, in the Whoosh column the match index maps. The original
text differs from it in a few places — full-width punctuation, Traditional characters, upper
case, spaces — so storing it whole a second time stored most of it twice. Whoosh's stored
``text`` is instead a :class:`SkeletonPatch` in a column of its own
(``search.segment.columns.PatchColumn``): the edits, each ``(skeleton characters kept, skeleton
characters replaced, text put in their place)``, against the skeleton with the characters a
:class:`Patcher` learned put back. Nine paragraphs in ten need no edit at all.

:func:`make` never fails and never loses text: whatever it cannot express as such edits (a
normalisation that changed a paragraph's length other than by dropping white space) becomes one
edit holding the whole original, and every patch is checked by applying it before it is kept.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Iterator

import numpy as np

from ..text.normalize import ignorable_runs
from . import varints

LEARN_CHARACTERS = 1 << 21  # characters of text a Patcher learns its table from (about 20,000 paragraphs)


class Patcher:
    """Learns which original character each skeleton character most often stands for —
    ``，`` for ``,``, ``國`` for ``国`` in Traditional text — from the first texts it is shown,
    then patches against the skeleton with those put back (:meth:`base`): most paragraphs then
    need no edit at all. xwlb: patches 3.1 → 0.4 MB; Taiwan's press releases 20.6 → 0.9 MB."""

    def __init__(self, learn_characters: int = LEARN_CHARACTERS):
        self._left = learn_characters
        # what was observed: the skeleton's code points, and (skeleton, original) pairs that differ
        self._skeletons: list[np.ndarray] = []
        self._changes: list[np.ndarray] = []
        self.table: dict[int, str] | None = None  # skeleton code point → original character

    @property
    def learning(self) -> bool:
        return self.table is None

    def observe(self, original: str, skeleton: str) -> None:
        """Count what each skeleton character stands for in ``original`` (a text that folds
        character for character; others teach nothing); the table is learned once enough was seen.
        In numpy: a character at a time in Python cost 53 µs a paragraph of the build's one process."""
        if len(original) == len(skeleton) and skeleton:
            kept = np.frombuffer(skeleton.encode("utf-32-le"), dtype=np.uint32)
            was = np.frombuffer(original.encode("utf-32-le"), dtype=np.uint32)
            self._skeletons.append(kept)
            changed = kept != was
            if changed.any():  # (skeleton, original) as one number: code points take 21 bits
                self._changes.append(kept[changed].astype(np.uint64) << np.uint64(21) | was[changed])
        self._left -= len(original)
        if self._left <= 0:
            self.learn()

    def learn(self) -> None:
        """Fix the table: each skeleton character's most frequent original, where that original is
        another character and stands for it more often than the character itself does (among
        equally frequent originals, the first in code point order)."""
        table: dict[int, tuple[int, int]] = {}
        if self._changes:
            pairs, counts = np.unique(np.concatenate(self._changes), return_counts=True)
            keys = (pairs >> np.uint64(21)).astype(np.int64)
            originals = (pairs & np.uint64((1 << 21) - 1)).astype(np.int64)
            seen, seen_counts = np.unique(np.concatenate(self._skeletons), return_counts=True)
            _, which = np.unique(keys, return_inverse=True)
            changed = np.bincount(which, weights=counts)[which]  # how often each key stood for another
            kept = seen_counts[np.searchsorted(seen, keys)] - changed  # ... and for itself
            for key, original, count, itself in zip(keys.tolist(), originals.tolist(), counts.tolist(), kept.tolist()):
                if count > itself and count > table.get(key, (0, 0))[0]:
                    table[key] = (count, original)
        self.table = {key: chr(original) for key, (_, original) in table.items()}
        self._skeletons, self._changes = [], []

    def make(self, original: str, skeleton: str) -> "SkeletonPatch":
        """:func:`make` against :func:`base` of ``skeleton`` with the learned table."""
        return make(original, base(skeleton, self.table))


def base(skeleton: str, table: dict[int, str] | None) -> str:
    """What a patch made with ``table`` applies to: ``skeleton`` with the table's characters put back."""
    return skeleton.translate(table) if table else skeleton


class MappedBases:
    """:func:`base` of each paragraph straight from the skeletons' code units (a build's match
    index maps them: ``units``, ``bounds`` as in :mod:`search.match.grams`): the table applied to the
    code units by one lookup in a 65,536-entry array (2.4 µs a paragraph of xwlb's), not by
    ``str.translate`` (6.6 µs). A paragraph holding a character whose mapping is to or from one
    beyond the BMP is translated whole by ``str.translate``: the table is applied once, so a
    character the lookup writes is never mapped again."""

    def __init__(self, units: np.ndarray, bounds: np.ndarray, table: dict[int, str] | None):
        self._units, self._bounds = units, memoryview(bounds)
        self._table = table
        self._lookup = None
        self._rest: dict[int, str] = {}
        self._has_rest = None
        if table:
            self._lookup = np.arange(1 << 16, dtype=np.uint16)
            for key, value in table.items():
                if key < 0xD800 or 0xE000 <= key < 0x10000:
                    code = ord(value)
                    if code < 0xD800 or 0xE000 <= code < 0x10000:
                        self._lookup[key] = code
                        continue
                self._rest[key] = value
            if self._rest:
                self._has_rest = re.compile("[" + "".join(re.escape(chr(key)) for key in self._rest) + "]").search

    def __call__(self, gid: int) -> str:
        units = self._units[self._bounds[gid] : self._bounds[gid + 1] - 1]
        if self._lookup is None:
            return units.tobytes().decode("utf-16-le")
        if self._has_rest is not None:
            text = units.tobytes().decode("utf-16-le")
            if self._has_rest(text):
                return text.translate(self._table)
        return self._lookup[units].tobytes().decode("utf-16-le")


class MappedPatches:
    """Each document's patch from a patch column's mapped arrays (``search.segment.columns.patch_arrays``):
    the bytes of the non-empty ones, their documents (ascending) and where each starts."""

    def __init__(self, data: np.ndarray, docnums: np.ndarray, starts: np.ndarray):
        self._data = memoryview(data)
        # (numpy exports an empty array in a format memoryview cannot index)
        self._docnums = memoryview(docnums) if len(docnums) else ()
        self._starts = memoryview(starts)

    def __call__(self, docnum: int) -> bytes:
        i = bisect_left(self._docnums, docnum)
        if i == len(self._docnums) or self._docnums[i] != docnum:
            return b""
        return self._data[self._starts[i] : self._starts[i + 1]]

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """``(document, patch)`` of every document with a non-empty patch, in document order."""
        return self.between(0, self._docnums[-1] + 1 if len(self._docnums) else 0)

    def between(self, first: int, end: int) -> Iterator[tuple[int, bytes]]:
        """``(document - first, patch)`` of the documents ``first:end`` with a non-empty patch, in order."""
        data, starts, docnums = self._data, self._starts, self._docnums
        for i in range(bisect_left(docnums, first), bisect_left(docnums, end)):
            yield docnums[i] - first, data[starts[i] : starts[i + 1]]


class SkeletonPatch(bytes):
    """The edits of :func:`make`, as the patch column keeps them in place of a paragraph's text:
    per edit three varints (skeleton characters kept before it, skeleton characters it replaces,
    UTF-8 bytes of its text) and the text."""

    __slots__ = ()


def make(original: str, skeleton: str) -> SkeletonPatch:
    """The patch that turns ``skeleton`` into ``original`` (:func:`apply`)."""
    if original == skeleton:
        return SkeletonPatch()
    patch = _edits(original, skeleton)
    if patch is None or apply(skeleton, patch) != original:
        patch = _encode([(0, len(skeleton), original)])
    return patch


def edits(patch: bytes) -> Iterator[tuple[int, int, str]]:
    """The edits of ``patch``: ``(where in the skeleton, skeleton characters replaced, text put in
    their place)``, in order."""
    at, i, end, read = 0, 0, len(patch), varints.read
    while i < end:
        # nearly every number is below 128, one byte: read there without a call
        kept, i = (patch[i], i + 1) if patch[i] < 0x80 else read(patch, i)
        replaced, i = (patch[i], i + 1) if patch[i] < 0x80 else read(patch, i)
        size, i = (patch[i], i + 1) if patch[i] < 0x80 else read(patch, i)
        at += kept
        yield at, replaced, str(patch[i : i + size], "utf-8")
        at += replaced
        i += size


def apply(skeleton: str, patch: bytes) -> str:
    """``skeleton`` with the edits of ``patch`` made: the original text."""
    if not patch:
        return skeleton
    pieces, at = [], 0
    for where, replaced, text in edits(patch):
        pieces.append(skeleton[at:where])
        pieces.append(text)
        at = where + replaced
    pieces.append(skeleton[at:])
    return "".join(pieces)


def _edits(original: str, skeleton: str) -> SkeletonPatch | None:
    """The edits when ``original`` is ``skeleton`` with some characters replaced one for one and
    runs of white space put back; None otherwise."""
    dropped = []  # (where in the skeleton, the run) of every white-space run of the original
    pieces, removed, at = [], 0, 0
    for run in ignorable_runs(original):
        dropped.append((run.start() - removed, run.group()))
        pieces.append(original[at : run.start()])
        removed += run.end() - run.start()
        at = run.end()
    kept = "".join(pieces) + original[at:] if dropped else original
    if len(kept) != len(skeleton):
        return None
    a = np.frombuffer(kept.encode("utf-32-le"), dtype=np.uint32)
    b = np.frombuffer(skeleton.encode("utf-32-le"), dtype=np.uint32)
    changed = np.flatnonzero(a != b)
    edits = []  # (skeleton position, characters replaced, text), in order
    if len(changed):
        # runs of consecutive changed characters, one edit each, cut where a run of white space goes back
        cut = np.diff(changed) != 1
        if dropped:
            cut |= np.isin(changed[1:], [p for p, _ in dropped])
        breaks = np.flatnonzero(cut) + 1
        starts = changed[np.concatenate(([0], breaks))].tolist()
        ends = (changed[np.concatenate((breaks - 1, [len(changed) - 1]))] + 1).tolist()
        edits = [(start, end - start, kept[start:end]) for start, end in zip(starts, ends)]
    if dropped:  # a run put back at p goes before any replacement starting at p
        edits = sorted([(p, 0, run) for p, run in dropped] + edits, key=lambda edit: (edit[0], edit[1]))
    return _encode(edits)


def _encode(edits: list[tuple[int, int, str]]) -> SkeletonPatch:
    out = bytearray()
    at = 0
    for position, replaced, text in edits:
        data = text.encode("utf-8")
        varints.write(position - at, out)
        varints.write(replaced, out)
        varints.write(len(data), out)
        out += data
        at = position + replaced
    return SkeletonPatch(out)

