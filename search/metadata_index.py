"""Per-article metadata as arrays: filters, date ranges, date sorting and facet counts, vectorised.

Built beside the Whoosh index in the same pass (Whoosh stores the same values in its fields; these
arrays answer the hot path without a Python loop over hits). In ``<build>/metadata/``:

* ``keys.json`` — per metadata key: its values as first written, in value-id order;
* ``<n>.articles.npy`` / ``<n>.values.npy`` — key number n's (article, value id) pairs, one per
  article and value (a list value gives one pair per member), sorted by value id;
* ``dates.npy`` — per article its date as UTC seconds (``NO_DATE`` when it has none), for sorting;
* ``days.npy`` — per article its date as written, as the number YYYYMMDD (0 when none), for
  ``date:`` filters and the ``year`` / ``month`` facets (the calendar date the article states).

Values are compared after normalisation (width, case, Traditional → Simplified, spaces), so
``source:总统府新闻`` finds ``總統府新聞``.
"""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .normalize import normalize, skeleton
from .paragraphs.metadata import DATE_KEY, parse_date

FOLDER = "metadata"
NO_DATE = np.iinfo(np.int64).min
DERIVED = ("year", "month")  # facets computed from the date
_WRITTEN_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")


def value_key(value: Any) -> str:
    """How a metadata value is compared: its text normalised, without spaces."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return skeleton(normalize(str(value)))


def _members(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class MetadataIndexBuilder:
    """Takes each article's metadata in article order and writes the arrays on :meth:`finish`."""

    def __init__(self, build: Path):
        self.folder = Path(build) / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self._keys: dict[str, dict[str, tuple[int, Any]]] = {}  # key -> normalised value -> (id, as written)
        self._pairs: dict[str, tuple[array, array]] = {}  # key -> (article numbers, value ids)
        self._dates = array("q")
        self._days = array("i")

    def add_article(self, metadata: dict[str, Any]) -> None:
        article = self.count
        self.count += 1
        for key, value in metadata.items():
            if key == DATE_KEY:
                continue
            values = self._keys.setdefault(key, {})
            articles, ids = self._pairs.setdefault(key, (array("q"), array("q")))
            for member in dict.fromkeys(str(m) if not isinstance(m, bool) else m for m in _members(value)):
                normal = value_key(member)
                if not normal:
                    continue
                entry = values.setdefault(normal, (len(values), member))
                articles.append(article)
                ids.append(entry[0])
        moment = parse_date(metadata.get(DATE_KEY))
        self._dates.append(int(moment.timestamp()) if moment else NO_DATE)
        written = _WRITTEN_DAY.match(str(metadata.get(DATE_KEY, ""))) if moment else None
        self._days.append(int("".join(written.groups())) if written else 0)

    def finish(self) -> None:
        keys = {}
        for n, (key, values) in enumerate(sorted(self._keys.items())):
            articles, ids = (np.frombuffer(a, dtype=np.int64) for a in self._pairs[key])
            order = np.argsort(ids, kind="stable")
            np.save(self.folder / f"{n}.articles.npy", articles[order].astype(np.int32))
            np.save(self.folder / f"{n}.values.npy", ids[order].astype(np.int32))
            keys[key] = [written if isinstance(written, (str, bool)) else str(written)
                         for _, written in sorted(values.values(), key=lambda entry: entry[0])]
        np.save(self.folder / "dates.npy", np.frombuffer(self._dates, dtype=np.int64))
        np.save(self.folder / "days.npy", np.frombuffer(self._days, dtype=np.int32))
        (self.folder / "keys.json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")


@dataclass(frozen=True)
class _Key:
    articles: np.ndarray  # int32, sorted by value id
    values: np.ndarray  # int32 value ids, sorted
    written: list  # value id -> the value as first written
    lookup: dict[str, int]  # normalised value -> value id


class MetadataIndex:
    """The metadata arrays of one build, memory-mapped. Article numbers are build positions."""

    def __init__(self, build: Path, n_articles: int):
        folder = Path(build) / FOLDER
        self.n_articles = n_articles
        self.keys: dict[str, _Key] = {}
        if not (folder / "keys.json").exists():  # a build without metadata
            self.dates = np.full(n_articles, NO_DATE, dtype=np.int64)
            self.days = np.zeros(n_articles, dtype=np.int32)
            return
        for n, (key, written) in enumerate(sorted(json.loads((folder / "keys.json").read_text("utf-8")).items())):
            self.keys[key] = _Key(np.load(folder / f"{n}.articles.npy", mmap_mode="r"),
                                  np.load(folder / f"{n}.values.npy", mmap_mode="r"),
                                  written, {value_key(v): i for i, v in enumerate(written)})
        self.dates = np.load(folder / "dates.npy", mmap_mode="r")
        self.days = np.load(folder / "days.npy", mmap_mode="r")

    @property
    def has_dates(self) -> bool:
        return bool(self.days.any())

    def filter_keys(self) -> frozenset[str]:
        """The keys a ``KEY:VALUE`` filter may name: the metadata keys present, and ``date`` when any article has one."""
        return frozenset(self.keys) | ({DATE_KEY} if self.has_dates else set())

    def articles_with(self, key: str, value: str) -> np.ndarray:
        """Boolean mask over articles: KEY equals VALUE after normalisation (any member of a list)."""
        mask = np.zeros(self.n_articles, dtype=bool)
        entry = self.keys.get(key)
        vid = entry.lookup.get(value_key(value)) if entry else None
        if vid is not None:
            lo, hi = np.searchsorted(entry.values, [vid, vid + 1])
            mask[entry.articles[lo:hi]] = True
        return mask

    def articles_dated(self, first: int | None, last: int | None) -> np.ndarray:
        """Boolean mask over articles dated within [first, last] (YYYYMMDD numbers, either may be open)."""
        days = np.asarray(self.days)
        mask = days > 0
        if first is not None:
            mask &= days >= first
        if last is not None:
            mask &= days <= last
        return mask

    def date_order(self, newest: bool) -> np.ndarray:
        """Per article a number that sorts ascending as the articles' dates do (newest first when
        ``newest``), undated articles last."""
        dates = np.asarray(self.dates)
        undated = dates == NO_DATE
        key = np.where(undated, 0, dates)
        key = -key if newest else key.copy()
        key[undated] = np.iinfo(np.int64).max
        return key

    def facet(self, key: str, article_counts: np.ndarray, limit: int = 50) -> list[dict]:
        """Values of ``key`` with how many matching paragraphs have them, most first (ties by value).

        ``article_counts[a]`` is the number of matching paragraphs of article a.
        """
        if key in DERIVED:
            days = np.asarray(self.days)
            dated = days > 0
            if not dated.any():
                return []
            period = days[dated] // (10000 if key == "year" else 100)
            counts = np.bincount(period, weights=article_counts[dated])
            found = np.flatnonzero(counts)
            labels = [f"{p:04d}" if key == "year" else f"{p // 100:04d}-{p % 100:02d}" for p in found]
            rows = [(int(counts[p]), label) for p, label in zip(found, labels)]
        else:
            entry = self.keys.get(key)
            if entry is None:
                return []
            counts = np.bincount(entry.values, weights=article_counts[entry.articles], minlength=len(entry.written))
            found = np.flatnonzero(counts)
            rows = [(int(counts[v]), entry.written[v]) for v in found]
        rows.sort(key=lambda row: (-row[0], str(row[1])))
        return [{"value": value, "count": count} for count, value in rows[:limit]]

    def metadata_keys(self) -> Iterable[str]:
        return self.keys.keys()
