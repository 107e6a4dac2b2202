"""Why a paragraph matched and ranked where it did (``explain=true``), from what the search used.

For each term or phrase of the query: whether it is one of jieba's words of the paragraph (a
whole-word match, which ranks first) or only a substring of its text; where it occurs (spans of
the original characters); jieba's words of the paragraph around the first occurrence, the
matched ones marked; and the parts of its score (BM25 over the characters, the whole-word bonus).
"""

from __future__ import annotations

from typing import Sequence

from ..text import analysis
from .highlight import match_spans
from .parser import TITLE, Unit

CONTEXT_WORDS = 3  # words shown on each side of the match


def explain_hit(text: str, title: str, units: Sequence[Unit], parts: Sequence[tuple[float, float, bool]],
                score: float) -> dict:
    """The explanation of one hit. ``parts[i]`` is unit i's (BM25, whole-word bonus, is a whole
    word here) as the ranking computed them; ``score`` the hit's total."""
    spans = None  # jieba's words of the paragraph, on the original characters, cut once
    terms = []
    for unit, (bm25, bonus, whole) in zip(units, parts):
        entry: dict = {"term": unit.normalized.strip() or unit.key, "phrase": unit.phrase}
        if unit.field == TITLE:
            entry.update(match="title", field="title", occurrences=[list(s) for s in match_spans(title, [unit.marker])],
                         score={"bm25": 0.0, "whole_word_bonus": 0.0})
            terms.append(entry)
            continue
        occurrences = match_spans(text, [unit.marker])
        entry.update(match="word" if whole else "substring", field="text",
                     occurrences=[list(s) for s in occurrences],
                     score={"bm25": round(bm25, 4), "whole_word_bonus": round(bonus, 4)})
        if occurrences:
            if spans is None:
                spans = analysis.original_word_spans(text, subwords=False)[1]
            entry["words"] = _context(text, spans, occurrences[0])
        terms.append(entry)
    return {"score": round(score, 4), "terms": terms}


def _context(text: str, spans: list[tuple[str, int, int, int]], match: tuple[int, int]) -> list[dict]:
    """The paragraph's words around ``match`` (original character span), each with its span and
    whether it lies within the match."""
    start, end = match
    inside = [i for i, (_, _, s, e) in enumerate(spans) if s < end and e > start]
    if not inside:  # the match sits in punctuation or spaces only
        return []
    lo, hi = max(0, inside[0] - CONTEXT_WORDS), min(len(spans), inside[-1] + 1 + CONTEXT_WORDS)
    return [{"word": word, "text": text[s:e], "start": s, "end": e, "in_match": s >= start and e <= end}
            for word, _, s, e in spans[lo:hi]]
