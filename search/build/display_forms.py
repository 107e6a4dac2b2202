"""How the archive writes each completion most often: ``台湾`` as ``臺灣`` in Taiwan's press releases,
``apec`` as ``APEC`` — counted over the archive, not guessed.

A build stores each paragraph's text as its skeleton, each character put back as the archive
writes it most often (the stored texts' table, :class:`~search.segment.text_patch.Patcher`), plus a
patch of the few characters that differ from that (:mod:`search.segment.text_patch`). So an
occurrence of a completion reads as its skeleton with the table applied (its *base*) unless a
patch changes one of its characters: only those occurrences need reading. :class:`Originals` marks
the characters the patches change; :func:`written_forms` counts the forms of the occurrences that
cover one (in numpy: Taiwan's press releases have some 700,000), paragraph by paragraph, and
:func:`most_written` picks the form most paragraphs write, the base included.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..segment.text_patch import edits
from .substring_counts import Counted, Touching

_MIX = np.uint64(0x100000001B3)  # FNV's 64-bit prime: a form's units mixed into one number


class Originals:
    """Where the archive writes the skeletons' code units otherwise than their base: the units a
    patch replaces one for one (``marked``, sorted) and what it puts there (``written``); the base
    of every unit (``lookup``: the table as an array). Other edits — white space put back, a text
    whose length changed — are left out: such an occurrence counts as its base."""

    def __init__(self, lookup: np.ndarray, marked: np.ndarray, written: np.ndarray):
        self.lookup, self.marked, self.written = lookup, marked, written

    @classmethod
    def of(cls, units: np.ndarray, bounds: np.ndarray, table: dict[int, str] | None,
           patches: Iterable[tuple[int, bytes]]) -> "Originals":
        """From the skeletons (``units``, ``bounds``), the table and each patched paragraph's patch."""
        lookup = np.arange(1 << 16, dtype=np.uint16)
        for key, value in (table or {}).items():
            if key < 0x10000 and ord(value) < 0x10000:
                lookup[key] = ord(value)
        # paragraphs with a character beyond the BMP count it as two units, their patches as one
        # character: left to their base
        surrogates = np.flatnonzero((units >= 0xD800) & (units < 0xE000))
        astral = set((np.searchsorted(bounds, surrogates, "right") - 1).tolist())
        starts, texts = [], []
        for gid, patch in patches:
            if gid not in astral:
                first = int(bounds[gid])
                for at, replaced, text in edits(patch):
                    if replaced and len(text) == replaced:
                        starts.append(first + at)
                        texts.append(text)
        changed = np.frombuffer("".join(texts).encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
        sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        if len(changed) != int(sizes.sum()):  # a text beyond the BMP: leave those edits out
            keep = [len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text) for text in texts]
            texts = [text for text, kept in zip(texts, keep) if kept]
            starts = [start for start, kept in zip(starts, keep) if kept]
            changed = np.frombuffer("".join(texts).encode("utf-16-le"), dtype=np.uint16)
            sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        where = np.repeat(np.array(starts, dtype=np.int64) - np.cumsum(sizes) + sizes, sizes) + np.arange(len(changed))
        differ = changed != lookup[units[where]]
        order = np.argsort(where[differ], kind="stable")
        return cls(lookup, where[differ][order], changed[differ][order])

    def at(self, units: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The units the archive writes at ``positions``."""
        found = self.lookup[units[positions]]
        if len(self.marked):
            i = np.minimum(np.searchsorted(self.marked, positions), len(self.marked) - 1)
            hit = self.marked[i] == positions
            found[hit] = self.written[i[hit]]
        return found


def most_written(votes: dict[str, int], key: str) -> str:
    """The form most paragraphs write; of forms as many write, ``key`` itself (the skeleton's), else
    the first in code point order — whatever table the stored texts use, so that a generation of
    several segments shows what a whole build of the same articles does."""
    return min(votes.items(), key=lambda item: (-item[1], item[0] != key, item[0]))[0]


def written_forms(keys: Sequence[str], counted: Counted, touching: Touching, originals: Originals,
                  units: np.ndarray, base) -> tuple[dict[int, dict[str, int]], np.ndarray]:
    """Per key written otherwise than ``base(key)`` somewhere, the paragraphs writing each such form;
    and per key, the paragraphs with any such occurrence (the others write it as its base). Both
    add up over disjoint sets of paragraphs."""
    votes = _votes(counted, touching, originals, units)
    if votes is None:
        return {}, np.zeros(len(counted.counts), dtype=np.int64)
    key, start, forms, counts, touched = votes
    found: dict[int, dict[str, int]] = {}
    form_keys = key[forms]
    widths = counted.widths[form_keys].astype(np.int64)
    ends = np.cumsum(widths)
    # every form's units as the archive writes them, read at once, then each form's stretch decoded
    total = int(ends[-1]) if len(ends) else 0
    spans = np.repeat(start[forms].astype(np.int64) - ends + widths, widths) + np.arange(total)
    written = originals.at(units, spans).tobytes()
    for k, end, width, count in zip(form_keys.tolist(), ends.tolist(), widths.tolist(), counts.tolist()):
        text = written[2 * (end - width) : 2 * end].decode("utf-16-le", "surrogatepass")
        if text != base(keys[k]):
            found.setdefault(k, {})
            found[k][text] = found[k].get(text, 0) + count
    return found, touched


def _votes(counted: Counted, touching: Touching, originals: Originals, units: np.ndarray):
    """The occurrences' forms, hashed: ``(key, start, forms, votes, touched)`` — per occurrence,
    sorted by key and form, its key and start; where each (key, form) begins and how many
    paragraphs write it so; per key, the paragraphs with any occurrence touching a mark."""
    key, start, paragraph = touching.keys, touching.starts, touching.paragraphs
    if not len(key):
        return None
    width = counted.widths[key]
    form = np.zeros(len(key), dtype=np.uint64)
    for size in np.unique(width).tolist():
        these = np.flatnonzero(width == size)
        for j in range(size):
            form[these] = form[these] * _MIX + originals.at(units, start[these] + j)
    # (key, form, paragraph) sorted: a form's votes are its distinct paragraphs
    order = np.lexsort((paragraph, form, key))
    key, form, paragraph, start = key[order], form[order], paragraph[order], start[order]
    new_form = np.concatenate(([True], (key[1:] != key[:-1]) | (form[1:] != form[:-1])))
    new_vote = new_form | np.concatenate(([True], paragraph[1:] != paragraph[:-1]))
    forms = np.flatnonzero(new_form)  # where each (key, form) begins
    votes = np.add.reduceat(new_vote.astype(np.int64), forms)
    # each key's paragraphs with any such occurrence: not votes for its base
    by_key = np.lexsort((paragraph, key))
    pairs = np.concatenate(([True], (key[by_key][1:] != key[by_key][:-1])
                            | (paragraph[by_key][1:] != paragraph[by_key][:-1])))
    touched = np.bincount(key[by_key][pairs], minlength=len(counted.counts))
    return key, start, forms, votes, touched
