"""Wildcards inside a quoted phrase: ``?`` is any one character but a sentence end, ``*`` any run
of 0–10 characters that crosses no sentence end; ``\\?`` and ``\\*`` are the literal characters.

A pattern is read from the phrase's *normalised* text, so the full-width ``？`` and ``＊`` are the
same operators, and lengths count the characters of the skeleton (no spaces). Its matches in a
skeleton are found by a scan: the leftmost start where the pattern matches, the shortest match
from there, then on from its end (matches do not overlap) — what ``re.finditer`` finds with every
``*`` lazy. Lazy is shortest here: every wildcard is a bounded run of one character class between
fixed-length literals, so the earliest place each literal can follow also ends the match earliest
(``tests/test_operators.py`` holds it to trying every end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from ..text.normalize import skeleton

SENTENCE_ENDS = "。！？；!?;"  # after normalisation only 。!?; remain; the full-width forms for clarity
STAR_MAX = 10
ONE, GAP = "?", "*"  # the two wildcard elements; a literal is ("", text)
# a wildcard character: no sentence end, and never the separator between paragraphs (NUL) or lines
_WILD = "[^" + re.escape(SENTENCE_ENDS) + "\\x00\\n]"


class NoLiteral(ValueError):
    """A pattern made of wildcards only (it would match almost anything)."""


@dataclass(frozen=True)
class Pattern:
    """A phrase with wildcards: ``elements`` are ``("", literal)``, ``(ONE, "")`` or ``(GAP, "")``."""

    elements: tuple[tuple[str, str], ...]

    @cached_property
    def display(self) -> str:
        """The pattern as it is written: wildcards bare, literal ``?`` and ``*`` escaped."""
        out = []
        for kind, text in self.elements:
            out.append(kind or re.sub(r"([?*])", r"\\\1", text))
        return "".join(out)

    @cached_property
    def pieces(self) -> tuple[str, ...]:
        """The literal runs, longest first: every match contains each of them."""
        return tuple(sorted((text for kind, text in self.elements if not kind), key=len, reverse=True))

    @cached_property
    def regex(self) -> re.Pattern:
        """The pattern as a regular expression, each ``*`` lazy."""
        gap = f"{_WILD}{{0,{STAR_MAX}}}?"
        return re.compile("".join(re.escape(text) if not kind else _WILD if kind == ONE else gap
                                  for kind, text in self.elements))

    def occurrences(self, text: str) -> list[tuple[int, int]]:
        """``[start, end)`` of each match in ``text`` (a skeleton, or skeletons joined by NUL):
        leftmost, shortest, not overlapping."""
        return [m.span() for m in self.regex.finditer(text)]

    def counts(self, texts: list[str]) -> list[int]:
        """The number of matches in each of ``texts`` (one scan over them joined)."""
        if not texts:
            return []
        bounds, total = [], 0
        for text in texts:
            total += len(text) + 1
            bounds.append(total)
        counts = [0] * len(texts)
        paragraph = 0
        for start, _ in self.occurrences("\x00".join(texts)):
            while start >= bounds[paragraph]:
                paragraph += 1
            counts[paragraph] += 1
        return counts


_TOKEN = re.compile(r"\\[?*]|[?*]|[^?*\\]+|\\")


def read_pattern(normalized: str) -> tuple[Pattern | None, str]:
    """The pattern of a phrase's normalised text, or None when it has no wildcard; and the text
    (with its escapes resolved when there is no pattern: what the phrase then searches for). Raises
    :class:`NoLiteral` for wildcards with no literal character."""
    if "?" not in normalized and "*" not in normalized:
        return None, normalized
    elements: list[tuple[str, str]] = []
    plain: list[str] = []
    for token in _TOKEN.findall(normalized):
        if token in (ONE, GAP):
            elements.append((token, ""))
            continue
        literal = token[1:] if len(token) == 2 and token[0] == "\\" else token
        plain.append(literal)
        literal = skeleton(literal)
        if not literal:
            continue
        if elements and not elements[-1][0]:
            elements[-1] = ("", elements[-1][1] + literal)
        else:
            elements.append(("", literal))
    if not any(kind for kind, _ in elements):
        return None, "".join(plain)
    if all(kind for kind, _ in elements):
        raise NoLiteral(f"the pattern {normalized.strip()!r} has no character of its own to look for")
    return Pattern(tuple(elements)), normalized
