"""Decoding paragraphs from gap scores: forward-backward over the allowed segmentations of a run
of body sentences (length priors, the MAX_BODY rule), cuts where a gap's marginal break log-odds
beat a threshold for the run's length.

Each gap between two body sentences gets a score from :mod:`.gaps`; together with a prior on
each paragraph's length (news paragraphs are rarely one short sentence or very long) they define
a distribution over segmentations, subject to the hard MAX_BODY limit.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from .cues import _BULLETS, _DATELINE_AT_START
from .gaps import _gap_scores
from .model import MAX_BODY
from .sentences import _blocked
from .weights import fitted


def _length_prior(chars: int, sentences: int) -> float:
    """Prior score of one paragraph of this many characters and sentences."""
    weights = fitted()
    for limit, value in weights.chars_prior:
        if chars < limit:
            break
    return value + weights.sentences_prior[min(sentences, len(weights.sentences_prior)) - 1]


def _segment(text: str, run: list[tuple[int, int]], lead: bool, scores: list[float] | None = None) -> list[int]:
    """Indices of the sentences of run that open a paragraph (always 0).

    The gap scores and the length prior of every paragraph define a
    distribution over the run's segmentations (no paragraph of two or more
    sentences over MAX_BODY); each gap's marginal probability of a break is
    computed by forward-backward, and the cuts are the segmentation that
    maximises the summed marginal log-odds less a threshold that depends on
    the run's length (a short story has few paragraphs). Cutting on marginals
    rather than on the single best segmentation suits boundary F1 better.
    """
    n = len(run)
    if n == 1:
        return [0]
    if scores is None:
        scores = _gap_scores(text, run, lead)
    sizes = [hi - lo for lo, hi in run]
    weights = fitted()
    threshold = weights.cut_thresholds[bisect_right(weights.threshold_bins, run[-1][1] - run[0][0])]
    return _best_cuts(sizes, [x - threshold for x in _break_log_odds(sizes, scores)], prior=False)


def _segments(sizes: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, end, characters) of every allowed paragraph [start, end) of sentences, by end, then start descending."""
    for end in range(1, len(sizes) + 1):
        chars = 0
        for start in range(end - 1, -1, -1):
            chars += sizes[start]
            if chars > MAX_BODY and start < end - 1:
                break
            yield start, end, chars


def _logaddexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b == float("-inf") else a + math.log1p(math.exp(b - a))


def _break_log_odds(sizes: list[int], scores: list[float]) -> list[float]:
    """Log-odds (clamped to about ±20) that a paragraph opens at sentence 1, 2, …, by forward-backward
    over the segmentations scored by the gap scores and the length prior."""
    n = len(sizes)
    segments = [(s, e, _length_prior(c, e - s) + (scores[s - 1] if s else 0.0)) for s, e, c in _segments(sizes)]
    forward = [0.0] + [float("-inf")] * n
    for s, e, v in segments:
        forward[e] = _logaddexp(forward[e], forward[s] + v)
    backward = [float("-inf")] * n + [0.0]
    for s, e, v in reversed(segments):  # by end descending: backward[e] is complete when used
        backward[s] = _logaddexp(backward[s], v + backward[e])
    total = forward[n]
    out = []
    for j in range(1, n):
        p = math.exp(min(0.0, forward[j] + backward[j] - total))
        out.append(math.log(max(p, 1e-9) / max(1.0 - p, 1e-9)))
    return out


def _best_cuts(sizes: list[int], gains: list[float], prior: bool) -> list[int]:
    """Paragraph starts (0 first) maximising the gains of the cuts made (plus, with prior, the length
    prior of every paragraph), by dynamic programming; no paragraph of two or more sentences exceeds MAX_BODY."""
    return best_cuts_over(_segments(sizes), len(sizes), gains, prior)


def best_cuts_over(segments: Iterable[tuple[int, int, int]], n: int, gains: list[float], prior: bool = False) -> list[int]:
    """:func:`_best_cuts` over the allowed ``(start, end, characters)`` segments of ``n`` sentences
    (as :func:`_segments` gives them, by end): the fit script passes them precomputed."""
    best = [0.0] + [float("-inf")] * n
    back = [0] * (n + 1)
    for start, end, chars in segments:
        value = best[start] + (gains[start - 1] if start else 0.0)
        if prior:
            value += _length_prior(chars, end - start)
        if value > best[end]:
            best[end], back[end] = value, start
    starts = []
    end = n
    while end > 0:
        end = back[end]
        starts.append(end)
    return starts[::-1]


# A colon may close a paragraph that announces what follows (致詞內容如下：|…, 他指出：|…), and a
# bullet opens a list item (…＊|＊…): body text is also split after a full-width colon and before
# a bullet, outside quotations, with at least this much on either side, so that the gap model
# can cut there.
_COLON = re.compile("：|(?=[" + re.escape(_BULLETS) + "])")
MIN_BEFORE_COLON = 4
MIN_AFTER_COLON = 8


def _split_at_colons(text: str, pieces: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The lead and body pieces also cut after each colon that may end a paragraph (the rest as body)."""
    if not any(kind in ("body", "lead") and _COLON.search(text, lo, hi) for lo, hi, kind in pieces):
        return pieces
    blocked = _blocked(text)
    out: list[tuple[int, int, str]] = []
    for lo, hi, kind in pieces:
        start = lo
        if kind in ("body", "lead"):
            dateline = _DATELINE_AT_START.match(text, lo, hi)  # 央视网消息（新闻联播）：… stays one sentence
            for m in _COLON.finditer(text, dateline.end() if dateline else lo, hi):
                cut = m.end()
                if blocked[cut] or cut - start < MIN_BEFORE_COLON or hi - cut < MIN_AFTER_COLON or not text[cut:hi].strip():
                    continue
                out.append((start, cut, kind if start == lo else "body"))
                start = cut
        out.append((start, hi, kind if start == lo else "body"))
    return out


def _group(text: str, pieces: list[tuple[int, int, str]], lead: bool = True) -> list[tuple[int, int, str]]:
    """Merge runs of consecutive body sentences (after a lead or body piece) into paragraphs; other pieces stay."""
    spans: list[tuple[int, int, str]] = []
    for kind, run, first in _runs(_split_at_colons(text, pieces)):
        if kind not in ("body", "lead"):
            spans.append((*run[0], kind))
            continue
        starts = _segment(text, run, _opens_with_lead(text, kind, run, first))
        for k, s in enumerate(starts):
            e = starts[k + 1] if k + 1 < len(starts) else len(run)
            spans.append((run[s][0], run[e - 1][1], kind if k == 0 else "body"))
    if lead:
        first = next((i for i, s in enumerate(spans) if s[2] not in ("title", "caption")), None)
        if first is not None and spans[first][2] == "body" and _DATELINE_AT_START.match(text, spans[first][0]):
            spans[first] = (*spans[first][:2], "lead")
    return spans


def _opens_with_lead(text: str, kind: str, run: list[tuple[int, int]], first: bool) -> bool:
    """Whether a run's first sentence is the article's lead (a lead piece, or a dateline opening the text)."""
    return first and (kind == "lead" or bool(_DATELINE_AT_START.match(text, run[0][0])))


def _body_runs(text: str, pieces: list[tuple[int, int, str]]) -> Iterator[tuple[list[tuple[int, int]], bool]]:
    """(sentence spans, opens with the lead) of each run of body sentences that _group decodes."""
    for kind, run, first in _runs(_split_at_colons(text, pieces)):
        if kind in ("body", "lead"):
            yield run, _opens_with_lead(text, kind, run, first)


def _runs(pieces: list[tuple[int, int, str]]) -> Iterator[tuple[str, list[tuple[int, int]], bool]]:
    """(kind, sentence spans, opens the text) per run: a lead or body piece with the body pieces after it, or one other piece."""
    run: list[tuple[int, int]] = []
    kind, first = "", False
    for n, (lo, hi, k) in enumerate(pieces):
        if k == "body" and run:
            run.append((lo, hi))
            continue
        if run:
            yield kind, run, first
            run = []
        if k in ("body", "lead"):
            run, kind, first = [(lo, hi)], k, n == 0
        else:
            yield k, [(lo, hi)], n == 0
    if run:
        yield kind, run, first
