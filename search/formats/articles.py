"""A build's articles table, mapped: each article's id, title and source by its position, and the
position of an id — without parsing the table into per-article Python objects in every worker.

* ``articles.jsonl`` — one ``[id, title, source]`` JSON line per article, in position order;
* ``article_offsets.npy`` — where each line starts (one more at the end);
* ``article_order.npy`` — the positions sorted by id, for finding an id by bisection.
"""

from __future__ import annotations

import json
import mmap
import os
from array import array
from pathlib import Path

import numpy as np
import orjson

from .arrays import NpyAppender
from .layout import ARTICLE_OFFSETS, ARTICLE_ORDER, ARTICLES


class JsonLinesWriter:
    """Writes one JSON value a line and, in ``offsets``, where each line starts (and the end)."""

    def __init__(self, lines: Path, offsets: Path):
        self._lines = open(lines, "wb")
        self._offsets = NpyAppender(offsets, np.int64)
        self._offsets.append([0])
        self._at = 0

    def add(self, value) -> None:
        self._at += self._lines.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        self._offsets.append([self._at])

    def close(self) -> None:
        self._lines.close()
        self._offsets.close()


class JsonLines:
    """The values a :class:`JsonLinesWriter` wrote, by number, read from the mapped file."""

    def __init__(self, lines: Path, offsets: Path):
        # a memoryview of the mapped offsets: Python ints without numpy's bookkeeping per slice
        self._offsets = memoryview(np.asarray(np.load(offsets, mmap_mode="r")))
        with open(lines, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            self._lines = mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ) if size else b""

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def raw(self, number: int) -> bytes:
        """The JSON text of value ``number``, with its line break."""
        if not 0 <= number < len(self):
            raise IndexError(number)
        start, end = self._offsets[number], self._offsets[number + 1]
        return self._lines[start:end]

    def __getitem__(self, number: int):
        return orjson.loads(self.raw(number))


class ArticleTableWriter:
    """Takes the articles in position order; :meth:`close` writes the id order."""

    def __init__(self, build: Path):
        self.build = Path(build)
        self._rows = JsonLinesWriter(self.build / ARTICLES, self.build / ARTICLE_OFFSETS)
        self._ids: list[str] = []  # for the order at the end (the reader keeps a set of them anyway)

    def add(self, article_id: str, title: str, source: str) -> None:
        self._rows.add([article_id, title, source])
        self._ids.append(article_id)

    def close(self) -> None:
        self._rows.close()
        order = array("q", sorted(range(len(self._ids)), key=self._ids.__getitem__))
        np.save(self.build / ARTICLE_ORDER, np.frombuffer(order, dtype=np.int64) if order else np.zeros(0, np.int64))


class ArticleTable:
    """The articles table of one build, read in place (shared by the workers through the page cache)."""

    def __init__(self, build: Path):
        build = Path(build)
        self._rows = JsonLines(build / ARTICLES, build / ARTICLE_OFFSETS)
        self._order = np.load(build / ARTICLE_ORDER, mmap_mode="r")

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, position: int) -> tuple[str, str, str]:
        """(id, title, source) of the article at ``position``."""
        article_id, title, source = self._rows[position]
        return article_id, title, source

    def by_id(self) -> list[int]:
        """The positions of the articles found by id (in a generation: the live ones), in id order."""
        return np.asarray(self._order).tolist()

    def position_of(self, article_id: str) -> int | None:
        """The position of the article with this id, or None."""
        lo, hi = 0, len(self._order)
        while lo < hi:
            mid = (lo + hi) // 2
            found = self[int(self._order[mid])][0]
            if found == article_id:
                return int(self._order[mid])
            if found < article_id:
                lo = mid + 1
            else:
                hi = mid
        return None
