"""Per-article metadata as arrays: filters, date ranges, date sorting and facet counts, vectorised.

Built beside the Whoosh index in the same pass (Whoosh stores the same values in its fields,
:mod:`search.segment.schema`; these arrays answer the hot path without a Python loop over hits). In ``<build>/metadata/``:

* ``keys.json`` — the metadata keys, in key-number order;
* ``<n>.written.jsonl`` / ``<n>.written_offsets.npy`` — key number n's values as first written, one
  JSON line each, in value-id order (read one at a time: opening a build costs nothing per value);
* ``<n>.articles.npy`` / ``<n>.values.npy`` — key number n's (article, value id) pairs, one per
  article and value (a list value gives one pair per member), sorted by value id;
* ``dates.npy`` — per article its date as UTC seconds (``NO_DATE`` when it has none), for sorting;
* ``days.npy`` — per article its date as written, as the number YYYYMMDD (0 when none), for
  ``date:`` filters and the ``year`` / ``month`` facets (the calendar date the article states);
* ``articles.jsonl`` / ``offsets.npy`` — each article's metadata as written, one JSON line each,
  read one article at a time (nothing per article is held in a worker's memory).

Values are compared after normalisation (width, case, Traditional → Simplified, spaces), so
``source:总统府新闻`` finds ``總統府新聞``.
"""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..paragraphs.metadata import DATE_KEY, parse_date
from ..text.normalize import normalize, skeleton
from .articles import JsonLines, JsonLinesWriter

FOLDER = "metadata"
NO_DATE = np.iinfo(np.int64).min
DERIVED = ("year", "month")  # facets computed from the date
RECENT_ARTICLES = 4096  # articles whose metadata a build keeps decoded
_WRITTEN_DAY = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")


def value_key(value: Any) -> str:
    """How a metadata value is compared: its text normalised, without spaces."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return skeleton(normalize(str(value)))


def members(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class MetadataIndexBuilder:
    """Takes each article's metadata in article order and writes the arrays on :meth:`finish`."""

    def __init__(self, build: Path):
        self.folder = Path(build) / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        # key -> normalised value -> (id, as written, rank of the article it is written as)
        self._keys: dict[str, dict[str, tuple[int, Any, int]]] = {}
        self._pairs: dict[str, tuple[array, array]] = {}  # key -> (article numbers, value ids)
        self._dates = array("q")
        self._days = array("i")
        self._lines = JsonLinesWriter(self.folder / "articles.jsonl", self.folder / "offsets.npy")

    def add_article(self, metadata: dict[str, Any], rank: int | None = None) -> None:
        """Add the next article's metadata. A value is shown as the article of the lowest ``rank``
        (by default, the first) wrote it: the generation passes each article's rank by id, so a
        value reads the same whatever order the articles were added in."""
        article = self.count
        self.count += 1
        rank = article if rank is None else rank
        self._lines.add(metadata)
        for key, value in metadata.items():
            if key == DATE_KEY:
                continue
            values = self._keys.setdefault(key, {})
            articles, ids = self._pairs.setdefault(key, (array("q"), array("q")))
            for member in dict.fromkeys(str(m) if not isinstance(m, bool) else m for m in members(value)):
                normal = value_key(member)
                if not normal:
                    continue
                entry = values.get(normal)
                if entry is None:
                    entry = values[normal] = (len(values), member, rank)
                elif rank < entry[2]:
                    entry = values[normal] = (entry[0], member, rank)
                articles.append(article)
                ids.append(entry[0])
        moment = parse_date(metadata.get(DATE_KEY))
        self._dates.append(int(moment.timestamp()) if moment else NO_DATE)
        written = _WRITTEN_DAY.match(str(metadata.get(DATE_KEY, ""))) if moment else None
        self._days.append(int("".join(written.groups())) if written else 0)

    def finish(self) -> None:
        self._lines.close()
        keys = sorted(self._keys)
        for n, key in enumerate(keys):
            articles, ids = (np.frombuffer(a, dtype=np.int64) for a in self._pairs[key])
            order = np.argsort(ids, kind="stable")
            np.save(self.folder / f"{n}.articles.npy", articles[order].astype(np.int32))
            np.save(self.folder / f"{n}.values.npy", ids[order].astype(np.int32))
            written = JsonLinesWriter(self.folder / f"{n}.written.jsonl", self.folder / f"{n}.written_offsets.npy")
            for _, value, _ in sorted(self._keys[key].values(), key=lambda entry: entry[0]):
                written.add(value if isinstance(value, (str, bool)) else str(value))
            written.close()
        np.save(self.folder / "dates.npy", np.frombuffer(self._dates, dtype=np.int64))
        np.save(self.folder / "days.npy", np.frombuffer(self._days, dtype=np.int32))
        (self.folder / "keys.json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")


@dataclass
class _Key:
    articles: np.ndarray  # int32, sorted by value id
    values: np.ndarray  # int32 value ids, sorted
    written: Sequence  # value id -> the value as first written (mapped JSON lines, or a list)
    _lookup: dict[str, int] | None = None

    def value_id(self, value: str) -> int | None:
        """The id of the value equal to ``value`` after normalisation; the normalised values are
        made on the first filter by this key, not when a build is opened."""
        if self._lookup is None:
            self._lookup = {value_key(v): i for i, v in enumerate(self.written)}
        return self._lookup.get(value_key(value))


class MetadataIndex:
    """The metadata arrays of one build, memory-mapped. Article numbers are build positions."""

    def __init__(self, build: Path, n_articles: int):
        folder = Path(build) / FOLDER
        self.n_articles = n_articles
        self.keys: dict[str, _Key] = {}
        self._orders: dict[bool, np.ndarray] = {}
        self._facet_ids: dict[str, tuple[np.ndarray, list | None]] = {}  # key -> per-article value ids, values
        self._recent: dict[int, dict[str, Any]] = {}  # article -> metadata, oldest first
        if not (folder / "keys.json").exists():  # a build without metadata
            self.dates = np.full(n_articles, NO_DATE, dtype=np.int64)
            self.days = np.zeros(n_articles, dtype=np.int32)
            self.has_dates = False
            self._filter_keys = frozenset()
            return
        keys = json.loads((folder / "keys.json").read_text("utf-8"))
        for n, key in enumerate(sorted(keys)):
            # a build of format 8 before this change lists the values in keys.json itself
            written = (keys[key] if isinstance(keys, dict)
                       else JsonLines(folder / f"{n}.written.jsonl", folder / f"{n}.written_offsets.npy"))
            self.keys[key] = _Key(np.load(folder / f"{n}.articles.npy", mmap_mode="r"),
                                  np.load(folder / f"{n}.values.npy", mmap_mode="r"),
                                  written)
        self.dates = np.load(folder / "dates.npy", mmap_mode="r")
        self.days = np.load(folder / "days.npy", mmap_mode="r")
        #: whether any article is dated (then ``date`` is a filter key and year/month are facets)
        self.has_dates = bool(np.asarray(self.days).any())
        self._filter_keys = frozenset(self.keys) | ({DATE_KEY} if self.has_dates else set())
        self._lines = JsonLines(folder / "articles.jsonl", folder / "offsets.npy")  # mapped, not copied

    def of_article(self, article: int) -> dict[str, Any]:
        """Article number ``article``'s metadata as written (the same dict for the same article
        while it is among the most recently read: do not change it)."""
        if not self._filter_keys:
            return {}
        found = self._recent.get(article)
        if found is None:
            found = self._lines[article]
            if len(self._recent) >= RECENT_ARTICLES:
                self._recent.pop(next(iter(self._recent)))
            self._recent[article] = found
        return found

    def filter_keys(self) -> frozenset[str]:
        """The keys a ``KEY:VALUE`` filter may name: the metadata keys present, and ``date`` when any article has one."""
        return self._filter_keys

    def articles_with(self, key: str, value: str) -> np.ndarray:
        """Boolean mask over articles: KEY equals VALUE after normalisation (any member of a list)."""
        mask = np.zeros(self.n_articles, dtype=bool)
        entry = self.keys.get(key)
        vid = entry.value_id(value) if entry else None
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
        ``newest``), undated articles last. Computed once per build and direction."""
        found = self._orders.get(newest)
        if found is None:
            found = self._orders[newest] = self._date_order(newest)
        return found

    def _date_order(self, newest: bool) -> np.ndarray:
        dates = np.asarray(self.dates)
        undated = dates == NO_DATE
        key = np.where(undated, 0, dates)
        key = -key if newest else key.copy()
        key[undated] = np.iinfo(np.int64).max
        return key

    def facet(self, key: str, articles: np.ndarray, limit: int = 50) -> list[dict]:
        """Values of ``key`` with how many matching paragraphs have them, most first (ties by value).

        ``articles`` holds the article of each matching paragraph. The work is in the number of
        matching paragraphs, through a per-article value id made once per build and key.
        """
        found = self._facet_ids.get(key)
        if found is None:
            found = self._facet_ids[key] = self._value_ids(key)
        ids, labels = found
        if labels is None:  # a key with several values per article: count its (article, value) pairs
            entry = self.keys[key]
            per_article = np.bincount(articles, minlength=self.n_articles)
            counts = np.bincount(entry.values, weights=per_article[entry.articles], minlength=len(entry.written))
            rows = [(int(counts[v]), entry.written[v]) for v in np.flatnonzero(counts)]
        elif not len(labels):
            return []
        else:
            counts = np.bincount(ids[articles], minlength=len(labels) + 1)[1:]  # id 0: no value
            rows = [(int(counts[v]), labels[v]) for v in np.flatnonzero(counts)]
        rows.sort(key=lambda row: (-row[0], str(row[1])))
        return [{"value": value, "count": count} for count, value in rows[:limit]]

    def _value_ids(self, key: str) -> tuple[np.ndarray, list | None]:
        """Per article 1 + the id of its value of ``key`` (0: none) and the values by id; labels
        None when an article may have several values (a list)."""
        if key in DERIVED:
            days = np.asarray(self.days)
            periods = days // (10000 if key == "year" else 100)
            found, inverse = np.unique(periods, return_inverse=True)
            ids = inverse.astype(np.int32) + (0 if found.size and found[0] == 0 else 1)
            found = found[found > 0]
            labels = [f"{p:04d}" if key == "year" else f"{p // 100:04d}-{p % 100:02d}" for p in found.tolist()]
            return ids, labels
        entry = self.keys.get(key)
        if entry is None:
            return np.zeros(self.n_articles, dtype=np.int32), []
        articles = np.asarray(entry.articles)
        if len(np.unique(articles)) != len(articles):
            return np.zeros(0, dtype=np.int32), None
        ids = np.zeros(self.n_articles, dtype=np.int32)
        ids[articles] = np.asarray(entry.values) + 1
        return ids, list(entry.written)

    def metadata_keys(self) -> Iterable[str]:
        return self.keys.keys()
