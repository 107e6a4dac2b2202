"""Attention over time: per period, how many dated articles have a matching paragraph
(``matches``) against every dated article the query's filters admit (``articles``), and the share.

Periods are the calendar date an article states (its ``date`` as written): years ``2024``, months
``2024-03``, ISO weeks ``2024-W09`` (Monday to Sunday, the week's year being its Thursday's) and
days ``2024-03-05``. Each period is a consecutive integer, so that every period from the first to
the last appears (empty ones with zeros) and several series share one axis.
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref

import numpy as np

from ..formats.metadata import MetadataIndex
from .evaluate import articles_kept, evaluate
from .live import LiveBuild
from .parser import ParsedQuery

INTERVALS = ("year", "month", "week", "day")
MAX_QUERIES = 5
CSV_COLUMNS = ("query", "period", "matches", "articles", "share")
_EPOCH = dt.date(1970, 1, 1)
_periods: "weakref.WeakKeyDictionary[MetadataIndex, dict]" = weakref.WeakKeyDictionary()


def period_numbers(days: np.ndarray, interval: str) -> np.ndarray:
    """The period of each date (YYYYMMDD numbers, all valid) as a consecutive integer: the year,
    the month since year 0, the day since 1970-01-01, or the week since the one that began on
    Monday 1969-12-29."""
    days = np.asarray(days, dtype=np.int64)
    year, month = days // 10000, days // 100 % 100
    if interval == "year":
        return year
    if interval == "month":
        return year * 12 + month - 1
    since_epoch = ((year - 1970) * 12 + month - 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    since_epoch += days % 100 - 1
    if interval == "day":
        return since_epoch
    return (since_epoch + 3) // 7  # 1970-01-01 was a Thursday: day -3 is a Monday


def period_label(number: int, interval: str) -> str:
    """How a period number of :func:`period_numbers` is written."""
    if interval == "year":
        return f"{number:04d}"
    if interval == "month":
        return f"{number // 12:04d}-{number % 12 + 1:02d}"
    if interval == "day":
        return (_EPOCH + dt.timedelta(days=number)).isoformat()
    year, week, _ = (_EPOCH + dt.timedelta(days=7 * number - 3)).isocalendar()
    return f"{year:04d}-W{week:02d}"


def article_periods(metadata: MetadataIndex, interval: str) -> tuple[np.ndarray, np.ndarray]:
    """Which articles are dated, and each one's period (0 when undated), made once per build."""
    kept = _periods.setdefault(metadata, {})
    if interval not in kept:
        days = np.asarray(metadata.days)
        dated = days > 0
        periods = np.zeros(len(days), dtype=np.int64)
        periods[dated] = period_numbers(days[dated], interval)
        kept[interval] = dated, periods
    return kept[interval]


@functools.lru_cache(maxsize=64)
def axis(interval: str, first: int, count: int) -> tuple[str, ...]:
    """The labels of ``count`` periods from ``first`` on."""
    return tuple(period_label(first + i, interval) for i in range(count))


def timeline(live: LiveBuild, queries: list[tuple[str, ParsedQuery]], interval: str) -> dict:
    """One series per ``(query, parsed)``, on one axis of ``interval`` periods."""
    dated, periods = article_periods(live.metadata, interval)
    found = []
    for q, parsed in queries:
        admitted = articles_kept(live, parsed) & dated if parsed.filters else dated
        matched = np.zeros(len(dated), dtype=bool)  # a mask, not np.unique: no sort of the matches
        if not parsed.is_empty:
            matched[live.article_index[evaluate(live, parsed)[0]]] = True
        found.append((q, int(np.count_nonzero(matched)), int(np.count_nonzero(matched & ~dated)),
                      periods[matched & dated], periods[admitted]))
    spans = [(int(admitted.min()), int(admitted.max())) for *_, admitted in found if len(admitted)]
    first = min((lo for lo, _ in spans), default=0)
    count = max((hi for _, hi in spans), default=first - 1) - first + 1
    labels = axis(interval, first, count)
    series = []
    for q, total, undated, matched, admitted in found:
        matches = np.bincount(matched - first, minlength=count)[:count].tolist()
        articles = np.bincount(admitted - first, minlength=count)[:count].tolist()
        series.append({"query": q, "total": total, "undated": undated, "points": [
            {"period": label, "matches": m, "articles": a, "share": m / a if a else 0.0}
            for label, m, a in zip(labels, matches, articles)]})
    return {"interval": interval, "series": series}


def csv_rows(result: dict):
    """The rows of a timeline's CSV (after its header :data:`CSV_COLUMNS`)."""
    for series in result["series"]:
        for point in series["points"]:
            yield (series["query"], point["period"], point["matches"], point["articles"], point["share"])
