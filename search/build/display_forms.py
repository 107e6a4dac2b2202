"""How the archive writes each completion most often: ``台湾`` as ``臺灣`` in Taiwan's press releases,
``apec`` as ``APEC`` — counted over the archive, not guessed.

A build stores each paragraph's text as its skeleton, each character put back as the archive
writes it most often (the stored texts' table, :class:`~search.segment.text_patch.Patcher`), plus a
patch of the few characters that differ from that (:mod:`search.segment.text_patch`). So an
occurrence of a completion reads as its skeleton with the table applied (its *base*) unless a
patch changes one of its characters: only those occurrences need reading. :class:`Originals` marks
the characters the patches change; :func:`exceptions` counts the forms of the occurrences that
cover one, and keeps a form where more paragraphs write it than write the base.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from ..segment.text_patch import edits
from .substring_counts import Counted


class Originals:
    """The skeletons' code units as the archive writes them where a patch replaces characters one
    for one (``units``), and which units those are (``marked``). Other edits — white space put back,
    a text whose length changed — are left out: such an occurrence counts as its base."""

    def __init__(self, units: np.ndarray, marked: np.ndarray):
        self.units, self.marked = units, marked

    @classmethod
    def of(cls, units: np.ndarray, bounds: np.ndarray, table: dict[int, str] | None,
           patches: Iterable[tuple[int, bytes]]) -> "Originals":
        """From the skeletons (``units``, ``bounds``), the table and each patched paragraph's patch."""
        lookup = np.arange(1 << 16, dtype=np.uint16)
        for key, value in (table or {}).items():
            if key < 0x10000 and ord(value) < 0x10000:
                lookup[key] = ord(value)
        written = lookup[units]
        marked = np.zeros(len(units), dtype=bool)
        for gid, patch in patches:
            start, end = int(bounds[gid]), int(bounds[gid + 1]) - 1
            if ((units[start:end] >= 0xD800) & (units[start:end] < 0xE000)).any():
                continue  # positions count characters there, not code units: left to its base
            for at, replaced, text in edits(patch):
                if replaced and len(text) == replaced:
                    changed = np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)
                    if len(changed) == replaced:
                        written[start + at : start + at + replaced] = changed
                        marked[start + at : start + at + replaced] = True
        marked &= written != lookup[units]
        return cls(written, marked)


def exceptions(keys: Sequence[str], counts: np.ndarray, counted: Counted, originals: Originals,
               base) -> dict[int, str]:
    """``{key's index: how the archive writes it most}`` for the keys written otherwise than
    ``base(key)`` in more paragraphs than as ``base(key)``; ``counted``: the keys' occurrences that
    cover a marked unit (:func:`~search.build.substring_counts.paragraph_counts`)."""
    paragraphs_of: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    units = originals.units
    for key, start, paragraph in zip(counted.touching_keys.tolist(), counted.touching_starts.tolist(),
                                     counted.touching_paragraphs.tolist()):
        width = len(keys[key].encode("utf-16-le")) // 2
        form = units[start : start + width].tobytes().decode("utf-16-le", "surrogatepass")
        paragraphs_of[key][form].add(paragraph)
    found = {}
    for key, forms in paragraphs_of.items():
        usual = base(keys[key])
        touched = set().union(*forms.values())
        votes = {form: len(where) for form, where in forms.items()}
        votes[usual] = votes.get(usual, 0) + int(counts[key]) - len(touched)
        best = max(votes.items(), key=lambda item: (item[1], item[0] == usual))[0]
        if best != usual:
            found[key] = best
    return found
