"""Rows as CSV or JSON lines, written out a chunk of about :data:`CHUNK` characters at a time
(UTF-8 bytes), so that a long result is sent as it is read and never held whole."""

from __future__ import annotations

import csv
from typing import Iterable, Iterator, Sequence

import orjson

CHUNK = 1 << 13  # characters (CSV) or bytes (JSON lines) a chunk holds, about


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], note: str | None = None) -> Iterator[bytes]:
    """``header`` and ``rows`` as CSV (RFC 4180 quoting, ``\\r\\n`` line ends), then ``# note``."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.size >= CHUNK:
            yield buffer.drain()
    if note is not None:
        buffer.write(f"# {note}\r\n")
    yield buffer.drain()


def jsonl_chunks(rows: Iterable[dict], note: dict | None = None) -> Iterator[bytes]:
    """One JSON object a line, then ``note`` as a last line."""
    lines: list[bytes] = []
    size = 0
    for row in rows:
        lines.append(orjson.dumps(row))
        size += len(lines[-1]) + 1
        if size >= CHUNK:
            yield b"\n".join(lines) + b"\n"
            lines, size = [], 0
    if note is not None:
        lines.append(orjson.dumps(note))
    if lines:
        yield b"\n".join(lines) + b"\n"


class _Buffer:
    """What the CSV writer writes, as pieces, until drained."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text)

    def drain(self) -> bytes:
        text = "".join(self.pieces)
        self.pieces, self.size = [], 0
        return text.encode("utf-8", "replace")  # a lone surrogate (only a query can hold one) as ?
