"""Proximity: ``A NEAR/N B`` keeps the paragraphs where an occurrence of A and one of B, in either
order, have at most N characters between the end of the one and the start of the other (in the
skeleton, the normalised text without spaces); occurrences that touch or share characters are 0
apart. ``A NEAR B`` is ``NEAR/10``. A and B are terms or quoted phrases (patterns too); a bare term
stands for its synonym group, as elsewhere.

The occurrences that take part in such a pair — and no other of A or B — are what a hit marks.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Callable, Sequence

DEFAULT_DISTANCE = 10
MAX_DISTANCE = 100
_OPERATOR = re.compile(r"NEAR(?:/(\d{1,9}))?")

Span = tuple[int, int]


def near_operator(word: str) -> int | None:
    """The distance of a ``NEAR`` or ``NEAR/N`` token (written in any width), or None when
    ``word`` is no such token. N may be out of range: :func:`check_distance` says so."""
    m = _OPERATOR.fullmatch(unicodedata.normalize("NFKC", word))
    if m is None:
        return None
    return DEFAULT_DISTANCE if m[1] is None else int(m[1])


def check_distance(distance: int) -> str | None:
    """Why ``distance`` cannot be a NEAR distance, or None when it can."""
    if 0 <= distance <= MAX_DISTANCE:
        return None
    return f"NEAR/{distance}: the distance must be from 0 to {MAX_DISTANCE} characters"


@dataclass(frozen=True)
class Near:
    """``left NEAR/distance right``; each side is one term or phrase, or the members of its
    synonym group (any of them will do)."""

    left: tuple  # of parser.Unit
    right: tuple
    distance: int
    field: str = "text"
    phrase: bool = False

    @property
    def key(self) -> str:
        """The operator as written (its sides' first members)."""
        return f"{_written(self.left[0])} NEAR/{self.distance} {_written(self.right[0])}"

    @property
    def normalized(self) -> str:
        return self.key

    @property
    def marker(self) -> "Near":
        """What a hit marks: the occurrences this operator finds (:meth:`occurrences`)."""
        return self

    def sides(self, widen: Callable) -> "Near":
        """The same operator with ``widen(unit)`` (a tuple of units) in place of each member."""
        return replace(self, left=_widened(self.left, widen), right=_widened(self.right, widen))

    def occurrences(self, text: str) -> list[Span]:
        """The spans of ``text`` (a skeleton) of every occurrence of either side that is within
        the distance of an occurrence of the other, sorted."""
        from .highlight import occurrences_of  # the sides' occurrences, as a hit marks them

        left = sorted({span for unit in self.left for span in occurrences_of(text, unit.marker)})
        if not left:
            return []
        right = sorted({span for unit in self.right for span in occurrences_of(text, unit.marker)})
        return sorted(set(paired(left, right, self.distance)) | set(paired(right, left, self.distance)))


def paired(these: Sequence[Span], others: Sequence[Span], distance: int) -> list[Span]:
    """The spans of ``these`` with a span of ``others`` (sorted by start) at most ``distance``
    apart, itself excepted: between the end of the one and the start of the other, 0 when they
    touch or overlap."""
    if not others:
        return []
    starts = [start for start, _ in others]
    longest = max(end - start for start, end in others)
    found = []
    for span in these:
        start, end = span
        # the others that may be near: starting no later than end + distance, and ending no
        # earlier than start - distance (so starting no earlier than that, less the longest)
        j = bisect_right(starts, end + distance) - 1
        while j >= 0 and starts[j] >= start - distance - longest:
            other = others[j]
            if other != span and max(0, other[0] - end, start - other[1]) <= distance:
                found.append(span)
                break
            j -= 1
    return found


def _widened(units: tuple, widen: Callable) -> tuple:
    return tuple(dict.fromkeys(member for unit in units for member in widen(unit)))


def _written(unit) -> str:
    return f'"{unit.key}"' if unit.phrase else unit.key
