"""Text normalisation shared by the index and the query, with a map back to the original.

``normalize(text)`` composes (NFC), folds each character's width and compatibility forms (NFKC)
and case (``str.casefold``), and converts Traditional to Simplified Chinese (OpenCC ``t2s``,
phrase-aware). ``fold(text)`` gives the same
normalised text *and*, for every normalised character, the span of original characters it came
from, so that a match found in normalised text can be highlighted on the original characters.

The *skeleton* of a text is its normalised form without white space, format and control
characters: matching is done on skeletons, so ``联合 国`` finds ``联合国`` and a zero-width
space in crawled text does not hide a word.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

_CHUNK = re.compile(r"\s+|[^\s]+")
_RANGES = re.compile(r"(?:\\U[0-9a-f]{8}-\\U[0-9a-f]{8})+")  # a character class of code point ranges


@functools.lru_cache(maxsize=1)
def _opencc():
    import opencc  # imported lazily: no work at import time

    return opencc.OpenCC("t2s")


class _FoldTable(dict):
    """code point → its NFKC form, case-folded; filled on first sight (for ``str.translate``)."""

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKC", chr(code)).casefold()
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def _composed_pieces(text: str):
    """(piece, start, end): each character, or each NFC-composed cluster where the text is not NFC."""
    if unicodedata.is_normalized("NFC", text):
        return None
    return [(unicodedata.normalize("NFC", c), start, end) for c, start, end in _clusters(text)]


def _width_and_case(text: str) -> str:
    """NFC per cluster, then each character's NFKC form, case-folded."""
    pieces = _composed_pieces(text)
    if pieces is not None:
        text = "".join(piece for piece, _, _ in pieces)
    return text.translate(_FOLD)


def _clusters(text: str):
    """(cluster, start, end) for each base character with its combining marks."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            yield text[start:i], start, i
            start = i


def _to_simplified(text: str) -> str:
    """OpenCC t2s; when a phrase changes length, convert chunk by chunk so lengths stay mappable."""
    converted = _opencc().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_same_length(chunk) for chunk in _CHUNK.findall(text))


def _same_length(chunk: str) -> str:
    converted = _opencc().convert(chunk)
    if len(converted) == len(chunk):
        return converted
    singles = (_opencc().convert(c) for c in chunk)
    return "".join(s if len(s) == 1 else c for s, c in zip(singles, chunk))


def normalize(text: str) -> str:
    """The normalised form of ``text``: NFKC, case-folded, Simplified Chinese."""
    return _to_simplified(_width_and_case(text))


def normalize_with_spans(text: str) -> tuple[str, Sequence[int], Sequence[int]]:
    """``normalize(text)`` and, per normalised character, the original span ``[start, end)`` it came from."""
    width_case, starts, ends = _fold_width_case_with_offsets(text)
    return _to_simplified(width_case), starts, ends


def is_ignorable(char: str) -> bool:
    """White space, format (zero-width) and control characters: not part of any match."""
    return char.isspace() or unicodedata.category(char) in ("Cf", "Cc")


@functools.lru_cache(maxsize=1)
def _ignorable_class() -> str:
    """A regex character class of every ignorable code point. Working it out looks at every code
    point (~0.3 s), so it is kept in a cache file per Unicode version once worked out."""
    cache = _cache_file(f"zhsearch-ignorable-{unicodedata.unidata_version}.txt")
    if cache is not None:
        try:
            found = cache.read_text(encoding="ascii")
            if _RANGES.fullmatch(found):
                return found
        except (OSError, UnicodeDecodeError):
            pass
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if is_ignorable(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    found = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    if cache is not None:
        try:
            partial = cache.with_name(f"{cache.name}.{os.getpid()}")
            partial.write_text(found, encoding="ascii")
            os.replace(partial, cache)  # whole or not at all, whoever else writes it
        except OSError:
            pass
    return found


def _cache_file(name: str) -> Path | None:
    """Where a table worked out once per machine may be kept (None: nowhere writable)."""
    for base in (Path.home() / ".cache", Path(tempfile.gettempdir())):
        if base.is_dir() and os.access(base, os.W_OK):
            return base / name
    return None


@functools.lru_cache(maxsize=1)
def _ignorable() -> re.Pattern:
    return re.compile(f"[{_ignorable_class()}]+")


@functools.lru_cache(maxsize=1)
def _kept_runs() -> re.Pattern:
    return re.compile(f"[^{_ignorable_class()}]+")


def warm_up() -> None:
    """Build the tables now rather than on the first query."""
    _ignorable()
    _kept_runs()
    _opencc()


def ignorable_runs(text: str):
    """Each run of ignorable characters in ``text`` (what :func:`skeleton` drops), as regex matches."""
    return _ignorable().finditer(text)


def skeleton(normalized: str) -> str:
    """``normalized`` without ignorable characters: the string that matching compares."""
    if normalized.isalnum():  # letters and digits only (most query words): nothing to drop
        return normalized
    return _ignorable().sub("", normalized)


@dataclass(frozen=True)
class Folded:
    """A text's skeleton and, for each skeleton character, its span in the original text."""

    original: str
    skeleton: str
    starts: Sequence[int]
    ends: Sequence[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind skeleton characters ``[start, end)``."""
        return self.starts[start], self.ends[end - 1]


class _KeptOffsets(Sequence):
    """Offsets in a text that folds one character for one (some of them dropped), per kept
    character: where it starts (``shift`` 0) or ends (1), from the runs of kept characters, not a
    list as long as the text."""

    def __init__(self, runs: list[tuple[int, int]], shift: int):
        self._run_starts, self._kept_before, kept = [], [], 0
        for start, end in runs:
            self._run_starts.append(start)
            self._kept_before.append(kept)
            kept += end - start
        self._length, self._shift = kept, shift

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: int) -> int:
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError(i)
        run = bisect_right(self._kept_before, i) - 1
        return self._run_starts[run] + i - self._kept_before[run] + self._shift


def folds_in_place(text: str, skeleton_text: str) -> bool:
    """Whether ``text`` folds character for character into ``skeleton_text`` (its
    ``skeleton(normalize(text))``): already NFC, no character widened into several, none dropped.
    Its skeleton's characters are then its own, at the same offsets: most paragraphs fold so, and
    their highlights need no :func:`fold`."""
    return (len(skeleton_text) == len(text) and unicodedata.is_normalized("NFC", text)
            and len(text.translate(_FOLD)) == len(text))


def fold(text: str) -> Folded:
    """Normalise ``text`` keeping offsets; ``fold(t).skeleton == skeleton(normalize(t))``."""
    width_case, starts, ends = _fold_width_case_with_offsets(text)
    simplified = _to_simplified(width_case)
    if not _ignorable().search(simplified):
        return Folded(text, simplified, starts, ends)
    if isinstance(starts, range):  # one character for one, some dropped: the kept runs map it
        runs = [run.span() for run in _kept_runs().finditer(simplified)]
        return Folded(text, "".join(simplified[a:b] for a, b in runs), _KeptOffsets(runs, 0), _KeptOffsets(runs, 1))
    keep = [i for run in _kept_runs().finditer(simplified) for i in range(run.start(), run.end())]
    return Folded(
        original=text,
        skeleton="".join(simplified[i] for i in keep),
        starts=[starts[i] for i in keep],
        ends=[ends[i] for i in keep],
    )


def _fold_width_case_with_offsets(text: str) -> tuple[str, Sequence[int], Sequence[int]]:
    """``_width_and_case(text)`` and, per output character, the original span it came from."""
    pieces = _composed_pieces(text)
    if pieces is None:
        folded = text.translate(_FOLD)
        if len(folded) == len(text):
            return folded, range(len(text)), range(1, len(text) + 1)
        pieces = [(c, i, i + 1) for i, c in enumerate(text)]
    else:
        folded = "".join(piece for piece, _, _ in pieces).translate(_FOLD)
    starts, ends = [], []
    for piece, start, end in pieces:
        size = len(piece.translate(_FOLD))
        starts.extend([start] * size)
        ends.extend([end] * size)
    return folded, starts, ends
