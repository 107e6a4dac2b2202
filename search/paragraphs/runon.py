"""Run-on reconstruction: the title, dateline lead, captions, headings (also those glued before a
sentence) and byline of text that lost its line breaks; body sentences go to :mod:`.decoder`."""

from __future__ import annotations

import re

from .cues import (
    _BYLINE,
    _CAPTION_END,
    _CAPTION_SOURCE,
    _CAPTION_START,
    _CLAUSE_END,
    _DATELINE,
    _DATELINE_AT_START,
    _ENDED_AT,
    _FRONTED_TIME,
    _HEADLINE_END,
    _LOCAL_TIME,
    _NOT_FIRST,
    _OPENER,
    _OPENER_AT,
    _PUNCT_START,
    _QUOTED_HEADING,
    _SENTENCE_PUNCT,
    _SOURCE_OPENER,
    _SPACE,
    _SPEECH,
    _TIME_WORD,
    _TITLE_PREFIX,
    _UNFINISHED,
    _UNIT_CHARS,
    _looks_like_title,
)
from .decoder import _group
from .model import MAX_CAPTION, MAX_GLUED, MAX_HEADING, MAX_TITLE, MIN_GLUED
from .sentences import _SENTENCE_END, _blocked, _sentences, _strip_span


def _runon_spans(
    text: str, lo: int, hi: int, *, find_title: bool, lead: bool = True
) -> list[tuple[int, int, str]]:
    """Classified spans covering text[lo:hi], which has no line breaks."""
    head, pieces, tail = _runon_pieces(text, lo, hi, find_title=find_title)
    return head + _group(text, pieces, lead=lead) + tail


def _runon_pieces(
    text: str, lo: int, hi: int, *, find_title: bool
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Title span(s), classified sentence pieces (not yet grouped) and byline span(s) of text[lo:hi]."""
    lo, hi = _strip_span(text, lo, hi)
    if lo == hi:
        return [], [], []
    head: list[tuple[int, int, str]] = []
    if find_title and hi - lo <= MAX_TITLE and _looks_like_title(text[lo:hi]):
        return [(lo, hi, "title")], [], []
    if find_title:
        title_end = _title_end(text, lo, hi)
        if title_end:
            head.append((lo, title_end, "title"))
            lo = title_end
    blocked = _blocked(text, lo, hi)
    byline_start = _byline_start(text, lo, hi, blocked)
    glued: list[int] = []
    pieces = _structure(text, lo, byline_start, blocked, glued=glued)
    if len(glued) >= ROUNDUP_HEADLINES:
        # A roundup: headlines found with confidence make the doubtful ones likelier.
        pieces = _structure(text, lo, byline_start, blocked, bar=-ROUNDUP_BONUS)
    tail = [(byline_start, hi, "byline")] if byline_start < hi else []
    return head, pieces, tail


def _title_end(text: str, lo: int, hi: int) -> int:
    """End of a title at the start of run-on text, or 0 when there is none.

    A ``原标题：`` prefix announces a title that runs to the dateline (or to the
    first whitespace, or the first sentence end). Without the prefix, a short
    phrase glued before a dateline is a title too.
    """
    prefix = _TITLE_PREFIX.match(text, lo, hi)
    start = prefix.end() if prefix else lo
    window = text[start: min(hi, start + 2 * MAX_TITLE)]
    # a dateline inside a quotation or brackets is quoted, not where the lead begins
    blocked = _blocked(window)
    dateline = next((m for m in _DATELINE.finditer(window) if not blocked[m.start()]), None)
    if dateline and dateline.start() > 0:
        head = window[: dateline.start()]
        if prefix or (len(head) <= MAX_TITLE and not _SENTENCE_PUNCT.search(head)):
            return start + dateline.start()
    if not prefix:
        return 0
    if (gap := re.search(r"\s", window)) and gap.start() > 0:
        return start + gap.start()
    if (end := _SENTENCE_END.search(text, start, hi)) and end.end() < hi:
        return end.end()
    return hi if len(text[start:hi]) <= MAX_TITLE else 0


def _byline_start(text: str, lo: int, hi: int, blocked: bytearray) -> int:
    """Start of the closing byline (责任编辑：…) after the last sentence, or hi when there is none."""
    tail_start = max(lo, hi - 80)
    last_end = lo
    for m in _SENTENCE_END.finditer(text, tail_start, hi):
        if not blocked[m.end()] and m.end() < hi:
            last_end = m.end()
    for m in _BYLINE.finditer(text, max(last_end, tail_start), hi):
        if m.start() > lo and hi - m.start() <= 60 and not blocked[m.start()]:
            return m.start()
    return hi


#: An article where at least this many headlines glued before a sentence score over 0 is a
#: roundup (news in brief, one headline per item): there the others need a score over
#: -ROUNDUP_BONUS only. Set by hand, like GLUED_PRIOR.
ROUNDUP_HEADLINES = 2
ROUNDUP_BONUS = 1.0


def _structure(
    text: str, lo: int, hi: int, blocked: bytearray, bar: float = 0.0, glued: list[int] | None = None
) -> list[tuple[int, int, str]]:
    """Sentences of [lo, hi) with captions and headings split off and labelled; the rest is body.

    A glued headline needs a score over ``bar``; the ends of those found are appended to ``glued``.
    """
    pieces: list[tuple[int, int, str]] = []
    for s, e in _sentences(text, lo, hi, blocked):
        if s == lo and (dateline := _DATELINE_AT_START.match(text, s, e)) and text[dateline.end() - 1] in "：:":
            head = _glued_heading_end(text, dateline.end(), e, blocked, after_dateline=True, bar=bar)
            if head and glued is not None:
                glued.append(head)
            if head:  # a roundup: the dateline stands alone before the first headline
                pieces += [(s, dateline.end(), "lead"), (dateline.end(), head, "heading")]
                s = head
        if _CAPTION_START.match(text, s) and e - s <= MAX_CAPTION:
            pieces.append((s, e, "caption"))
            continue
        while True:
            cap = _caption_end(text, s, e, blocked)
            if cap is None:
                break
            pieces.append((s, cap, "caption"))
            s = cap
            head = _heading_end(text, s, e, blocked)
            if head:
                pieces.append((s, head, "heading"))
                s = head
        head = _glued_heading_end(text, s, e, blocked, bar=bar)
        if head and glued is not None:
            glued.append(head)
        if head:
            pieces.append((s, head, "heading"))
            s = head
        if text[s:e].strip():
            pieces.append((s, e, "body"))
    return pieces


def _clause_stop(text: str, lo: int, hi: int, blocked: bytearray) -> int:
    """End of the first clause of the sentence at lo: the first clause punctuation outside quotations, or hi."""
    for m in _CLAUSE_END.finditer(text, lo, hi):
        if not blocked[m.start()]:
            return m.start()
    return hi


def _glued_candidates(text: str, lo: int, hi: int, blocked: bytearray, after_dateline: bool = False) -> list[tuple[int, dict[str, float]]]:
    """Positions where a headline glued before the sentence at lo could end, each with its features.

    The sentence's first clause must be long (a headline and the real first
    clause run together); a candidate p leaves a phrase of MIN_GLUED ..
    MAX_GLUED characters before it, and the first clause may carry a short
    ``X人士：`` prefix. Only positions where some cue fires are returned.
    """
    lo, _ = _strip_span(text, lo, hi)
    if hi - lo < 2 * MIN_GLUED:
        return []
    stop = _clause_stop(text, lo, hi, blocked)
    colon = 0
    if stop < hi and text[stop] in "：:" and stop - lo <= 8:  # 美国人士：headline
        colon = stop + 1
        stop = _clause_stop(text, colon, hi, blocked)
    if stop - lo < 16 or _DATELINE_AT_START.match(text, lo, hi):
        return []  # a short first clause; or a dateline opening the lead: 新华社北京3月6日电（记者…）记者6日从…
    first, last = max(lo + MIN_GLUED, colon + 2), min(stop - 2, lo + MAX_GLUED)
    if first > last:
        return []
    # Cheap cues first: only positions where one fires are looked at.
    cued = {m.start() for m in _OPENER_AT.finditer(text, first, min(hi, last + 42)) if m.start() <= last}
    for m in _LOCAL_TIME.finditer(text, first, last + 1):  # 美国当地时间…，: the place opens the sentence too
        cued.update(range(max(first, m.start() - 6), m.start()))
    cued.update(m.end(1) for m in _ENDED_AT.finditer(text, max(lo, first - 8), last))
    for k in range(lo, lo + 4):  # the headline's opening words said again: 德国将…下调至0.2%德国经济部…
        p = text.find(text[k:k + 2], first, last + 2)
        if p >= 0:
            cued.add(p)
    if colon and (p := text.find(text[lo:lo + 2], colon, last + 2)) >= 0:
        cued.add(p)
    if not cued:
        return []
    spaced = _SPACE.search(text, lo, min(stop, lo + MAX_GLUED)) is not None
    out = []
    for p in sorted(cued):
        if not first <= p <= last:
            continue
        prev, ch = text[p - 1], text[p]
        if blocked[p] or prev in _UNFINISHED or ch in _NOT_FIRST or prev in "“「《（(—-·" or ch.isspace():
            continue
        if (prev.isdigit() or prev in "亿万千百十") and (ch.isdigit() or ch in _UNIT_CHARS):
            continue
        if ch.isdigit() and prev in "年月日时点" and text[p - 2].isdigit():  # 3月|5日: one date
            continue
        f: dict[str, float] = {}
        if _FRONTED_TIME.match(text, p):
            f["g_fronted"] = 1.0
        elif m := _SOURCE_OPENER.match(text, p):
            opener = m.group()
            f["g_reporter" if opener.startswith(("记", "記")) else "g_source" if "据" in opener[:2] else "g_opener"] = 1.0
        if _HEADLINE_END.search(text, max(lo, p - 8), p):
            f["g_ended"] = 1.0
        if text[p:p + 4] in text[lo:p]:
            f["g_repeat4"] = 1.0
        elif text[p:p + 2] in text[lo:p]:
            f["g_repeat2"] = 1.0
        if not f:  # nothing but a subject before a time word: 国家统计局今天（…）发布
            continue
        # A time word in the sentence's first clause, however far from p: the candidates of one
        # sentence share it, so that it does not favour the cut closest to it.
        q = _TIME_WORD.search(text, p, stop)
        if q:
            f["g_time_at" if q.start() == p else "g_time_near"] = 1.0
            if text.startswith("（", q.end()) or text.startswith("(", q.end()):
                f["g_time_date"] = 1.0
        if _SPEECH.search(text, p + 2, min(stop, p + 16)):
            f["g_speech"] = 1.0
        if _TIME_WORD.search(text, lo + 2, p):
            f["g_head_time"] = 1.0
        if spaced:
            f["g_spaced"] = 1.0
        if colon:
            f["g_colon"] = 1.0
            if colon - lo >= 3 and text.startswith(text[lo:colon - 1], p):  # 美国人士：…美国人士指出
                f["g_colon_repeat"] = 1.0
        if after_dateline:
            f["g_dateline"] = 1.0
        f["g_len"] = min(p - lo, MAX_GLUED) / 10
        if p - lo <= 8:
            f["g_short"] = 1.0
        f["g_rest"] = min(stop - p, 60) / 20
        out.append((p, f))
    return out


#: The glued-headline scorer's weights: a prior set by hand, not fitted to any corpus (a source
#: with few glued headlines, fitted alone, learns that they do not exist; one with many learns its
#: own roundup layout). A cut needs a sentence that opens like a story's lead (a reporter, a
#: source, a fronted date or time) after a stretch that reads as a headline (it ends on an event
#: or an outcome, or the sentence names its words again); one kind of evidence alone is not enough
#: unless it is a reporter or a source. Checked on the hand-written examples of
#: tests/fixtures/runon/glued_headlines.lines only.
GLUED_PRIOR: dict[str, float] = {
    "g_bias": -4.0,
    # What follows opens a story.
    "g_reporter": 3.5,  # 记者今天从…获悉
    "g_source": 4.0,  # 据…报道: a sentence opener that is seldom anything else
    "g_opener": 1.0,  # 截至 / 根据 / 由…主办: they open a sentence, but also run inside one
    "g_fronted": 2.5,  # 3月5日，/ 当地时间5日，
    "g_time_at": 2.0,  # 今天…
    "g_time_near": 1.0,  # 海关总署今天…: a subject and its time (anywhere in the first clause)
    "g_time_date": 0.5,  # 今天（10月14日）: a lead's date
    "g_speech": 1.0,  # …发布数据 / 表示
    "g_rest": 0.5,  # per 20 characters of the first clause after the cut (at most 60)
    # What precedes reads as a headline.
    "g_ended": 2.0,  # …开幕 / …增长5%
    "g_repeat4": 2.0,  # the sentence names the headline's words again
    "g_repeat2": 1.0,
    "g_colon_repeat": 3.0,  # 国际人士：……国际人士指出
    "g_colon": -0.5,  # a speaker's label (总统：…) rather than a headline's
    "g_spaced": 0.5,
    "g_dateline": 0.5,  # right after a roundup's dateline
    # Against: a very short "headline" is a sentence's subject; a time word in it, a sentence's own.
    "g_short": -3.0,
    "g_head_time": -1.0,
    "g_len": 0.0,
}


def glued_score(features: dict[str, float]) -> float:
    """Score of a glued-headline candidate under GLUED_PRIOR (a cut when above 0)."""
    return GLUED_PRIOR["g_bias"] + sum(GLUED_PRIOR.get(k, 0.0) * v for k, v in features.items())


def _glued_heading_end(
    text: str, lo: int, hi: int, blocked: bytearray, after_dateline: bool = False, bar: float = 0.0
) -> int | None:
    """End of a headline glued, without punctuation, before the sentence at lo, or None.

    Roundups and sub-headlines lose the break between a headline and the
    sentence after it: ``美国纽约发生列车脱轨事故一列载有…列车3日在…``. The
    first clause is then a short unpunctuated phrase (the headline, possibly
    with a ``X人士：`` prefix) followed by what only opens a sentence: a
    fronted time with its comma, a source or reporter, or a subject and a time
    or speech verb right after a headline-like ending or a repetition of the
    headline's words. A sentence's own subject (``联合国秘书长今天表示，``) is
    not a headline: it has no headline ending and repeats nothing. Candidates
    are scored with the hand-set GLUED_PRIOR; the best one above zero is the cut.
    """
    best, best_p = bar, None
    for p, f in _glued_candidates(text, lo, hi, blocked, after_dateline):
        score = glued_score(f)
        if score > best:
            best, best_p = score, p
    return best_p


def _caption_end(text: str, lo: int, hi: int, blocked: bytearray) -> int | None:
    """End of a caption that opens the sentence [lo, hi), or None."""
    ends = sorted(m.end() for r in (_CAPTION_END, _CAPTION_SOURCE) for m in r.finditer(text, lo, hi))
    for end in ends:
        rest = text[end:hi].strip()
        if end - lo > MAX_CAPTION or blocked[end] or not text[lo:end].strip():
            continue
        if not rest or not _PUNCT_START.match(rest):
            return end
    return None


def _heading_end(text: str, lo: int, hi: int, blocked: bytearray) -> int | None:
    """End of a short unpunctuated heading glued before the next sentence at lo, or None."""
    lo, _ = _strip_span(text, lo, hi)
    if lo >= hi:  # only whitespace after a caption: 新华社记者 张三 摄 at the very end
        return None
    limit = min(hi, lo + MAX_HEADING + 1)
    quoted = _QUOTED_HEADING.match(text, lo, limit)
    if quoted and quoted.end() < hi and _OPENER.match(text, quoted.end()) and not blocked[quoted.end()]:
        return quoted.end()
    stop = _SENTENCE_PUNCT.search(text, lo, limit)
    limit = stop.start() if stop else limit
    if text[lo] in "“「":  # a quotation as the heading: “……”
        close = text.find({"“": "”", "「": "」"}[text[lo]], lo + 1, limit + 1)
        if close > lo and close + 1 < hi:
            return close + 1
    gap = re.compile(r"\s").search(text, lo, limit)
    if gap and gap.start() - lo >= 2 and not blocked[gap.start()]:
        return gap.start()
    for m in _OPENER.finditer(text, lo + 2, limit):
        if m.start() - lo >= 4 and not blocked[m.start()]:
            return m.start()
    return None
