"""Rows as CSV or JSON lines, a batch of rows at a time (UTF-8 bytes), so that a long result is
written out as it is read and never held whole."""

from __future__ import annotations

import csv
import io
from typing import Iterable, Iterator, Sequence

import orjson

BATCH = 500  # rows a chunk


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], note: str | None = None) -> Iterator[bytes]:
    """``header`` and ``rows`` as CSV (RFC 4180 quoting, ``\\r\\n`` line ends), then ``# note``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % BATCH == 0:
            yield _drain(buffer)
    if note is not None:
        buffer.write(f"# {note}\r\n")
    yield _drain(buffer)


def jsonl_chunks(rows: Iterable[dict], note: dict | None = None) -> Iterator[bytes]:
    """One JSON object a line, then ``note`` as a last line."""
    lines: list[bytes] = []
    for row in rows:
        lines.append(orjson.dumps(row))
        if len(lines) == BATCH:
            yield b"\n".join(lines) + b"\n"
            lines = []
    if note is not None:
        lines.append(orjson.dumps(note))
    if lines:
        yield b"\n".join(lines) + b"\n"


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")
