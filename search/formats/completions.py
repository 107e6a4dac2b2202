"""A build's completion index (``<build>/completions/``): what as-you-type completions are looked up
in (:mod:`search.query.completions`), written with the build (:mod:`search.build.completions`) and
mapped by every worker, so they share one copy.

Its *entries* are the match index's words, numbered as in ``grams/words.txt``, then the build's
frequent phrases (``phrases.txt``, sorted), numbered on after the words. Per entry:

* ``counts.npy`` — how many paragraphs contain it (``uint32``): what its quoted phrase's total is;
* ``spellings.txt`` / ``spelling_starts.npy`` / ``spelling_entries.npy`` — the toneless pinyin of
  every entry with a Chinese character, its syllables joined (``beijing``), sorted, each with its
  entry; an entry may have several (a lone character's every reading); the start of one line in
  :data:`SPELLINGS_EVERY` is kept (:class:`~.sorted_lines.SparseLines`);
* ``initials.txt`` / ``initial_starts.npy`` / ``initial_entries.npy`` — the same for the first
  letters of the syllables (``bj``);
* ``display_entries.npy`` (sorted) / ``display.txt`` / ``display_starts.npy`` — how the archive
  most often writes the entries it writes otherwise than their *base*: the entry's text with
  ``display_table.npy`` applied (pairs of code points: the stored texts' table, the character each
  skeleton character most often stands for — ``臺`` for ``台`` in a Traditional archive).
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Iterable

import numpy as np

from .arrays import mapped
from .sorted_lines import MappedLines, SparseLines, write_lines

FOLDER = "completions"
SPELLINGS_EVERY = 16  # lines of spellings and initials per recorded start (SparseLines)
_SORTED = {"phrases": ("phrases.txt", "phrase_starts.npy"), "spellings": ("spellings.txt", "spelling_starts.npy"),
           "initials": ("initials.txt", "initial_starts.npy"), "display": ("display.txt", "display_starts.npy")}


class CompletionIndex:
    """A build's completion index, mapped from ``folder``; ``words``: the match index's words."""

    def __init__(self, folder: Path, words: MappedLines):
        folder = Path(folder)
        self.words = words
        lines = {name: (SparseLines(folder / text, mapped(folder / starts), SPELLINGS_EVERY)
                        if name in ("spellings", "initials") else MappedLines(folder / text, mapped(folder / starts)))
                 for name, (text, starts) in _SORTED.items()}
        self.phrases, self.spellings, self.initials, self.display = (
            lines["phrases"], lines["spellings"], lines["initials"], lines["display"])
        self.counts = mapped(folder / "counts.npy")
        self.spelling_entries = mapped(folder / "spelling_entries.npy")
        self.initial_entries = mapped(folder / "initial_entries.npy")
        self.display_entries = mapped(folder / "display_entries.npy")
        pairs = mapped(folder / "display_table.npy").tolist()
        self.table = {pairs[i]: chr(pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)}
        self._display_entries = memoryview(self.display_entries) if len(self.display_entries) else ()
        self._counts = memoryview(self.counts)
        if (len(self.counts) != len(words) + len(self.phrases) or len(self.spellings) != len(self.spelling_entries)
                or len(self.initials) != len(self.initial_entries) or len(self.display) != len(self.display_entries)):
            raise ValueError(f"{folder}: the completion index files do not agree")

    def __len__(self) -> int:
        return len(self.counts)

    def key(self, entry: int) -> str:
        """An entry's text as search compares it (normalised, without spaces)."""
        words = len(self.words)
        return self.words[entry] if entry < words else self.phrases[entry - words]

    def count(self, entry: int) -> int:
        return self._counts[entry]

    def text(self, entry: int) -> str:
        """An entry as the archive most often writes it."""
        i = bisect.bisect_left(self._display_entries, entry)
        if i < len(self._display_entries) and self._display_entries[i] == entry:
            return self.display[i]
        key = self.key(entry)
        return key.translate(self.table) if self.table else key

    def starting_with(self, prefix: str) -> list[range]:
        """The entries whose text begins with ``prefix``: a range of words and one of phrases."""
        lo, hi = self.words.prefix_range(prefix)
        first, last = self.phrases.prefix_range(prefix)
        return [range(lo, hi), range(len(self.words) + first, len(self.words) + last)]


def write_entries(folder: Path, *, words: int, phrases: list[str], counts: np.ndarray,
                  spellings: Iterable[tuple[str, int]], initials: Iterable[tuple[str, int]]) -> None:
    """Write the entries of a completion index into ``folder`` (created): ``words`` words of the
    match index, then ``phrases`` (sorted); ``counts`` per entry; ``(spelling, entry)`` and
    ``(initials, entry)`` rows in any order. :func:`write_forms` completes it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if list(phrases) != sorted(phrases) or len(counts) != words + len(phrases):
        raise ValueError("the phrases must be sorted, and every entry counted")
    write_lines(folder / _SORTED["phrases"][0], folder / _SORTED["phrases"][1], phrases)
    np.save(folder / "counts.npy", np.asarray(counts, dtype=np.uint32))
    for name, rows in (("spelling", spellings), ("initial", initials)):
        rows = sorted(rows)  # str sorts by code point, as UTF-8 bytes do
        text, starts = _SORTED[name + "s"]
        write_lines(folder / text, folder / starts, [spelled for spelled, _ in rows], SPELLINGS_EVERY)
        np.save(folder / f"{name}_entries.npy", np.array([entry for _, entry in rows], dtype=np.uint32))


def write_forms(folder: Path, display: dict[int, str], table: dict[int, str] | None) -> None:
    """Write how the archive writes the entries into the completion index in ``folder``:
    ``display``, entry → its form where that is not its base under ``table``."""
    folder = Path(folder)
    ordered = sorted(display.items())
    write_lines(folder / _SORTED["display"][0], folder / _SORTED["display"][1], [text for _, text in ordered])
    np.save(folder / "display_entries.npy", np.array([entry for entry, _ in ordered], dtype=np.uint32))
    pairs = [code for key, value in sorted((table or {}).items()) for code in (key, ord(value))]
    np.save(folder / "display_table.npy", np.array(pairs, dtype=np.uint32))
