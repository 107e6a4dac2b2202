"""Marking matches on the original characters of a paragraph.

The contract: the result is the whole paragraph, HTML-escaped, with every occurrence of every
key (a skeleton; or a pattern or a NEAR, which find their own occurrences) wrapped in
``<mark>…</mark>`` and nothing else marked; removing the tags and unescaping gives back the
paragraph exactly. Occurrences are found in the normalised skeleton (so a
Simplified key marks Traditional text and ``联合 国`` is one match) and mapped back.
"""

from __future__ import annotations

from html import escape
from typing import Iterable

from ..text.normalize import Folded, fold


def match_spans(text: str, keys: Iterable[str], folded: Folded | None = None) -> list[tuple[int, int]]:
    """Sorted, non-overlapping original-character spans covering every occurrence of every key.
    ``folded`` is ``fold(text)`` when the caller has it."""
    folded = folded or fold(text)
    return _merge([folded.original_span(start, end) for start, end in _occurrences(folded.skeleton, keys)])


def skeleton_spans(skeleton: str, keys: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans of ``skeleton`` covering every occurrence of every key: the
    text's own spans when it folds in place (:func:`search.text.normalize.folds_in_place`)."""
    return _merge(_occurrences(skeleton, keys))


def _occurrences(skeleton: str, keys: Iterable[str]) -> list[tuple[int, int]]:
    return [span for key in keys for span in occurrences_of(skeleton, key)]


def occurrences_of(skeleton: str, key) -> list[tuple[int, int]]:
    """Every occurrence of ``key`` in ``skeleton``, at every start (哈哈 twice in 哈哈哈), sorted; a
    key that is no string (a pattern, a NEAR) finds its own (its ``occurrences``)."""
    if not isinstance(key, str):
        return key.occurrences(skeleton)
    spans = []
    if not key:
        return spans
    size = len(key)
    at = skeleton.find(key)
    while at != -1:
        spans.append((at, at + size))
        at = skeleton.find(key, at + 1)
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, keys: Iterable[str], folded: Folded | None = None) -> str:
    """``text`` HTML-escaped with every occurrence of ``keys`` in ``<mark>`` (``folded``: as in
    :func:`match_spans`)."""
    return mark(text, match_spans(text, keys, folded))


def mark(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` HTML-escaped with each of ``spans`` (sorted, non-overlapping) in ``<mark>``."""
    out = []
    done = 0
    for start, end in spans:
        out += (escape(text[done:start]), "<mark>", escape(text[start:end]), "</mark>")
        done = end
    out.append(escape(text[done:]))
    return "".join(out)
