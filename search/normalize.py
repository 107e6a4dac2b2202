"""Text normalisation shared by the index and the query, with a map back to the original.

``normalize(text)`` folds width and compatibility forms (NFKC), case (``str.casefold``) and
Traditional to Simplified Chinese (OpenCC ``t2s``, phrase-aware). ``fold(text)`` gives the same
normalised text *and*, for every normalised character, the span of original characters it came
from, so that a match found in normalised text can be highlighted on the original characters.

The *skeleton* of a text is its normalised form without white space, format and control
characters: matching is done on skeletons, so ``联合 国`` finds ``联合国`` and a zero-width
space in crawled text does not hide a word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

_CHUNK = re.compile(r"\s+|[^\s]+")


@functools.lru_cache(maxsize=1)
def _opencc():
    import opencc  # imported lazily: no work at import time

    return opencc.OpenCC("t2s")


def _width_and_case(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text.casefold()
    return "".join(unicodedata.normalize("NFKC", c).casefold() for c, _, _ in _clusters(text))


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


def is_ignorable(char: str) -> bool:
    """White space, format (zero-width) and control characters: not part of any match."""
    return char.isspace() or unicodedata.category(char) in ("Cf", "Cc")


def skeleton(normalized: str) -> str:
    """``normalized`` without ignorable characters: the string that matching compares."""
    if normalized.isprintable() and " " not in normalized:
        return normalized
    return "".join(c for c in normalized if not is_ignorable(c))


@dataclass(frozen=True)
class Folded:
    """A text's skeleton and, for each skeleton character, its span in the original text."""

    original: str
    skeleton: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind skeleton characters ``[start, end)``."""
        return self.starts[start], self.ends[end - 1]


def fold(text: str) -> Folded:
    """Normalise ``text`` keeping offsets; ``fold(t).skeleton == skeleton(normalize(t))``."""
    width_case, starts, ends = _fold_width_case_with_offsets(text)
    simplified = _to_simplified(width_case)
    keep = [i for i, c in enumerate(simplified) if not is_ignorable(c)]
    return Folded(
        original=text,
        skeleton="".join(simplified[i] for i in keep),
        starts=tuple(starts[i] for i in keep),
        ends=tuple(ends[i] for i in keep),
    )


def _fold_width_case_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    folded = _width_and_case(text)
    if len(folded) == len(text) and unicodedata.is_normalized("NFKC", text):
        return folded, list(range(len(text))), list(range(1, len(text) + 1))
    pieces, starts, ends = [], [], []
    for cluster, start, end in _clusters(text):
        out = unicodedata.normalize("NFKC", cluster).casefold()
        pieces.append(out)
        starts.extend([start] * len(out))
        ends.extend([end] * len(out))
    return "".join(pieces), starts, ends
