"""Sentences of run-on text, cut only at sentence ends outside quotations and brackets."""

from __future__ import annotations

import re

from .cues import _cue
from .model import MAX_QUOTE

_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")", "《": "》", "【": "】"}
_CLOSE_TO_OPEN = {v: k for k, v in _PAIRS.items()}


# Any quotation or bracket mark.
_MARKS = re.compile("[" + re.escape("".join(_PAIRS) + "".join(_CLOSE_TO_OPEN)) + '"]')


def _blocked(text: str, lo: int = 0, hi: int | None = None) -> bytearray:
    """blocked[p] is true when a cut before position p would fall inside a quotation or bracket.

    Indexed by positions of text (0 .. len(text)); only marks in [lo, hi) are
    considered. Marks are paired with a stack that discards mismatched marks,
    and a pair longer than MAX_QUOTE is not trusted, so one unbalanced mark
    cannot protect (swallow) the rest of the article.
    """
    hi = len(text) if hi is None else hi
    blocked = bytearray(len(text) + 1)
    stack: list[tuple[str, int]] = []
    straight: int | None = None  # position of an open ASCII double quote
    for m in _MARKS.finditer(text, lo, hi):
        ch, i = m.group(), m.start()
        if ch in _PAIRS:
            stack.append((ch, i))
        elif ch in _CLOSE_TO_OPEN:
            opener = _CLOSE_TO_OPEN[ch]
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == opener:
                    _protect(blocked, stack[k][1], i)
                    del stack[k:]
                    break
        elif straight is not None and i - straight <= MAX_QUOTE:
            _protect(blocked, straight, i)
            straight = None
        else:
            straight = i
    return blocked


def _protect(blocked: bytearray, opened: int, closed: int) -> None:
    """Block cuts at positions opened+1 .. closed (inside the pair) if the pair is short enough."""
    if closed - opened <= MAX_QUOTE:
        blocked[opened + 1: closed + 1] = b"\x01" * (closed - opened)


# A sentence end: CJK terminal punctuation, an ellipsis, or Latin !?. that is
# followed by space, CJK text or the end, then any closing quotes/brackets.
_SENTENCE_END = re.compile(
    r"""
    (?: [。！？]+ | …+ | \.{3,}
      | [!?]+(?=[\s\u3000-\u9fff“"]|$)
      | (?<![A-Z])\.(?=\s+[A-Z“"(（\u4e00-\u9fff]|[\u4e00-\u9fff“（]|$)   # not after an initial
    )
    [”’」』）)》】"']*
    """,
    re.VERBOSE,
)
# Latin abbreviations whose full stop does not end a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|No|vs|Jr|Sr|Mt|Inc|Co|Ltd|Corp|etc|Prof|Gen|Sen|Rep|Gov)|[a-zA-Z]\.[a-zA-Z])$")
# After a closing quotation, a short attribution (“……。”他说。) continues the sentence.
_ATTRIBUTION = _cue(r"[^，。！？“”]{0,10}(?:说|表示|称|指出|强调|介绍|写道|问道|补充道)[。！]")


def _sentences(text: str, lo: int, hi: int, blocked: bytearray) -> list[tuple[int, int]]:
    """Sentence spans covering [lo, hi), cut only at sentence ends outside quotations and brackets."""
    spans = []
    start = lo
    for m in _SENTENCE_END.finditer(text, lo, hi):
        cut = m.end()
        if blocked[cut] or cut >= hi or not text[start:cut].strip():
            continue
        if text[cut - 1] in "”」』" and _ATTRIBUTION.match(text, cut):
            continue
        if text[m.start()] == "." and _ABBREVIATION.search(text, max(lo, m.start() - 6), m.start()):
            continue
        spans.append((start, cut))
        start = cut
    if text[start:hi].strip() or not spans:
        spans.append((start, hi))
    else:
        spans[-1] = (spans[-1][0], hi)
    return spans


def _strip_span(text: str, lo: int, hi: int) -> tuple[int, int]:
    """The span [lo, hi) narrowed to exclude surrounding whitespace."""
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi
