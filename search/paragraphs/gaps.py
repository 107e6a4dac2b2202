"""The gap model: features of the gap between two body sentences, and its score (the log-odds
that an editor started a new paragraph there) under the fitted weights.

Features are computed on a Simplified-character view of the run (OpenCC t2s, same length), so
that every cue, first-word group and bigram overlap reads Traditional text as it reads Simplified.
Lengths are given both in characters and relative to the run's own median sentence length: how
long a source writes its sentences is read off the article itself, not learnt per source.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections import Counter

from .cues import (
    _ANNOUNCE,
    _BULLETS,
    _CLAUSE_END,
    _DATE_START,
    _ENUMERATION,
    _FIRST_WORD,
    _PLACE_START,
    _SAID_END,
    _SOURCE_START,
    _SPEAKER,
    _TIME_WORD,
)
from .script import simplified_view
from .weights import fitted


def _bigrams(text: str, lo: int, hi: int) -> frozenset[str]:
    """Character bigrams of text[lo:hi]."""
    return frozenset(text[i:i + 2] for i in range(lo, hi - 1))


# Bin edges of the non-linear features: the first clause's length, and the
# overlap and novelty ratios below.
_CLAUSE_BINS = (4, 8, 14, 24)
_OVERLAP_BINS = (0.02, 0.05, 0.1, 0.2)
_NOVEL_BINS = (0.5, 0.7, 0.85, 0.95)
# Sentence lengths (characters).
_SENTENCE_BINS = (30, 60, 100, 160)
# A sentence's length over the run's median sentence length.
_RELATIVE_BINS = (0.5, 0.8, 1.25, 2.0)


#: Every feature name _gap_features produces (the fitted weights name no other).
FEATURE_NAMES = re.compile(
    r"bias|date|digit|quote_open|book_open|latin|source|place|speaker|opener_repeat|clause_parallel|subject_time|next_enum|next_bullet"
    r"|prev_(?:quote_end|exclaim|colon|colon_end|colon_quote|announce|said|len)|next_len|overlap2?|after_lead|clause_len"
    r"|(?:rel_prev|rel_next|clause|overlap|novel|novel_opening)_bin\d|prev\d_next\d"
    r"|w_(?:" + "|".join(sorted(set(_FIRST_WORD.values()))) + ")"
)


def _gap_features(
    text: str,
    run: list[tuple[int, int]],
    i: int,
    bigrams: list[frozenset[str]],
    lead: bool,
    seen: frozenset[str] | set[str] | None = None,
    median: float | None = None,
    openers: Counter[str] | None = None,
) -> dict[str, float]:
    """Features of the gap before sentence run[i] (i >= 1) of a run of body sentences.

    ``seen`` is the union of bigrams[:i] (computed when not given): the words
    the run has used so far, against which the next sentence's novelty is
    measured. ``median`` is the run's median sentence length, ``openers`` counts the
    run's sentence openings (likewise).
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
    if _ENUMERATION.match(text, lo, hi):
        f["next_enum"] = 1.0  # 一、/ （二）: a list item or a numbered point
    elif first and first in _BULLETS:
        f["next_bullet"] = 1.0
    if _SOURCE_START.match(text, lo, hi):
        f["source"] = 1.0
    if _PLACE_START.match(text, lo, hi):
        f["place"] = 1.0
    if group is None and _SPEAKER.match(text, lo, hi):
        f["speaker"] = 1.0
    # The run's recurring opening (总统指出，… 总统表示，…): a report's paragraphs often open
    # on the same subject. Cue words are left to their groups.
    if openers is None:
        openers = _openings(text, run)
    if group is None and not date and openers[_opening(text, lo)] >= 2:
        f["opener_repeat"] = 1.0
    # A first clause shaped like another's (分行业看，… 分产品看，…): parallel paragraphs.
    if (shape := _clause_shape(text, lo, hi)) and openers[shape] >= 2:
        f["clause_parallel"] = 1.0
    if (t := _TIME_WORD.search(text, lo + 1, min(hi, lo + 14))) and not _CLAUSE_END.search(text, lo, t.start()):
        f["subject_time"] = 1.0  # 国家统计局今天发布…: a new actor and time
    last = text[phi - 1]
    if last in "”」』":
        f["prev_quote_end"] = 1.0
    if "？" in text[phi - 2:phi] or "！" in text[phi - 2:phi]:
        f["prev_exclaim"] = 1.0
    if last == "：":
        # The decoder split the text after this colon: a quotation after it is what was announced
        # (他说：“…”), anything else may open a paragraph of its own (致詞全文如下：|…).
        f["prev_colon_quote" if first in "“「『" else "prev_colon_end"] = 1.0
        if _ANNOUNCE.search(text, max(plo, phi - 4), phi):
            f["prev_announce"] = 1.0  # 内容如下：|… / 大家好：|…
    elif "：" in text[plo:phi]:
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
    # How long the sentences around the gap are relative to the run's median sentence (and, above,
    # in characters). (Features of the run's own length, its crossings with the sentence
    # lengths, and the gap's position in the run are left out on purpose: they fitted one
    # outlet's layout, e.g. one-paragraph TV briefs or a one-sentence anchor lead, and lost on
    # sources written in other styles.)
    if median is None:
        median = statistics.median(h - l for l, h in run)
    median = max(median, 1.0)
    f[f"rel_prev_bin{bisect_right(_RELATIVE_BINS, (phi - plo) / median)}"] = 1.0
    f[f"rel_next_bin{bisect_right(_RELATIVE_BINS, (hi - lo) / median)}"] = 1.0
    f[f"prev{bisect_right(_SENTENCE_BINS, phi - plo)}_next{bisect_right(_SENTENCE_BINS, hi - lo)}"] = 1.0
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


def _opening(text: str, lo: int) -> str:
    """The first two characters of the sentence at lo (after any whitespace)."""
    while lo < len(text) and text[lo].isspace():
        lo += 1
    return text[lo:lo + 2]


def _clause_shape(text: str, lo: int, hi: int) -> str:
    """The first clause's first and last character and its length (分行业看， -> 分4看), when it is a
    short fronted phrase of 3 to 8 characters ended by a comma; else ''."""
    while lo < hi and text[lo].isspace():
        lo += 1
    end = _CLAUSE_END.search(text, lo, min(hi, lo + 9))
    if end is None or text[end.start()] not in "，," or not 3 <= end.start() - lo <= 8:
        return ""
    return f"{text[lo]}{end.start() - lo}{text[end.start() - 1]}"


def _openings(text: str, run: list[tuple[int, int]]) -> Counter[str]:
    """How many distinct sentences of the run open with each two characters, and with each first-clause shape."""
    distinct = {text[lo:hi].strip(): lo for lo, hi in run}  # a sentence said twice counts once
    spans = [(lo, lo + len(sentence)) for sentence, lo in distinct.items()]
    return Counter([_opening(text, lo) for lo, _ in spans] + [s for lo, hi in spans if (s := _clause_shape(text, lo, hi))])


def _run_features(text: str, run: list[tuple[int, int]], lead: bool) -> list[dict[str, float]]:
    """Features of every gap of a run of body sentences (before run[1], run[2], …), read in Simplified."""
    base = run[0][0]
    view = simplified_view(text[base:run[-1][1]])
    local = [(lo - base, hi - base) for lo, hi in run]
    bigrams = [_bigrams(view, lo, hi) for lo, hi in local]
    median = statistics.median(hi - lo for lo, hi in local)
    openers = _openings(view, local)
    seen = set(bigrams[0])
    out = []
    for i in range(1, len(local)):
        out.append(_gap_features(view, local, i, bigrams, lead, seen, median, openers))
        seen |= bigrams[i]
    return out


def _gap_scores(text: str, run: list[tuple[int, int]], lead: bool) -> list[float]:
    """Score (log-odds of a paragraph break) of the gap before each sentence run[1:]."""
    weights = fitted().gap
    return [sum(weights.get(k, 0.0) * v for k, v in f.items()) for f in _run_features(text, run, lead)]
