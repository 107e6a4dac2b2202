"""Splitting an article's text into paragraphs: line breaks are paragraph breaks, and run-on
text (no line breaks) is handed to :mod:`.runon` for reconstruction."""

from __future__ import annotations

import re

from .cues import _BYLINE, _DATELINE_AT_START, _SENTENCE_PUNCT, _is_caption, _looks_like_title
from .model import MAX_BODY, MAX_HEADING, Paragraph
from .runon import _runon_spans
from .script import simplified_view
from .sentences import _strip_span

# Any line break; \r\n counts once.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_MD_HEADING = re.compile(r"#{1,6}[ \t]+(?=\S)")


def split_text(text: str, title: str | None = None, *, markdown: bool = False) -> list[Paragraph]:
    """Paragraphs of one article's text: line breaks are paragraph breaks; run-on text (no line breaks) is reconstructed.

    With ``title`` given it becomes paragraph 1 (kind title) and no title is
    looked for in the text. ``markdown`` makes ``#`` lines headings.
    """
    spans: list[tuple[int, int, str]] = []
    if title is not None and title.strip():
        spans_title = [Paragraph(1, "title", title.strip())]
    else:
        spans_title = []
    find_title = title is None
    view = simplified_view(text)  # the cues read Traditional text as Simplified; positions are the same
    if _LINE_BREAK.search(view.strip()):
        spans = _line_spans(view, find_title, markdown)
    else:
        spans = _runon_spans(view, 0, len(view), find_title=find_title)
    return spans_title + _paragraphs(text, spans, start=len(spans_title) + 1)


# A plain sentence end, for the fallback split: terminal punctuation and any closing marks.
_PLAIN_END = re.compile(r"[。！？!?]+[”’」』）)》】\"']*")


def sentence_paragraphs(text: str, title: str | None = None) -> list[Paragraph]:
    """A plain, safe split used when reconstruction fails: every line break and sentence end
    starts a body paragraph (``title``, when given, is paragraph 1). Nothing but whitespace is lost."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for brk in [*_LINE_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        start = pos
        for m in _PLAIN_END.finditer(text, pos, end):
            spans.append((start, m.end(), "body"))
            start = m.end()
        spans.append((start, end, "body"))
        pos = brk.end() if brk else len(text)
    head = [Paragraph(1, "title", title.strip())] if title is not None and title.strip() else []
    return head + _paragraphs(text, spans, start=len(head) + 1)


def _paragraphs(text: str, spans: list[tuple[int, int, str]], start: int = 1) -> list[Paragraph]:
    """Paragraph objects from (start, end, kind) spans: whitespace stripped, empty spans dropped."""
    result = []
    for lo, hi, kind in spans:
        piece = text[lo:hi].strip()
        if piece:
            result.append(Paragraph(start + len(result), kind, piece))
    return result


def _line_spans(text: str, find_title: bool, markdown: bool) -> list[tuple[int, int, str]]:
    """Spans of line-broken text: one per non-blank line, long lines reconstructed further."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for brk in [*_LINE_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        lo, hi = _strip_span(text, pos, end)
        pos = brk.end() if brk else len(text)
        if lo == hi:
            continue
        first = not spans
        if markdown and (m := _MD_HEADING.match(text, lo)):
            spans.append((m.end(), hi, "title" if first and find_title else "heading"))
        elif first and find_title and _looks_like_title(text[lo:hi]):
            spans.append((lo, hi, "title"))
        elif hi - lo > MAX_BODY:
            spans.extend(_runon_spans(text, lo, hi, find_title=False, lead=first))
        else:
            spans.append((lo, hi, _line_kind(text[lo:hi], first=first)))
    return spans


def _line_kind(line: str, first: bool = False) -> str:
    """Kind of one line of line-broken text: caption, byline, lead, heading or body."""
    if _is_caption(line):
        return "caption"
    if len(line) <= 60 and _BYLINE.match(line):
        return "byline"
    if _DATELINE_AT_START.match(line):
        return "lead"
    if not first and len(line) <= MAX_HEADING and not _SENTENCE_PUNCT.search(line):
        return "heading"
    return "body"
