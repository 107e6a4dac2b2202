"""The gap model: features of the gap between two body sentences, and its score (the log-odds
that an editor started a new paragraph there) under the fitted weights.

Features are computed on a Simplified-character view of the run (OpenCC t2s, same length), so
that every cue, first-word group and bigram overlap reads Traditional text as it reads Simplified.
Lengths are given both in characters and relative to the run's own median sentence length: how
long a source writes its sentences is read off the article itself, not learnt per source.
"""

from __future__ import annotations

import functools
import statistics
from bisect import bisect_right

from .cues import (
    _CLAUSE_END, _DATE_START, _FIRST_WORD, _PLACE_START, _SAID_END, _SOURCE_START, _SPEAKER, _TIME_WORD,
)
from .weights import fitted


@functools.cache
def _converter():
    import opencc  # imported lazily: no work at import time

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    """text in Simplified characters, character for character (same length, same positions)."""
    if text.isascii():
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase converted to another length (rare): convert character by character instead.
    return "".join(c if len(c := _converter().convert(ch)) == 1 else ch for ch in text)


def _bigrams(text: str, lo: int, hi: int) -> frozenset[str]:
    """Character bigrams of text[lo:hi]."""
    return frozenset(text[i:i + 2] for i in range(lo, hi - 1))


# Bin edges of the non-linear features: sentence length (characters), the
# length of the whole run of body text, the first clause's length, and the
# overlap and novelty ratios below.
_SENTENCE_BINS = (30, 60, 100, 160)
_RUN_BINS = (300, 600, 1000, 1600)
_CLAUSE_BINS = (4, 8, 14, 24)
_OVERLAP_BINS = (0.02, 0.05, 0.1, 0.2)
_NOVEL_BINS = (0.5, 0.7, 0.85, 0.95)
# A sentence's length over the run's median sentence length.
_RELATIVE_BINS = (0.5, 0.8, 1.25, 2.0)


def _gap_features(
    text: str,
    run: list[tuple[int, int]],
    i: int,
    bigrams: list[frozenset[str]],
    lead: bool,
    seen: frozenset[str] | set[str] | None = None,
    median: float | None = None,
) -> dict[str, float]:
    """Features of the gap before sentence run[i] (i >= 1) of a run of body sentences.

    ``seen`` is the union of bigrams[:i] (computed when not given): the words
    the run has used so far, against which the next sentence's novelty is
    measured. ``median`` is the run's median sentence length (likewise).
    """
    lo, hi = run[i]
    plo, phi = run[i - 1]
    while lo < hi and text[lo].isspace():
        lo += 1
    f: dict[str, float] = {"bias": 1.0}
    date = _DATE_START.match(text, lo, hi)
    word = text[lo:lo + 2] if text[lo:lo + 2] in _FIRST_WORD else text[lo:lo + 1]
    group = None if date else _FIRST_WORD.get(word)  # 当地时间 is a time, not 当地 (a place)
    if group:
        f["w_" + group] = 1.0
    first = text[lo:lo + 1]
    if date:
        f["date"] = 1.0
    elif first.isdigit():
        f["digit"] = 1.0
    if first in "“「":
        f["quote_open"] = 1.0
    elif first in "《":
        f["book_open"] = 1.0
    elif first.isascii() and first.isalpha():
        f["latin"] = 1.0
    if _SOURCE_START.match(text, lo, hi):
        f["source"] = 1.0
    if _PLACE_START.match(text, lo, hi):
        f["place"] = 1.0
    if group is None and _SPEAKER.match(text, lo, hi):
        f["speaker"] = 1.0
    if (t := _TIME_WORD.search(text, lo + 1, min(hi, lo + 14))) and not _CLAUSE_END.search(text, lo, t.start()):
        f["subject_time"] = 1.0  # 国家统计局今天发布…: a new actor and time
    last = text[phi - 1]
    if last in "”」』":
        f["prev_quote_end"] = 1.0
    if "？" in text[phi - 2:phi] or "！" in text[phi - 2:phi]:
        f["prev_exclaim"] = 1.0
    if "：" in text[plo:phi]:
        f["prev_colon"] = 1.0
    if _SAID_END.search(text, max(plo, phi - 6), phi):
        f["prev_said"] = 1.0
    f["next_len"] = min(hi - lo, 300) / 100
    f["prev_len"] = min(phi - plo, 300) / 100
    a, b = bigrams[i - 1], bigrams[i]
    f["overlap"] = overlap = len(a & b) / (len(a | b) or 1)
    if i >= 2:
        c = bigrams[i - 2]
        f["overlap2"] = len(c & b) / (len(c | b) or 1)
    if lead and i == 1:
        f["after_lead"] = 1.0
    # How long the run of body text is, and how long the sentences around the
    # gap are in it. (The gap's position in the run is left out on purpose: it
    # fits one outlet's layout, e.g. a one-sentence anchor lead, and gained
    # little while it lost on stories written in other styles.)
    run_len = run[-1][1] - run[0][0]
    f["run_len"] = min(run_len, 3000) / 1000
    rb = bisect_right(_RUN_BINS, run_len)
    pb = bisect_right(_SENTENCE_BINS, phi - plo)
    nb = bisect_right(_SENTENCE_BINS, hi - lo)
    f[f"run_bin{rb}"] = 1.0
    f[f"run{rb}_prev{pb}"] = 1.0
    f[f"run{rb}_next{nb}"] = 1.0
    f[f"prev{pb}_next{nb}"] = 1.0
    if "speaker" in f:
        f[f"speaker_run{rb}"] = 1.0
    # The same lengths relative to the run's median sentence: a source's own scale.
    if median is None:
        median = statistics.median(h - l for l, h in run)
    median = max(median, 1.0)
    f[f"rel_prev_bin{bisect_right(_RELATIVE_BINS, (phi - plo) / median)}"] = 1.0
    f[f"rel_next_bin{bisect_right(_RELATIVE_BINS, (hi - lo) / median)}"] = 1.0
    # How the next sentence opens: a short fronted phrase (会上，) or a long subject.
    clause = _CLAUSE_END.search(text, lo, hi)
    clause_len = (clause.start() if clause else hi) - lo
    f["clause_len"] = min(clause_len, 40) / 20
    f[f"clause_bin{bisect_right(_CLAUSE_BINS, clause_len)}"] = 1.0
    f[f"overlap_bin{bisect_right(_OVERLAP_BINS, overlap)}"] = 1.0
    # New words: the share of the next sentence's bigrams (and of its opening's)
    # not used so far in the run. Binned only: a paragraph often opens by
    # naming its topic in full again, so the effect is not monotone.
    if seen is None:
        seen = frozenset().union(*bigrams[:i])
    novel = len(b - seen) / (len(b) or 1)
    f[f"novel_bin{bisect_right(_NOVEL_BINS, novel)}"] = 1.0
    opening = _bigrams(text, lo, min(hi, lo + 10))
    f[f"novel_opening_bin{bisect_right(_NOVEL_BINS, len(opening - seen) / (len(opening) or 1))}"] = 1.0
    return f


def _run_features(text: str, run: list[tuple[int, int]], lead: bool) -> list[dict[str, float]]:
    """Features of every gap of a run of body sentences (before run[1], run[2], …), read in Simplified."""
    base = run[0][0]
    view = _simplified(text[base:run[-1][1]])
    local = [(lo - base, hi - base) for lo, hi in run]
    bigrams = [_bigrams(view, lo, hi) for lo, hi in local]
    median = statistics.median(hi - lo for lo, hi in local)
    seen = set(bigrams[0])
    out = []
    for i in range(1, len(local)):
        out.append(_gap_features(view, local, i, bigrams, lead, seen, median))
        seen |= bigrams[i]
    return out


def _gap_scores(text: str, run: list[tuple[int, int]], lead: bool) -> list[float]:
    """Score (log-odds of a paragraph break) of the gap before each sentence run[1:]."""
    weights = fitted().gap
    return [sum(weights.get(k, 0.0) * v for k, v in f.items()) for f in _run_features(text, run, lead)]
