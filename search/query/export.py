"""Every matching paragraph of a search, in the search's order, as rows for a spreadsheet or a
program: CSV (one column per metadata key, lists joined with ``;``) or JSON lines (a ``metadata``
object as on hits). Rows are made as they are written, so the memory an export takes does not grow
with its rows (beyond the result's ids and scores, which ordering them needs); at most
:data:`MAX_ROWS`, then a note of how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..paragraphs.metadata import DATE_KEY
from .evaluate import result_order
from .live import LiveBuild
from .tabular import csv_chunks, jsonl_chunks

MAX_ROWS = 1_000_000
FORMATS = ("csv", "jsonl")
COLUMNS = ("article_id", "article_title", "date", "paragraph", "kind", "score", "text")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@dataclass
class Export:
    """A search's rows, ready to be written: ``total`` matching paragraphs, ``keys`` the metadata
    columns (every metadata key of the index but ``date``, which has its own)."""

    live: LiveBuild
    gids: np.ndarray
    scores: np.ndarray
    sort: str
    keys: tuple[str, ...]
    limit: int = MAX_ROWS

    @property
    def total(self) -> int:
        return len(self.gids)

    def rows(self) -> Iterator[dict]:
        """The rows in the search's order, at most ``limit``, each a dict like a hit's fields."""
        live = self.live
        order = result_order(live, self.gids, self.scores, self.sort, self.limit)[: self.limit]
        for i in order.tolist():
            gid = int(self.gids[i])
            paragraph = live.paragraph(gid)
            metadata = live.metadata.of_article(live.article_of[gid])
            date = metadata.get(DATE_KEY)
            yield {"article_id": paragraph["article_id"], "article_title": paragraph["article_title"],
                   "date": None if date is None else str(date), "paragraph": paragraph["n"],
                   "kind": paragraph["kind"], "score": round(float(self.scores[i]), 4), "text": paragraph["text"],
                   "metadata": metadata}

    def note(self) -> str | None:
        """``truncated at LIMIT of TOTAL`` when there are more rows than are written."""
        return f"truncated at {self.limit} of {self.total}" if self.total > self.limit else None

    def chunks(self, fmt: str) -> Iterator[bytes]:
        """The export as UTF-8 ``csv`` or ``jsonl``, a batch of rows at a time."""
        note = self.note()
        if fmt == "jsonl":
            extra = None if note is None else {"truncated": {"rows": self.limit, "total": self.total}}
            return jsonl_chunks(self.rows(), extra)
        header = COLUMNS + tuple(key for key in self.keys if key not in COLUMNS)
        return csv_chunks(header, (_csv_row(row, self.keys) for row in self.rows()), note)


def _csv_row(row: dict, keys: tuple[str, ...]) -> list:
    metadata = row["metadata"]
    return [*(row[column] if row[column] is not None else "" for column in COLUMNS),
            *(cell(metadata.get(key)) for key in keys if key not in COLUMNS)]


def cell(value: Any) -> str:
    """A metadata value in a CSV cell: a list's members joined with ``;``, booleans as JSON writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(cell, value))
    return str(value)
